#!/usr/bin/env bash
# The OpenAPI document against the real binary ($TCA_BIN, default build/TechChallengeApp):
# conformance of every route and error case (conformance.test.mjs) and the API page in headless
# Debian chromium (page.test.mjs). Prints TAP from node's test runner.
set -euo pipefail
cd "$(dirname "$0")"
for need in node python3 /usr/bin/chromium; do
  command -v "$need" >/dev/null || {
    echo "Bail out! $need missing: run 'make test' (installs deps/apt-openapi.txt)"
    exit 1
  }
done
if [ ! -d node_modules/ajv ] || [ ! -d node_modules/playwright-core ]; then
  echo "# npm ci in tests/openapi" >&2
  SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error >&2 || {
    echo "Bail out! npm ci failed in tests/openapi"
    exit 1
  }
fi
export TCA_BIN=${TCA_BIN:-$(cd ../.. && pwd)/build/TechChallengeApp}
exec timeout 600 node --test --test-reporter=tap --test-concurrency=1 ./*.test.mjs
