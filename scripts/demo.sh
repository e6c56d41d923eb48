#!/usr/bin/env bash
# Install everything, then run the demo: ingest the demo knowledge base and answer a question.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/tandem demo "$@"
