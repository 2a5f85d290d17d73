#!/usr/bin/env bash
# ci-settings.sh — the deploy workflow's first job: refuse to start a release whose settings
# disagree, and hand the stack's name and image platform to the later jobs. Checks, with the
# committed variables file (DEPLOY_VAR_FILE) as the one source of truth:
#
#   remote state   TF_STATE_BUCKET is set (CI must never plan against an empty state: that
#                  would create a second stack) and is the file's tf_state_bucket
#   region         the repository variable AWS_REGION is the file's aws_region
#   repository     the file's github_repository is this repository (else the plan would remove
#                  or re-point the CI roles it runs with)
#   environment    the file's github_environment is the one the apply job uses (DEPLOY_ENVIRONMENT)
#   image tag      IMAGE_TAG is a valid tag
#
# Writes name=, platform= and image_tag= to GITHUB_OUTPUT (stdout when unset).
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
file=${DEPLOY_VAR_FILE:?DEPLOY_VAR_FILE is not set}
case "$file" in /*) ;; *) file=$root/$file ;; esac
tfvar() { "$root/deploy/terraform/scripts/tfvar.sh" "$file" "$@"; }

problems=0
problem() {
  echo "::error::$*"
  problems=$((problems + 1))
}

[ -r "$file" ] || {
  echo "::error::no variables file '$DEPLOY_VAR_FILE': commit it (docs/deploy.md, step 1)"
  exit 1
}
name=$(tfvar name techchallenge)
region=$(tfvar aws_region "")
repo=$(tfvar github_repository "")
bucket=$(tfvar tf_state_bucket "")
environment=$(tfvar github_environment production)
arch=$(tfvar cpu_architecture X86_64)

if [ -z "${TF_STATE_BUCKET:-}" ]; then
  problem "repository variable TF_STATE_BUCKET is not set: CI needs the remote state (make deploy-bootstrap, terraform init -migrate-state, make deploy-github)"
elif [ "$bucket" != "$TF_STATE_BUCKET" ]; then
  problem "tf_state_bucket in $DEPLOY_VAR_FILE is '$bucket', the repository variable TF_STATE_BUCKET '$TF_STATE_BUCKET': set both to the same bucket"
fi
[ "$region" = "${AWS_REGION:-}" ] ||
  problem "aws_region in $DEPLOY_VAR_FILE is '$region', the repository variable AWS_REGION '${AWS_REGION:-}'"
[ "$repo" = "${GITHUB_REPOSITORY:-}" ] ||
  problem "github_repository in $DEPLOY_VAR_FILE is '$repo', not this repository '${GITHUB_REPOSITORY:-}'"
[ "$environment" = "${DEPLOY_ENVIRONMENT:-production}" ] ||
  problem "github_environment in $DEPLOY_VAR_FILE is '$environment', but the apply job runs in '${DEPLOY_ENVIRONMENT:-production}'"
[[ ${IMAGE_TAG:-} =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
  problem "'${IMAGE_TAG:-}' is not a valid image tag"
[ "$problems" -eq 0 ] || exit 1

platform=linux/amd64
[ "$arch" = ARM64 ] && platform=linux/arm64
outputs=$(printf 'name=%s\nplatform=%s\nimage_tag=%s\n' "$name" "$platform" "$IMAGE_TAG")
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "$outputs" >>"$GITHUB_OUTPUT"
else
  echo "$outputs"
fi
echo "release $IMAGE_TAG of stack '$name' in $region ($platform)"
