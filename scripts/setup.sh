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
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
"${PIP[@]}" install -e ".[dev]"
