#!/usr/bin/env bash
# The main job on a fresh machine: set up, ingest the illustrative demo corpus, build its index and
# serve the API and the officers' web page (default http://127.0.0.1:8000/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
M=.venv/bin/matcher
$M ingest corpora/demo --spec corpora/demo/sources.toml --out var/demo/corpus --quiet
$M build --corpus var/demo/corpus --index var/demo/index --quiet
# an admin key for the page, in the one state database that `matcher keys` and `matcher serve` share
# (MATCHER_DATABASE_URL, default var/state.sqlite; it keeps only hashes, so a new key is made on every run)
KEY=$($M keys create --role admin --label "scripts/demo.sh" --json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["key"])')
echo "serving on http://${HOST:-127.0.0.1}:${PORT:-8000}/  (Ctrl-C to stop)" >&2
echo "Open http://${HOST:-127.0.0.1}:${PORT:-8000}/ and enter this key: $KEY" >&2
exec $M serve --index var/demo/index --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
