#!/usr/bin/env bash
# github-environment.sh [environment|variables|all] — set up the GitHub side of the deploy
# workflow with the GitHub CLI (`gh`, logged in as a repository administrator). Run by
# `make deploy-github`.
#
#   environment  create or update the environment the deploy role trusts (github_environment,
#                default production): required reviewers (REVIEWERS, default: you; "org/team"
#                names a team), deployments from the branch `main` only (github_branch), then
#                read it back and fail unless both rules are in force. On a private repository
#                required reviewers need GitHub Enterprise: on Free, Pro and Team the API
#                accepts them only for public repositories, and this check says so
#   variables    the repository variables deploy.yml reads: AWS_REGION, AWS_BUILD_ROLE_ARN,
#                AWS_DEPLOY_ROLE_ARN (terraform outputs), TF_STATE_BUCKET and TF_STATE_KEY
#                (backend.hcl). Refused without remote state: CI must never plan against an
#                empty state (run make deploy-bootstrap first)
#   all          both (the default)
#
# The repository is github_repository from the variables file (VAR_FILE, default
# deploy/terraform/env/production.tfvars) or GITHUB_REPOSITORY. PREVENT_SELF_REVIEW=1 stops a
# reviewer approving their own push (needs two people).
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
tf_dir=$root/deploy/terraform
VAR_FILE=${VAR_FILE:-$tf_dir/env/production.tfvars}
BACKEND_FILE=${BACKEND_FILE:-$tf_dir/backend.hcl}
TERRAFORM=${TERRAFORM:-terraform}
tfvar() { "$root/deploy/terraform/scripts/tfvar.sh" "$VAR_FILE" "$@"; }

die() {
  echo "github-environment: $*" >&2
  exit 1
}
say() { echo "github-environment: $*"; }

what=${1:-all}
case "$what" in
environment | variables | all) ;;
*)
  echo "usage: $0 [environment|variables|all]" >&2
  exit 2
  ;;
esac

command -v gh >/dev/null 2>&1 || die "the GitHub CLI (gh) is needed"
repo=${GITHUB_REPOSITORY:-$(tfvar github_repository "")}
[ -n "$repo" ] || die "github_repository is not set in '$VAR_FILE' (or GITHUB_REPOSITORY)"
env_name=$(tfvar github_environment production)
branch=$(tfvar github_branch main)
me=$(gh api user --jq .login 2>&1) || die "gh is not logged in ($me): gh auth login"

free_plan_note() {
  cat >&2 <<EOF
github-environment: GitHub enforces required reviewers on a private repository only with
  GitHub Enterprise (on Free, Pro and Team they work for public repositories; a private
  repository on Free has no environments at all). Without them the deploy role, which trusts
  jobs of the '$env_name' environment, accepts runs nobody approved. Choose one: make the
  repository public, move it to an Enterprise organization, or keep deploying by hand (leave the
  repository variables unset so deploy.yml's AWS jobs cannot start).
EOF
}

reviewer_json() { # one {"type":..,"id":..} per REVIEWERS word
  local r id sep=
  printf '['
  for r in ${REVIEWERS:-$me}; do
    if [[ $r == */* ]]; then
      id=$(gh api "orgs/${r%%/*}/teams/${r#*/}" --jq .id) || die "no team '$r'"
      printf '%s{"type":"Team","id":%s}' "$sep" "$id"
    else
      id=$(gh api "users/$r" --jq .id) || die "no user '$r'"
      printf '%s{"type":"User","id":%s}' "$sep" "$id"
    fi
    sep=,
  done
  printf ']'
}

cmd_environment() {
  local reviewers self body out rules
  reviewers=$(reviewer_json)
  self=false
  [ "${PREVENT_SELF_REVIEW:-0}" = 1 ] && self=true
  body=$(printf '{"wait_timer":0,"prevent_self_review":%s,"reviewers":%s,"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}}' "$self" "$reviewers")
  say "environment '$env_name' of $repo: reviewers ${REVIEWERS:-$me}, branch $branch only"
  if ! out=$(gh api -X PUT "repos/$repo/environments/$env_name" --input - <<<"$body" 2>&1); then
    echo "github-environment: cannot set up the environment: $out" >&2
    grep -Eqi '403|404|422|not available|upgrade|plan' <<<"$out" && free_plan_note
    exit 1
  fi
  if ! gh api "repos/$repo/environments/$env_name/deployment-branch-policies" \
    --jq '.branch_policies[] | select(.type == "branch" or .type == null) | .name' 2>/dev/null |
    grep -qx "$branch"; then
    gh api -X POST "repos/$repo/environments/$env_name/deployment-branch-policies" \
      -f name="$branch" -f type=branch >/dev/null || die "cannot limit '$env_name' to the branch $branch"
  fi
  # Read it back: an environment without the rules is what GitHub makes on first use anyway.
  rules=$(gh api "repos/$repo/environments/$env_name" --jq '[.protection_rules[]?.type] | join(" ")')
  if [[ " $rules " != *" required_reviewers "* ]]; then
    echo "github-environment: '$env_name' has no required reviewers (rules: ${rules:-none})" >&2
    free_plan_note
    exit 1
  fi
  [[ " $rules " == *" branch_policy "* ]] || die "'$env_name' does not limit deployments to $branch (rules: $rules)"
  say "'$env_name' requires a review and deploys only from $branch"
}

backend_value() { # backend_value KEY: from backend.hcl
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$BACKEND_FILE" | tail -n 1
}

cmd_variables() {
  local bucket key region build deploy
  bucket=
  [ -r "$BACKEND_FILE" ] && bucket=$(backend_value bucket)
  if [ -z "$bucket" ]; then
    die "no remote state ($BACKEND_FILE): run make deploy-bootstrap, then terraform init -migrate-state, before CI is enabled"
  fi
  key=$(backend_value key)
  region=$(tfvar aws_region)
  build=$("$TERRAFORM" -chdir="$tf_dir" output -raw github_build_role_arn 2>/dev/null) || build=
  deploy=$("$TERRAFORM" -chdir="$tf_dir" output -raw github_deploy_role_arn 2>/dev/null) || deploy=
  if [ -z "$build" ] || [ -z "$deploy" ]; then
    die "no CI role outputs: set github_repository in the variables file and apply first"
  fi
  set_var AWS_REGION "$region"
  set_var AWS_BUILD_ROLE_ARN "$build"
  set_var AWS_DEPLOY_ROLE_ARN "$deploy"
  set_var TF_STATE_BUCKET "$bucket"
  set_var TF_STATE_KEY "$key"
}

set_var() {
  gh variable set "$1" --repo "$repo" --body "$2" >/dev/null || die "cannot set the repository variable $1"
  say "variable $1=$2"
}

case "$what" in
environment) cmd_environment ;;
variables) cmd_variables ;;
all)
  cmd_environment
  cmd_variables
  ;;
esac
