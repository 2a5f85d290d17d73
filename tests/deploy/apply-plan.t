#!/usr/bin/env bash
# apply-plan.t — deploy/terraform/scripts/apply-plan.sh against a stand-in `terraform`: the
# reviewed plan is applied when the state is the one it was made against; on a re-run after it
# was applied, a fresh plan with no changes lets the release go on, and one with changes (never
# reviewed) stops it.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

script=$root/deploy/terraform/scripts/apply-plan.sh
stub terraform <<'EOF2'
echo "terraform $*" >>"$CALLS"
case "$2" in
state) [ -n "${FAKE_SERIAL:-}" ] && printf '{"version":4,"lineage":"L1","serial":%s}\n' "$FAKE_SERIAL"; exit 0 ;;
apply) exit "${FAKE_APPLY_RC:-0}" ;;
plan) exit "${FAKE_PLAN_RC:-0}" ;;
esac
exit 1
EOF2
export TF_DIR=$tmp/stack
mkdir -p "$TF_DIR"
: >"$TF_DIR/tfplan"
run() { : >"$CALLS"; env "$@" "$script" "${args[@]}" >"$tmp/out" 2>&1; }

args=(record tfplan)
run FAKE_SERIAL=7; rc=$?
[ $rc -eq 0 ] && [ "$(cat "$TF_DIR/tfplan.state")" = "L1 7" ]
t "record: notes the lineage and serial the plan was made against" $?
args=(apply tfplan -var-file=/x.tfvars -var=image_tag=abc)
run FAKE_SERIAL=7; rc=$?
[ $rc -eq 0 ] && called 'apply -input=false -no-color tfplan$' && ! called ' plan '
t "apply: state unchanged -> applies exactly the saved plan" $?
run FAKE_SERIAL=7 FAKE_APPLY_RC=1; rc=$?
[ $rc -ne 0 ]
t "apply: a failed apply fails" $?
run FAKE_SERIAL=8 FAKE_PLAN_RC=0; rc=$?
[ $rc -eq 0 ] && ! called ' apply ' && called 'plan -input=false -no-color -detailed-exitcode -var-file=/x.tfvars -var=image_tag=abc' &&
  grep -q 'no changes left' "$tmp/out"
t "re-run after the plan was applied: plans again with the same variables, no changes -> goes on" $?
run FAKE_SERIAL=8 FAKE_PLAN_RC=2; rc=$?
[ $rc -ne 0 ] && ! called ' apply ' && grep -q 'nobody reviewed' "$tmp/out"
t "re-run with new changes: stops, applies nothing unreviewed" $?
run FAKE_SERIAL=8 FAKE_PLAN_RC=1; rc=$?
[ $rc -ne 0 ] && ! called ' apply '
t "re-run whose plan fails: fails" $?

args=(record tfplan)
run FAKE_SERIAL=; rc=$?
[ $rc -eq 0 ] && [ "$(cat "$TF_DIR/tfplan.state")" = "none 0" ]
t "record against an empty state (first apply)" $?
rm -f "$TF_DIR/tfplan.state"
args=(apply tfplan)
run FAKE_SERIAL=1; rc=$?
[ $rc -ne 0 ] && ! called ' apply '
t "apply without a recorded state: refuses" $?
args=(bogus tfplan)
run; rc=$?
[ $rc -eq 2 ]
t "unknown command: usage, exit 2" $?

done_testing apply-plan.t
