#!/usr/bin/env bash
# apply-plan.sh — apply a reviewed plan file, and survive a re-run. Used by the deploy workflow:
#
#   apply-plan.sh record PLANFILE            after `terraform plan -out=PLANFILE`: note which
#                                            state (lineage and serial) it was made against, in
#                                            PLANFILE.state (kept with the plan artifact)
#   apply-plan.sh apply PLANFILE [PLAN-ARGS] apply PLANFILE when the state is still the one it
#                                            was made against. When the state moved (typically:
#                                            this plan was applied by an earlier attempt, then
#                                            migrate or deploy failed and the job is re-run),
#                                            plan again with PLAN-ARGS: no changes -> nothing to
#                                            apply, exit 0, the release goes on; changes -> stop,
#                                            because nobody reviewed them (re-run the whole
#                                            workflow for a new plan)
#
# Terraform itself refuses a stale saved plan; this turns "Re-run failed jobs" after a failed
# migration from an error into a no-op apply, without ever applying an unreviewed change.
set -euo pipefail

TF_DIR=${TF_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
TERRAFORM=${TERRAFORM:-terraform}
PYTHON=${PYTHON:-python3}

die() {
  echo "apply-plan: $*" >&2
  exit 1
}
usage() {
  echo "usage: $0 record PLANFILE | apply PLANFILE [PLAN-ARGS...]" >&2
  exit 2
}

# "lineage serial" of the current state ("none 0" for an empty one).
state_id() {
  "$TERRAFORM" -chdir="$TF_DIR" state pull | "$PYTHON" -c '
import json, sys
text = sys.stdin.read().strip()
s = json.loads(text) if text else {}
print(s.get("lineage") or "none", s.get("serial", 0))'
}

[ $# -ge 2 ] || usage
cmd=$1 plan=$2
shift 2
case "$plan" in
/*) path=$plan ;;
*) path=$TF_DIR/$plan ;;
esac

case "$cmd" in
record)
  [ -f "$path" ] || die "no plan file '$path'"
  state_id >"$path.state"
  echo "apply-plan: $plan made against state $(cat "$path.state")"
  ;;
apply)
  [ -f "$path" ] || die "no plan file '$path'"
  [ -f "$path.state" ] || die "no '$path.state' (run '$0 record $plan' after planning)"
  planned=$(cat "$path.state")
  now=$(state_id)
  if [ "$now" = "$planned" ]; then
    echo "apply-plan: state unchanged since the plan ($now): applying $plan"
    "$TERRAFORM" -chdir="$TF_DIR" apply -input=false -no-color "$plan"
    exit 0
  fi
  echo "apply-plan: the state moved since the plan ($planned -> $now): planning again"
  rc=0
  "$TERRAFORM" -chdir="$TF_DIR" plan -input=false -no-color -detailed-exitcode "$@" || rc=$?
  case $rc in
  0) echo "apply-plan: no changes left to apply (an earlier attempt applied this plan)" ;;
  2) die "the state changed since the reviewed plan and the new plan has changes nobody reviewed: re-run the whole workflow (Re-run all jobs) to review a new plan" ;;
  *) die "terraform plan failed (exit $rc)" ;;
  esac
  ;;
*) usage ;;
esac
