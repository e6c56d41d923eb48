#!/usr/bin/env bash
# Create .venv (Python 3.11) and install Tandem with its bundled models. Safe to re-run.
# llama-cpp-python compiles from source the first time (about 4 minutes on 2 cores); pip caches
# the built wheel, so later installs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "error: Tandem needs Python 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
"${PIP[@]}" install "torch==2.13.0"
# llama.cpp is built once into a wheelhouse, for a portable target rather than -march=native: a
# native build dies with "Illegal instruction" where the CPU advertises instructions its VM cannot
# run (AMX, some AVX-512), and pip's cache would hand that native wheel to every later install.
WHEELS="${TANDEM_WHEELHOUSE:-$HOME/.cache/tandem/wheels}"
PORTABLE="-DLLAVA_BUILD=OFF"
if [ "$(uname -m)" = "x86_64" ]; then
  PORTABLE="$PORTABLE -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
fi
if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python (about 4 minutes on 2 cores, once)" >&2
  CMAKE_ARGS="${CMAKE_ARGS:-$PORTABLE}" "${PIP[@]}" wheel --no-cache-dir --no-deps -w "$WHEELS" \
    "llama-cpp-python>=0.3.16"
fi
"${PIP[@]}" install --no-deps --force-reinstall "$(ls "$WHEELS"/llama_cpp_python-*.whl | sort -V | tail -1)"
"${PIP[@]}" install -e ".[dev]"
