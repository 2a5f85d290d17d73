#!/usr/bin/env bash
# github-environment.t — deploy/terraform/scripts/github-environment.sh (make deploy-github)
# against a stand-in `gh` (and `terraform` for outputs): the environment gets required
# reviewers and the main-only branch rule and is read back; a plan that drops the reviewers (a
# private repository below Enterprise) or refuses environments fails and says why; repository
# variables are set only with remote state.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

repo=$tmp/repo
checkout "$repo" deploy/terraform/scripts/github-environment.sh deploy/terraform/scripts/tfvar.sh
script=$repo/deploy/terraform/scripts/github-environment.sh
export FAKE_STATE=$tmp/gh
mkdir -p "$FAKE_STATE"
stub gh <<'EOF2'
echo "gh $*" >>"$CALLS"
case "$*" in
"api user --jq .login") [ "${FAKE_AUTH:-ok}" = ok ] || { echo "gh auth login required" >&2; exit 4; }; echo alice ;;
"api users/"*) case "$2" in users/alice) echo 42 ;; users/bob) echo 43 ;; *) echo "HTTP 404" >&2; exit 1 ;; esac ;;
"api orgs/acme/teams/ops --jq .id") echo 7 ;;
"api -X PUT repos/acme/tca/environments/production --input -")
  case "${FAKE_PUT:-ok}" in
  ok) cat >"$FAKE_STATE/body"; touch "$FAKE_STATE/env" ;;
  *) echo "HTTP 422: Failed to create the environment protection rule (upgrade your plan)" >&2; exit 1 ;;
  esac ;;
"api repos/acme/tca/environments/production/deployment-branch-policies --jq"*) cat "$FAKE_STATE/branches" 2>/dev/null ;;
"api -X POST repos/acme/tca/environments/production/deployment-branch-policies -f name=main -f type=branch")
  echo main >>"$FAKE_STATE/branches" ;;
"api repos/acme/tca/environments/production --jq"*)
  [ -e "$FAKE_STATE/env" ] || { echo "HTTP 404" >&2; exit 1; }
  if [ -n "${FAKE_DROP_REVIEWERS:-}" ]; then echo "branch_policy"; else echo "required_reviewers branch_policy"; fi ;;
"variable set "*) : ;;
*) echo "unexpected gh call: $*" >&2; exit 1 ;;
esac
EOF2
stub terraform <<'EOF2'
echo "terraform $*" >>"$CALLS"
[ -z "${FAKE_NO_OUTPUTS:-}" ] || exit 1
case "${!#}" in
github_build_role_arn) printf 'arn:aws:iam::1:role/tca-github-build' ;;
github_deploy_role_arn) printf 'arn:aws:iam::1:role/tca-github-deploy' ;;
*) exit 1 ;;
esac
EOF2

vars=$tmp/production.tfvars
printf 'name = "tca"\naws_region = "eu-west-1"\ngithub_repository = "acme/tca"\n' >"$vars"
backend=$tmp/backend.hcl
run() { : >"$CALLS"; env -u GITHUB_REPOSITORY VAR_FILE="$vars" BACKEND_FILE="$backend" "$@" "$script" "${args[@]}" >"$tmp/out" 2>&1; }

args=(environment)
run; rc=$?
t "environment: exit 0" $rc
grep -q '"reviewers":\[{"type":"User","id":42}\]' "$FAKE_STATE/body" &&
  grep -q '"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}' "$FAKE_STATE/body"
t "environment: required reviewer (you by default), custom branch policy" $?
called 'POST repos/acme/tca/environments/production/deployment-branch-policies -f name=main -f type=branch'
t "environment: deployments from main only" $?
called '^gh api repos/acme/tca/environments/production --jq'
t "environment: read back after writing" $?
run; rc=$?
[ $rc -eq 0 ] && ! called 'POST'
t "environment, second run: the branch rule is not added twice" $?
run REVIEWERS="acme/ops bob" PREVENT_SELF_REVIEW=1; rc=$?
[ $rc -eq 0 ] && grep -q '"reviewers":\[{"type":"Team","id":7},{"type":"User","id":43}\]' "$FAKE_STATE/body" &&
  grep -q '"prevent_self_review":true' "$FAKE_STATE/body"
t "environment: teams and users as reviewers, prevent self-review" $?

run FAKE_DROP_REVIEWERS=1; rc=$?
[ $rc -ne 0 ] && grep -q 'no required reviewers' "$tmp/out" && grep -q 'GitHub Enterprise' "$tmp/out"
t "reviewers dropped (private repository below Enterprise): fails and explains the plan limit" $?
run FAKE_PUT=refused; rc=$?
[ $rc -ne 0 ] && grep -q 'cannot set up the environment' "$tmp/out" && grep -q 'GitHub Enterprise' "$tmp/out"
t "environments refused (private repository on Free): fails and explains" $?
run FAKE_AUTH=none; rc=$?
[ $rc -ne 0 ] && grep -q 'gh auth login' "$tmp/out" && ! called 'PUT'
t "gh not logged in: fails before changing anything" $?
printf 'name = "tca"\n' >"$tmp/norepo.tfvars"
run VAR_FILE="$tmp/norepo.tfvars"; rc=$?
[ $rc -ne 0 ] && grep -q 'github_repository is not set' "$tmp/out"
t "no github_repository: refused" $?

args=(variables)
rm -f "$backend"
run; rc=$?
[ $rc -ne 0 ] && grep -q 'make deploy-bootstrap' "$tmp/out" && ! called 'variable set'
t "variables without remote state: refused (CI never plans against an empty state)" $?
printf 'bucket       = "acme-state"\nkey          = "tca/terraform.tfstate"\nregion       = "eu-west-1"\nuse_lockfile = true\n' >"$backend"
run; rc=$?
[ $rc -eq 0 ] && called 'variable set AWS_REGION --repo acme/tca --body eu-west-1' &&
  called 'variable set AWS_BUILD_ROLE_ARN --repo acme/tca --body arn:aws:iam::1:role/tca-github-build' &&
  called 'variable set AWS_DEPLOY_ROLE_ARN --repo acme/tca --body arn:aws:iam::1:role/tca-github-deploy' &&
  called 'variable set TF_STATE_BUCKET --repo acme/tca --body acme-state' &&
  called 'variable set TF_STATE_KEY --repo acme/tca --body tca/terraform.tfstate'
t "variables: region, both role ARNs, state bucket and key" $?
run FAKE_NO_OUTPUTS=1; rc=$?
[ $rc -ne 0 ] && grep -q 'apply first' "$tmp/out" && ! called 'variable set'
t "variables before the first apply: refused" $?

args=(all)
run FAKE_DROP_REVIEWERS=1; rc=$?
[ $rc -ne 0 ] && ! called 'variable set'
t "all: an unprotected environment leaves CI without its variables (it cannot start)" $?
run; rc=$?
[ $rc -eq 0 ] && called 'variable set TF_STATE_BUCKET'
t "all: environment, then variables" $?

done_testing github-environment.t
