# shellcheck shell=bash
# ensure-npm.sh — sourced by the tests/openapi/*.t scripts (from tests/openapi): runs `npm ci`
# when any dependency in package.json is missing from node_modules (make test's bootstrap
# normally did it already). Never contacts anything when all are there.
# shellcheck disable=SC2016 # JavaScript, not shell, in single quotes
if ! node -e '
  const fs = require("fs");
  const deps = Object.keys(require("./package.json").dependencies);
  process.exit(deps.every((d) => fs.existsSync(`node_modules/${d}/package.json`)) ? 0 : 1);
' 2>/dev/null; then
  echo "# npm ci in tests/openapi" >&2
  SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error >&2 || {
    echo "Bail out! npm ci failed in tests/openapi"
    exit 1
  }
fi
