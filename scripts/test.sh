#!/usr/bin/env bash
# Install everything, then lint, type-check and run the whole test suite (real models, offline).
# Inner loop while developing: .venv/bin/python -m pytest -m "not slow" (under a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-chromium.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check src tests bench
.venv/bin/mypy  # src/tandem, configured in pyproject.toml
.venv/bin/python -m pytest "$@"
