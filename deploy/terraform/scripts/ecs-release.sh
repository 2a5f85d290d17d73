#!/usr/bin/env bash
# ecs-release.sh — release the task definitions Terraform registered, in order:
#
#   ecs-release.sh migrate   run the one-off `TechChallengeApp migrate` task and fail unless it
#                            exits 0 (its log lines are printed either way)
#   ecs-release.sh deploy    move the service to the new app task definition and wait until it
#                            is stable on it (a circuit-breaker rollback counts as a failure)
#   ecs-release.sh restart   start fresh tasks on the current revision (e.g. after the database
#                            password was rotated: tasks read the secret when they start)
#   ecs-release.sh release   migrate, then deploy
#
# Names and ARNs come from `terraform output` in the stack directory (TF_DIR, default: the
# parent of this script), so the same script serves CI (.github/workflows/deploy.yml) and
# people (make deploy-release). Needs the AWS CLI v2 and credentials for the stack's account.

# JMESPath literals are written in backticks inside single-quoted --query strings.
# shellcheck disable=SC2016
set -euo pipefail

TF_DIR=${TF_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
TERRAFORM=${TERRAFORM:-terraform}
# Each AWS waiter gives up after about 10 minutes; try it this many times at most.
WAIT_ROUNDS=${WAIT_ROUNDS:-3}

die() {
  echo "ecs-release: $*" >&2
  exit 1
}

out() {
  "$TERRAFORM" -chdir="$TF_DIR" output -raw "$1" 2>/dev/null || die "cannot read terraform output '$1' in '$TF_DIR' (has the stack been applied?)"
}

load_outputs() {
  cluster=$(out cluster_name)
  service=$(out service_name)
  region=$(out aws_region)
  export AWS_REGION=$region AWS_DEFAULT_REGION=$region
}

wait_for() { # wait_for WHAT AWS-WAIT-ARGS...
  local what=$1 round
  shift
  for round in $(seq 1 "$WAIT_ROUNDS"); do
    if aws ecs wait "$@"; then
      return 0
    fi
    echo "ecs-release: still waiting for $what (round $round of $WAIT_ROUNDS)" >&2
  done
  die "gave up waiting for $what"
}

cmd_migrate() {
  load_outputs
  local taskdef subnets sg log_group task_arn task_id exit_code reason rev
  taskdef=$(out migrate_task_definition_arn)
  subnets=$("$TERRAFORM" -chdir="$TF_DIR" output -json app_subnet_ids | tr -d '[]" \n')
  sg=$(out app_security_group_id)
  log_group=$(out log_group_name)

  rev=${GITHUB_SHA:-manual}
  echo "ecs-release: running migration $taskdef"
  task_arn=$(aws ecs run-task --cluster "$cluster" --task-definition "$taskdef" \
    --launch-type FARGATE --count 1 --started-by "release-${rev:0:12}" \
    --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$sg],assignPublicIp=DISABLED}" \
    --query 'tasks[0].taskArn' --output text)
  case "$task_arn" in
  arn:*) ;;
  *) die "run-task started no task (got '$task_arn')" ;;
  esac

  wait_for "migration task $task_arn" tasks-stopped --cluster "$cluster" --tasks "$task_arn"

  exit_code=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
    --query 'tasks[0].containers[?name==`migrate`] | [0].exitCode' --output text)
  reason=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
    --query 'tasks[0].stoppedReason' --output text)
  task_id=${task_arn##*/}
  echo "ecs-release: migration log (${log_group}, migrate/migrate/${task_id}):"
  aws logs get-log-events --log-group-name "$log_group" --log-stream-name "migrate/migrate/$task_id" \
    --start-from-head --limit 200 --query 'events[].message' --output text 2>/dev/null | tr '\t' '\n' || true

  [ "$exit_code" = "0" ] || die "migration failed: exit code '$exit_code', stopped: $reason"
  echo "ecs-release: migration exited 0"
}

cmd_deploy() {
  load_outputs
  local taskdef state
  taskdef=$(out app_task_definition_arn)

  echo "ecs-release: deploying $taskdef to $service"
  aws ecs update-service --cluster "$cluster" --service "$service" --task-definition "$taskdef" \
    --query 'service.serviceName' --output text >/dev/null
  wait_for "service $service to be stable" services-stable --cluster "$cluster" --services "$service"

  # services-stable is also reached after a circuit-breaker rollback: check what is running.
  state=$(aws ecs describe-services --cluster "$cluster" --services "$service" \
    --query 'services[0].deployments[?status==`PRIMARY`] | [0].[taskDefinition, rolloutState]' --output text)
  [ "$state" = "$taskdef	COMPLETED" ] || die "service is not running $taskdef (primary deployment: $state)"
  echo "ecs-release: $service is stable on $taskdef"
}

cmd_restart() {
  load_outputs
  aws ecs update-service --cluster "$cluster" --service "$service" --force-new-deployment \
    --query 'service.serviceName' --output text >/dev/null
  wait_for "service $service to be stable" services-stable --cluster "$cluster" --services "$service"
  echo "ecs-release: $service restarted"
}

case "${1:-}" in
migrate) cmd_migrate ;;
deploy) cmd_deploy ;;
restart) cmd_restart ;;
release) cmd_migrate && cmd_deploy ;;
*)
  echo "usage: $0 migrate|deploy|restart|release" >&2
  exit 2
  ;;
esac
