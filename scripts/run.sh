#!/usr/bin/env bash
# Quick start: install, ingest the sample articles, serve the chat UI on http://127.0.0.1:7860
# (no API key and no internet needed). Extra arguments go to `assistant serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
# --inexact: install what serving needs but remove nothing, so that switching between run.sh and
# test.sh (which adds the dev packages) installs nothing after the first time.
bash scripts/bootstrap.sh --no-dev --inexact
export PATH="$HOME/.local/bin:$PATH" GRADIO_ANALYTICS_ENABLED=False
uv run --frozen --no-dev assistant ingest data/articles
exec uv run --frozen --no-dev assistant serve "$@"
