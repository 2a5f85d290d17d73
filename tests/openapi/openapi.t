#!/usr/bin/env bash
# The OpenAPI document against the real binary ($TCA_BIN, default build/TechChallengeApp):
# conformance of every route and error case (conformance.test.mjs) and the API page in headless
# Debian chromium (page.test.mjs), the observability samples (observability.test.mjs). prism.t
# runs the conformance suite again through Prism's validating proxy; alerts.t the alert rules. Prints
# plain TAP (tests/lib/tap-reporter.mjs).
set -euo pipefail
cd "$(dirname "$0")"
for need in node python3 /usr/bin/chromium; do
  command -v "$need" >/dev/null || {
    echo "Bail out! $need missing: run 'make test' (installs deps/apt-openapi.txt)"
    exit 1
  }
done
# shellcheck source=tests/openapi/lib/ensure-npm.sh
. lib/ensure-npm.sh
export TCA_BIN=${TCA_BIN:-$(cd ../.. && pwd)/build/TechChallengeApp}
exec timeout 600 node --test --test-reporter=../lib/tap-reporter.mjs --test-concurrency=1 \
  ./*.test.mjs
