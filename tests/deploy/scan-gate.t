#!/usr/bin/env bash
# scan-gate.t — deploy/terraform/scripts/ecr-scan-gate.sh against a stand-in `aws`: critical
# findings (basic and enhanced) fail the release unless the allow-list accepts them, an expired
# entry stops counting, an entry without a date is refused, and an unfinished or failed scan
# fails.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

script=$root/deploy/terraform/scripts/ecr-scan-gate.sh
stub aws <<'EOF2'
echo "aws $*" >>"$CALLS"
case "$1 $2" in
"ecr wait") exit "${FAKE_WAIT_RC:-0}" ;;
"ecr describe-image-scan-findings")
  case "$*" in
  *imageScanStatus*) echo "${FAKE_STATUS:-COMPLETE}" ;;
  *enhancedFindings*) printf '%s\n' "${FAKE_CRITICAL:-}" ;;
  *) echo "query without enhanced findings" >&2; exit 1 ;;
  esac ;;
*) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
EOF2

allow=$tmp/allow.txt
cat >"$allow" <<'EOF2'
# comment
CVE-2026-0001  2026-12-31  no fixed package in bookworm yet; not reachable (no such code path)
CVE-2025-0002  2026-01-31  expired entry
EOF2
run() { : >"$CALLS"; env ALLOWLIST="$allow" TODAY=2026-12-01 "$@" "$script" tca abc >"$tmp/out" 2>&1; }

run; rc=$?
[ $rc -eq 0 ] && called '^aws ecr wait image-scan-complete --repository-name tca --image-id imageTag=abc'
t "no critical finding: passes, after waiting for the scan" $?
run FAKE_CRITICAL="None"; rc=$?
t "the CLI's 'None' (no findings) passes" $rc
run FAKE_CRITICAL="CVE-2026-0001"; rc=$?
[ $rc -eq 0 ] && grep -q 'accepted by the allow-list' "$tmp/out"
t "a critical finding on the allow-list passes, and is named" $?
run FAKE_CRITICAL=$'CVE-2026-0001\tCVE-2026-9999'; rc=$?
[ $rc -ne 0 ] && grep -q 'CVE-2026-9999' "$tmp/out" && ! grep -q 'finding(s) not in.*CVE-2026-0001' "$tmp/out"
t "a critical finding not on the list fails, naming only it" $?
run FAKE_CRITICAL="CVE-2025-0002"; rc=$?
[ $rc -ne 0 ] && grep -q 'expired on 2026-01-31' "$tmp/out"
t "an expired allow-list entry no longer counts" $?
run FAKE_WAIT_RC=255; rc=$?
[ $rc -ne 0 ] && grep -q 'did not complete' "$tmp/out"
t "a scan that does not complete fails" $?
run FAKE_STATUS=FAILED; rc=$?
[ $rc -ne 0 ] && grep -q "'FAILED'" "$tmp/out"
t "a failed scan fails" $?
echo "CVE-2026-0003 because" >>"$allow"
run FAKE_CRITICAL="CVE-2026-0003"; rc=$?
[ $rc -ne 0 ] && grep -q 'needs a review-by date' "$tmp/out"
t "an allow-list entry without a review-by date is refused" $?
{ grep -Ev '^[[:space:]]*(#|$)' "$root/deploy/cve-allowlist.txt" || true; } |
  awk '$2 !~ /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/ { bad = 1 } END { exit bad }'
t "the committed deploy/cve-allowlist.txt is well formed" $?

done_testing scan-gate.t
