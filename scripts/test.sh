#!/usr/bin/env bash
# The test suite on a fresh machine: set up, lint, run pytest offline (no model hub at run time).
# Tests that read real data from ../shared/data skip with a reason when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check matcher service tests bench scripts
.venv/bin/lint-imports --no-cache  # the layers of ARCHITECTURE.md (contracts in pyproject.toml)
exec .venv/bin/python -m pytest -q -rs "$@"
