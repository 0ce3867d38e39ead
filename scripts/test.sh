#!/usr/bin/env bash
# Install everything the tests need (the locked Python environment, and Debian's Chromium for the
# browser tests), then run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh  # not sourced: our arguments are for pytest, not for uv sync
export PATH="$HOME/.local/bin:$PATH" GRADIO_ANALYTICS_ENABLED=False
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Chromium for the browser tests..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "Could not install chromium: the browser tests will be skipped." >&2
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || echo "Could not install chromium: the browser tests will be skipped." >&2
  else
    echo "No /usr/bin/chromium and no root: the browser tests will be skipped." >&2
  fi
fi
exec uv run --frozen pytest "$@"
