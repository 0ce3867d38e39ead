#!/usr/bin/env bash
# Shared by run.sh and test.sh: make sure uv exists, then install the locked environment.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"  # where `pip install --user` puts uv
if ! command -v uv >/dev/null 2>&1; then
  echo "Installing uv (the Python package manager) with pip..." >&2
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
fi
uv sync --frozen "$@"
