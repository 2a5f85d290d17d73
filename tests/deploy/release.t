#!/usr/bin/env bash
# release.t — the release script (deploy/terraform/scripts/ecs-release.sh) against stand-in
# `aws` and `terraform` commands that record their arguments and answer like the real ones.
# No AWS account is reachable from here: this checks the script's own decisions (the order
# of steps, the migration's exit code, a rollback after the service went "stable"), not AWS.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
script=$root/deploy/terraform/scripts/ecs-release.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"

cat >"$tmp/bin/terraform" <<'STUB'
#!/usr/bin/env bash
# terraform -chdir=DIR output [-raw|-json] NAME
name=${!#}
case "$name" in
cluster_name) printf 'tca' ;;
service_name) printf 'tca-app' ;;
aws_region) printf 'ap-southeast-2' ;;
migrate_task_definition_arn) printf 'arn:aws:ecs:ap-southeast-2:1:task-definition/tca-migrate:7' ;;
app_task_definition_arn) printf 'arn:aws:ecs:ap-southeast-2:1:task-definition/tca-app:9' ;;
app_subnet_ids) printf '[\n  "subnet-a",\n  "subnet-b"\n]\n' ;;
app_security_group_id) printf 'sg-app' ;;
log_group_name) printf '/ecs/tca' ;;
*) exit 1 ;;
esac
STUB

cat >"$tmp/bin/aws" <<'STUB'
#!/usr/bin/env bash
echo "aws $*" >>"$STUB_LOG"
case "$1 $2" in
"ecs run-task") echo "${STUB_TASK_ARN-arn:aws:ecs:ap-southeast-2:1:task/tca/abc123}" ;;
"ecs wait") exit "${STUB_WAIT_RC:-0}" ;;
"ecs describe-tasks")
  case "$*" in
  *exitCode*) echo "${STUB_EXIT_CODE:-0}" ;;
  *stoppedReason*) echo "Essential container in task exited" ;;
  esac ;;
"logs get-log-events") printf 'migrate: schema up to date\n' ;;
"ecs update-service") echo "tca-app" ;;
"ecs describe-services") printf '%s\t%s\n' "${STUB_PRIMARY_TD:-arn:aws:ecs:ap-southeast-2:1:task-definition/tca-app:9}" "${STUB_ROLLOUT:-COMPLETED}" ;;
*) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
STUB
chmod +x "$tmp/bin/aws" "$tmp/bin/terraform"
export PATH="$tmp/bin:$PATH" STUB_LOG="$tmp/calls" WAIT_ROUNDS=2 GITHUB_SHA=0123456789abcdef0123456789abcdef01234567

n=0
fails=0
t() { # t DESCRIPTION CONDITION-EXIT-CODE
  n=$((n + 1))
  if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else
    fails=$((fails + 1))
    echo "not ok $n - $1"
    sed 's/^/# /' "$tmp/out" "$tmp/calls" 2>/dev/null | tail -20
  fi
}
go() { : >"$tmp/calls"; env "$@" "$script" "${args[@]}" >"$tmp/out" 2>&1; }

args=(migrate)
go; rc=$?
t "migrate: exit 0 when the task exits 0" "$rc"
grep -q 'run-task --cluster tca --task-definition arn:aws:ecs:ap-southeast-2:1:task-definition/tca-migrate:7 --launch-type FARGATE' "$tmp/calls"
t "migrate: runs the migrate task definition on Fargate" $?
grep -q 'awsvpcConfiguration={subnets=\[subnet-a,subnet-b\],securityGroups=\[sg-app\],assignPublicIp=DISABLED}' "$tmp/calls"
t "migrate: private subnets, app security group, no public IP" $?
grep -q 'started-by release-0123456789ab' "$tmp/calls"
t "migrate: started-by names the commit (within ECS's 36 characters)" $?
grep -q 'schema up to date' "$tmp/out"
t "migrate: prints the task's log" $?

go STUB_EXIT_CODE=1; rc=$?
[ "$rc" -ne 0 ] && grep -q "migration failed: exit code '1'" "$tmp/out"
t "migrate: fails when the task exits 1" $?

go STUB_EXIT_CODE=None; rc=$?
[ "$rc" -ne 0 ]
t "migrate: fails when the container never ran (no exit code)" $?

go STUB_TASK_ARN=None; rc=$?
[ "$rc" -ne 0 ] && grep -q 'started no task' "$tmp/out" && ! grep -q 'ecs wait' "$tmp/calls"
t "migrate: fails at once when run-task starts nothing" $?

go STUB_WAIT_RC=255; rc=$?
[ "$rc" -ne 0 ] && [ "$(grep -c 'ecs wait tasks-stopped' "$tmp/calls")" -eq 2 ]
t "migrate: gives up after WAIT_ROUNDS waiter timeouts" $?

args=(deploy)
go; rc=$?
t "deploy: exit 0 when the new revision is primary and COMPLETED" "$rc"
grep -q 'update-service --cluster tca --service tca-app --task-definition arn:aws:ecs:ap-southeast-2:1:task-definition/tca-app:9' "$tmp/calls" &&
  grep -q 'ecs wait services-stable --cluster tca --services tca-app' "$tmp/calls"
t "deploy: update-service to the new task definition, then wait services-stable" $?

go STUB_PRIMARY_TD=arn:aws:ecs:ap-southeast-2:1:task-definition/tca-app:8; rc=$?
[ "$rc" -ne 0 ] && grep -q 'is not running' "$tmp/out"
t "deploy: fails when the circuit breaker rolled back to the old revision" $?

go STUB_ROLLOUT=FAILED; rc=$?
[ "$rc" -ne 0 ]
t "deploy: fails when the rollout state is not COMPLETED" $?

args=(release)
go STUB_EXIT_CODE=3; rc=$?
[ "$rc" -ne 0 ] && ! grep -q 'update-service' "$tmp/calls"
t "release: a failed migration stops the deploy" $?

go; rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -n 'run-task' "$tmp/calls" | cut -d: -f1)" -lt "$(grep -n 'update-service' "$tmp/calls" | cut -d: -f1)" ]
t "release: migrates before it deploys" $?

args=(bogus)
go; rc=$?
[ "$rc" -eq 2 ]
t "unknown command: usage, exit 2" $?

echo "1..$n"
echo "# release.t: $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
