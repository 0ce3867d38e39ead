#!/usr/bin/env bash
# Install everything the tests need (the locked Python environment, and Debian's Chromium, Redis and
# PostgreSQL for the browser, shared-rate-limit and server word index tests), then run the test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh  # not sourced: our arguments are for pytest, not for uv sync
export PATH="$HOME/.local/bin:$PATH" GRADIO_ANALYTICS_ENABLED=False
# Debian packages the tests run for real: Chromium (browser tests), Redis (shared rate limits) and
# PostgreSQL (the word index on a server).
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing="$missing postgresql"
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing$missing for the tests..." >&2
  ($sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) \
    || echo "Could not install$missing: the tests that need it will be skipped." >&2
fi
exec uv run --frozen pytest "$@"
