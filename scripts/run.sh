#!/usr/bin/env bash
# Quick start: install, ingest the sample articles, serve the chat UI on http://127.0.0.1:7860
# (no API key and no internet needed). Extra arguments go to `assistant serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-dev
export PATH="$HOME/.local/bin:$PATH" GRADIO_ANALYTICS_ENABLED=False
uv run --frozen --no-dev assistant ingest data/articles
exec uv run --frozen --no-dev assistant serve "$@"
