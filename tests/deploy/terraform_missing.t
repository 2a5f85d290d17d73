#!/usr/bin/env bash
# terraform_missing.t — the Terraform tests on a machine without terraform (a fresh Debian 12):
# tests/deploy/terraform.t and plan.t are skipped visibly with the install hint, unless
# TCA_REQUIRE_TERRAFORM=1 (CI), where they fail. Runs them with every PATH entry that
# holds a terraform removed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

path=''
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ ! -x "$d/terraform" ] && path=${path:+$path:}$d
done

n=0
fails=0
check() {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}

for t in terraform.t plan.t; do
  out=$(env -u TCA_REQUIRE_TERRAFORM PATH="$path" "$root/tests/deploy/$t" 2>&1)
  rc=$?
  printf '%s\n' "$out" | sed 's/^/# /'
  [ "$rc" = 0 ] && grep -q '^1\.\.0 # SKIP terraform not on PATH: install Terraform' <<<"$out"
  check $? "$t without terraform: exit 0 with a visible skip plan and the install hint"

  out=$(TCA_REQUIRE_TERRAFORM=1 PATH="$path" "$root/tests/deploy/$t" 2>&1)
  rc=$?
  printf '%s\n' "$out" | sed 's/^/# /'
  [ "$rc" != 0 ] && grep -q '^not ok 1 - terraform is on PATH' <<<"$out" && ! grep -q SKIP <<<"$out"
  check $? "$t without terraform and TCA_REQUIRE_TERRAFORM=1: a failure, not a skip"
done

echo "1..$n"
echo "# terraform_missing.t: $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
