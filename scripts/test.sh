#!/usr/bin/env bash
# Install everything, then lint and run the whole test suite (real models, offline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-chromium.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest "$@"
