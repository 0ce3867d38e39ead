#!/usr/bin/env bash
# Install everything the tests need (the locked Python environment; Debian's Chromium, Redis and
# PostgreSQL for the browser, shared-rate-limit and server word index tests; axe-core from the npm
# registry for the accessibility checks), then run the test suite.
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
# axe-core (the accessibility checks of the browser tests) from the npm registry, at the version locked in
# tests/browser/axe/package-lock.json; without Node.js or the registry those checks are skipped.
if [ ! -f tests/browser/axe/node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --prefix tests/browser/axe --no-audit --no-fund --loglevel=error >/dev/null \
      || echo "Could not install axe-core with npm: the accessibility checks will be skipped." >&2
  else
    echo "npm is missing (install Node.js): the accessibility checks will be skipped." >&2
  fi
fi
exec uv run --frozen pytest "$@"
