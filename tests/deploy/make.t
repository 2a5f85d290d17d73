#!/usr/bin/env bash
# make.t — the deploy targets of mk/deploy.mk, as `make -n` prints them: the stack's name,
# region and image platform come from the variables file; every terraform plan/apply gets
# -var-file of that file; plan and apply first check the image tag is in ECR; a rollback is one
# command; the scripts are the ones the workflow runs.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

cd "$root" || exit 1
vars=$tmp/production.tfvars
printf 'name = "acme-todo"\naws_region = "us-east-1"\ncpu_architecture = "ARM64"\n' >"$vars"
dry() { make -n --no-print-directory "$@" DEPLOY_VAR_FILE="$vars" >"$tmp/out" 2>&1; }
has() { grep -Eq -- "$1" "$tmp/out"; }

dry deploy-image-push
has 'scripts/image-build.sh ecr acme-todo$' && has 'AWS_REGION=us-east-1 ' && has 'PLATFORM=linux/arm64 '
t "deploy-image-push: name, region and platform from the variables file" $?
dry deploy-plan deploy-apply deploy-ecr
[ "$(grep -c '^terraform .* \(plan\|apply\) ' "$tmp/out")" -eq 3 ] &&
  [ "$(grep -c -- "-var-file=$vars " "$tmp/out")" -eq 3 ]
t "deploy-plan, deploy-apply, deploy-ecr: every terraform call reads the variables file" $?
dry deploy-plan
[ "$(grep -n 'image-build.sh check acme-todo' "$tmp/out" | cut -d: -f1)" -lt "$(grep -n 'terraform .* plan' "$tmp/out" | cut -d: -f1)" ]
t "deploy-plan: checks the tag is in ECR before planning" $?
dry deploy-apply DEPLOY_TAG=abc123
has 'IMAGE_TAG=abc123 scripts/image-build.sh check acme-todo' && has '-var=image_tag=abc123'
t "an explicit DEPLOY_TAG is checked and planned" $?
dry deploy-rollback TAG=0123abc
has 'IMAGE_TAG=0123abc scripts/image-build.sh check acme-todo' && has 'apply .*-var=image_tag=0123abc' &&
  has 'ecs-release.sh deploy$' && ! has 'ecs-release.sh (migrate|release)'
t "deploy-rollback TAG=...: check, apply for that tag, deploy, no migration" $?
make -s deploy-rollback DEPLOY_VAR_FILE="$vars" >"$tmp/out" 2>&1
[ $? -eq 2 ] && has 'usage: make deploy-rollback TAG='
t "deploy-rollback without TAG: usage, exit 2" $?
dry deploy-doctor deploy-bootstrap deploy-github
has 'preflight.sh$' && has 'bootstrap-state.sh$' && has 'github-environment.sh all$' && has "VAR_FILE=$vars "
t "deploy-doctor, deploy-bootstrap, deploy-github run their scripts with the variables file" $?
dry deploy-bootstrap STATE_BUCKET=my-state
has 'STATE_BUCKET=my-state .*bootstrap-state.sh'
t "deploy-bootstrap STATE_BUCKET=... names the bucket" $?
printf 'aws_region = "eu-west-1"\n' >"$tmp/noname.tfvars"
make -n deploy-image-push DEPLOY_VAR_FILE="$tmp/noname.tfvars" >"$tmp/out" 2>&1
has 'image-build.sh ecr techchallenge$' && has 'PLATFORM=linux/amd64 '
t "defaults when the file leaves them out: name techchallenge, linux/amd64" $?
touch "$tmp/backend.hcl"
dry deploy-init DEPLOY_TF_DIR="$tmp"
has "init -backend-config=backend.hcl"
t "deploy-init uses backend.hcl once make deploy-bootstrap wrote it" $?

done_testing make.t
