#!/usr/bin/env bash
# redocly lint of assets/swagger/swagger.json with the recommended ruleset (tests/openapi/
# redocly.yaml; single justified exceptions in .redocly.lint-ignore.yaml). Fails on any error
# *or* warning. Telemetry and update checks are off: the test talks to nothing.
set -euo pipefail
cd "$(dirname "$0")"
echo "1..2"
# shellcheck source=tests/openapi/lib/ensure-npm.sh
. lib/ensure-npm.sh
out=$(mktemp)
trap 'rm -f "$out"' EXIT
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1
rc=0
timeout 120 node_modules/.bin/redocly lint --format=json --config redocly.yaml \
  ../../assets/swagger/swagger.json >"$out" 2>/dev/null || rc=$?
# shellcheck disable=SC2016 # JavaScript, not shell, in single quotes
totals=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const p of r.problems) console.log(`# ${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
  console.log(`${r.totals.errors} ${r.totals.warnings} ${r.totals.ignored}`);
' "$out") || { echo "not ok 1 - redocly lint ran (exit $rc, no JSON report)"; echo "not ok 2 - no warnings"; exit 1; }
echo "$totals" | sed '$d'
read -r errors warnings ignored < <(echo "$totals" | tail -n 1)
if [ "$rc" -eq 0 ] && [ "$errors" -eq 0 ]; then
  echo "ok 1 - redocly lint: 0 errors ($ignored justified exceptions in .redocly.lint-ignore.yaml)"
else
  echo "not ok 1 - redocly lint: exit $rc, $errors errors"
fi
if [ "$warnings" -eq 0 ]; then
  echo "ok 2 - redocly lint: 0 warnings"
else
  echo "not ok 2 - redocly lint: $warnings warnings"
fi
