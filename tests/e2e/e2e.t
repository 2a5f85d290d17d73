#!/usr/bin/env bash
# Browser tests of the web UI: headless Debian chromium (playwright-core) against the real
# binary ($TCA_BIN, default build/TechChallengeApp). Prints TAP from node's test runner.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "Bail out! /usr/bin/chromium missing: run 'make test' (installs deps/apt-e2e.txt)"
  exit 1
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  echo "# npm ci in tests/e2e" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2 || {
    echo "Bail out! npm ci failed in tests/e2e"
    exit 1
  }
fi
export TCA_BIN=${TCA_BIN:-$(cd ../.. && pwd)/build/TechChallengeApp}
# The embedded store directly; PostgreSQL inside a throwaway cluster (tests/lib/with-pg.sh).
# One node run, so the TAP plan covers both; plain TAP (tests/lib/tap-reporter.mjs: node's own
# reporter writes failure details that prove cannot parse).
exec timeout 900 ../lib/with-pg.sh node --test --test-reporter=../lib/tap-reporter.mjs \
  --test-concurrency=1 ./*.test.mjs
