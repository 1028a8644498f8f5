#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv. Idempotent: re-installs only when
# pyproject.toml changed. torch is pinned to the CPU build 2.13.0 and installed first, so nothing
# else can pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV=${MATCHER_VENV:-.venv}
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "setting up $VENV (first run: a few minutes) ..." >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
"$VENV/bin/python" -m pip install --quiet -e ".[dev,ray]"  # ray: the optional Ray runner, tested too
rm -f "$VENV"/.installed-*
touch "$stamp"
