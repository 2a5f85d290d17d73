#!/usr/bin/env bash
# preflight.t — deploy/terraform/scripts/preflight.sh (make deploy-doctor) against stand-in
# aws, gh, docker, podman, dig and terraform commands, on a PATH that holds nothing else (so a
# missing tool is really missing): with everything in place it passes; then each thing that can
# be missing is taken away in turn, and the doctor must exit 1, name it and print its fix.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

script=$root/deploy/terraform/scripts/preflight.sh
mkdir -p "$tmp/sys"
for tool in bash cut date dirname grep head rm sed sort tail tr cat env; do
  ln -s "$(command -v "$tool")" "$tmp/sys/$tool"
done

stub aws <<'EOF2'
echo "aws $*" >>"$CALLS"
case "$*" in
--version) echo "aws-cli/2.17.0 Python/3.12" ;;
"sts get-caller-identity"*)
  [ "${FAKE_IDENT:-ok}" = ok ] || { echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2; exit 253; }
  printf '123456789012\tarn:aws:iam::123456789012:user/admin\n' ;;
"configure get region") echo "${FAKE_CFG_REGION:-}" ;;
*" head-bucket "*)
  case "${FAKE_BUCKET:-ok}" in
  ok) : ;;
  missing) echo "An error occurred (404) when calling the HeadBucket operation: Not Found" >&2; exit 254 ;;
  *) echo "An error occurred (403) when calling the HeadBucket operation: Forbidden" >&2; exit 254 ;;
  esac ;;
*" get-bucket-versioning "*) echo "${FAKE_VERSIONING:-Enabled}" ;;
*" get-bucket-encryption "*) [ "${FAKE_ENC:-ok}" = ok ] || { echo "ServerSideEncryptionConfigurationNotFoundError" >&2; exit 254; } ;;
*" get-public-access-block "*)
  if [ "${FAKE_PAB:-ok}" = ok ]; then printf 'True\tTrue\tTrue\tTrue\n'; else printf 'True\tFalse\tTrue\tTrue\n'; fi ;;
"dynamodb describe-table"*) [ "${FAKE_TABLE:-ok}" = ok ] ;;
"iam get-role --role-name AWSServiceRoleForECS "*)
  case "${FAKE_SLR_ECS:-ok}" in
  ok) echo arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS ;;
  missing) echo "An error occurred (NoSuchEntity) when calling the GetRole operation" >&2; exit 254 ;;
  *) echo "An error occurred (AccessDenied) when calling the GetRole operation" >&2; exit 254 ;;
  esac ;;
"iam get-role --role-name AWSServiceRoleForApplicationAutoScaling_ECSService "*)
  [ "${FAKE_SLR_AAS:-ok}" = ok ] || { echo "An error occurred (NoSuchEntity) when calling the GetRole operation" >&2; exit 254; }
  echo arn ;;
"iam list-open-id-connect-providers"*)
  case "${FAKE_OIDC:-present}" in
  present) printf 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\n' ;;
  absent) echo "" ;;
  *) echo "An error occurred (AccessDenied)" >&2; exit 254 ;;
  esac ;;
"route53 get-hosted-zone --id Z123 --query HostedZone.Name"*)
  [ "${FAKE_ZONE:-ok}" = ok ] || { echo "An error occurred (NoSuchHostedZone)" >&2; exit 254; }
  echo "example.com." ;;
"route53 get-hosted-zone --id Z123 --query DelegationSet.NameServers"*)
  printf 'ns-1.awsdns-01.org\tns-2.awsdns-02.com\tns-3.awsdns-03.net\tns-4.awsdns-04.co.uk\n' ;;
*) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
EOF2
stub dig <<'EOF2'
echo "dig $*" >>"$CALLS"
[ "$*" = "+short NS example.com" ] || exit 1
printf '%s\n' ${FAKE_NS:-NS-4.AWSDNS-04.CO.UK. ns-3.awsdns-03.net. ns-2.awsdns-02.com. ns-1.awsdns-01.org.}
EOF2
stub gh <<'EOF2'
echo "gh $*" >>"$CALLS"
case "$*" in
"api user --jq .login") [ "${FAKE_GH_AUTH:-ok}" = ok ] || exit 4; echo alice ;;
"api repos/acme/tca/environments/production --jq"*)
  case "${FAKE_ENV:-protected}" in
  protected) echo "required_reviewers branch_policy" ;;
  unprotected) echo "branch_policy" ;;
  *) echo "HTTP 404: Not Found" >&2; exit 1 ;;
  esac ;;
*) exit 1 ;;
esac
EOF2
stub docker <<'EOF2'
echo "docker $*" >>"$CALLS"
case "$*" in
"version --format"*) [ "${FAKE_DOCKER:-ok}" = ok ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }; echo 27.3.1 ;;
"buildx version") [ "${FAKE_BUILDX:-ok}" = ok ] || exit 1; echo "github.com/docker/buildx v0.17.1" ;;
"buildx inspect") printf 'Name:   default\nDriver: docker\nPlatforms: %s\n' "${FAKE_PLATFORMS:-linux/amd64, linux/amd64/v2, linux/386}" ;;
*) exit 1 ;;
esac
EOF2
stub podman <<'EOF2'
echo "podman $*" >>"$CALLS"
echo "${FAKE_PODMAN_HOST:-linux/amd64}"
EOF2
stub terraform <<'EOF2'
echo "Terraform v${FAKE_TF_VERSION:-1.11.4}"
echo "on linux_amd64"
EOF2

vars=$tmp/production.tfvars
cat >"$vars" <<'EOF2'
name                        = "tca"
aws_region                  = "eu-west-1"
domain_name                 = "todo.example.com"
route53_zone_id             = "Z123"
github_repository           = "acme/tca"
create_github_oidc_provider = false
create_service_linked_roles = false
EOF2
backend=$tmp/backend.hcl
printf 'bucket       = "acme-state"\nkey          = "tca/terraform.tfstate"\nregion       = "eu-west-1"\nencrypt      = true\nuse_lockfile = true\n' >"$backend"

# run ENV...: the doctor; TOOL_MISSING=1 (AWS, GH, DIG, DOCKER) takes that stand-in away.
run() {
  local bin=$tmp/bin-run arg
  rm -rf "$bin"
  cp -a "$tmp/bin" "$bin"
  for arg; do
    case "$arg" in
    *_MISSING=1)
      arg=${arg%_MISSING=1}
      rm -f "$bin/$(tr '[:upper:]' '[:lower:]' <<<"$arg")"
      ;;
    esac
  done
  : >"$CALLS"
  env -i PATH="$bin:$tmp/sys" HOME="$tmp" CALLS="$CALLS" AWS_REGION=eu-west-1 \
    VAR_FILE="$vars" BACKEND_FILE="$backend" "$@" bash "$script" >"$tmp/out" 2>&1
}
# expect DESCRIPTION MISSING-REGEX FIX-REGEX ENV...: exit 1, a MISSING line and its fix.
expect() {
  local desc=$1 what=$2 fix=$3 rc
  shift 3
  run "$@"
  rc=$?
  [ $rc -eq 1 ] && grep -Eq "MISSING  .*$what" "$tmp/out" && grep -Eq "fix: .*$fix" "$tmp/out"
  t "$desc" $?
}

run; rc=$?
[ $rc -eq 0 ] && grep -q 'preflight: .* ok, 0 missing' "$tmp/out" && ! grep -q MISSING "$tmp/out"
t "everything in place: exit 0, nothing missing" $?
! grep -Eq '^aws .* (create|put|delete|update)-' "$CALLS"
t "read-only: no create, put, update or delete call" $?

expect "no AWS credentials" "AWS credentials" "aws configure sso" FAKE_IDENT=none
run FAKE_IDENT=none
grep -q 'skipped  state bucket' "$tmp/out" && grep -q 'skipped  service-linked roles' "$tmp/out"
t "no AWS credentials: the account checks say skipped, not ok" $?
expect "the shell's region differs from aws_region" "region: the shell uses 'us-east-1'" "export AWS_REGION=eu-west-1" AWS_REGION=us-east-1
expect "no region anywhere" "region: the shell uses 'none'" "export AWS_REGION=eu-west-1" AWS_REGION=
run AWS_REGION= FAKE_CFG_REGION=eu-west-1; rc=$?
t "region from aws configure counts" $rc
expect "no backend.hcl (local state)" "remote state" "make deploy-bootstrap" BACKEND_FILE="$tmp/none.hcl"
expect "state bucket missing" "state bucket acme-state does not exist" "make deploy-bootstrap" FAKE_BUCKET=missing
expect "state bucket not readable (another account or denied)" "state bucket acme-state cannot be read" "s3:ListBucket" FAKE_BUCKET=denied
expect "state bucket without versioning" "versioning" "make deploy-bootstrap" FAKE_VERSIONING=Suspended
expect "state bucket without default encryption" "default encryption" "make deploy-bootstrap" FAKE_ENC=none
expect "state bucket public access not fully blocked" "public access block" "make deploy-bootstrap" FAKE_PAB=partial
sed 's/use_lockfile = true/use_lockfile = false/' "$backend" >"$tmp/nolock.hcl"
expect "no state locking" "state locking" "make deploy-bootstrap" BACKEND_FILE="$tmp/nolock.hcl"
printf 'dynamodb_table = "tf-locks"\n' >>"$tmp/nolock.hcl"
run BACKEND_FILE="$tmp/nolock.hcl"; rc=$?
t "a DynamoDB lock table that exists counts as locking" $rc
expect "a DynamoDB lock table that does not exist" "state locking" "make deploy-bootstrap" BACKEND_FILE="$tmp/nolock.hcl" FAKE_TABLE=missing
expect "create_service_linked_roles = false and the ECS role missing" "service-linked role AWSServiceRoleForECS \\(create_service_linked_roles = false\\)" \
  "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com" FAKE_SLR_ECS=missing
expect "create_service_linked_roles = false and the autoscaling role missing" "AWSServiceRoleForApplicationAutoScaling_ECSService" \
  "aws iam create-service-linked-role --aws-service-name ecs.application-autoscaling.amazonaws.com" FAKE_SLR_AAS=missing
expect "a service-linked role not readable" "AWSServiceRoleForECS cannot be read" "iam:GetRole" FAKE_SLR_ECS=denied
sed 's/create_service_linked_roles = false/create_service_linked_roles = true/' "$vars" >"$tmp/slr.tfvars"
expect "roles exist, but the stack would create them" "AWSServiceRoleForECS AWSServiceRoleForApplicationAutoScaling_ECSService already exists" \
  "set create_service_linked_roles = false" VAR_FILE="$tmp/slr.tfvars"
expect "one role exists, the stack would create both" "AWSServiceRoleForECS already exists" \
  "aws iam create-service-linked-role --aws-service-name ecs.application-autoscaling.amazonaws.com" \
  VAR_FILE="$tmp/slr.tfvars" FAKE_SLR_AAS=missing
run VAR_FILE="$tmp/slr.tfvars" FAKE_SLR_ECS=missing FAKE_SLR_AAS=missing; rc=$?
[ $rc -eq 0 ] && grep -q 'the stack creates them' "$tmp/out"
t "neither role exists and the stack creates them: ok" $?
sed 's/create_github_oidc_provider = false/create_github_oidc_provider = true/' "$vars" >"$tmp/oidc.tfvars"
expect "OIDC provider exists but the stack would create it" "already has a GitHub OIDC provider" \
  "create_github_oidc_provider = false" VAR_FILE="$tmp/oidc.tfvars"
run VAR_FILE="$tmp/oidc.tfvars" FAKE_OIDC=absent; rc=$?
t "no OIDC provider and the stack creates it: ok" $rc
expect "no OIDC provider and the stack would not create it" "no GitHub OIDC provider" \
  "create_github_oidc_provider = true" FAKE_OIDC=absent
expect "OIDC providers not listable" "OIDC providers cannot be listed" "iam:ListOpenIDConnectProviders" FAKE_OIDC=denied
expect "Route 53 zone missing" "Route 53 zone Z123" "aws route53 create-hosted-zone --name example.com" FAKE_ZONE=missing
expect "zone not delegated (NS answer differs)" "example.com is not delegated" \
  "aws route53domains update-domain-nameservers .*--domain-name example.com --nameservers Name=ns-1.awsdns-01.org" \
  FAKE_NS="ns1.registrar.example. ns2.registrar.example."
run FAKE_NS="ns1.registrar.example."
grep -q 'fix: at the registrar of example.com, set its name servers to: ns-1.awsdns-01.org ns-2.awsdns-02.com ns-3.awsdns-03.net ns-4.awsdns-04.co.uk' "$tmp/out"
t "not delegated: lists the zone's four name servers for the registrar" $?
expect "zone not delegated at all (no NS answer)" "public NS: none" "set its name servers" FAKE_NS=" "
expect "no dig to check the delegation" "dig, to check" "apt-get install bind9-dnsutils" DIG_MISSING=1
sed 's/todo.example.com/todo.other.org/' "$vars" >"$tmp/outside.tfvars"
expect "domain_name outside the zone" "is not in the zone example.com" "set domain_name" VAR_FILE="$tmp/outside.tfvars"
grep -v route53_zone_id "$vars" >"$tmp/nozone.tfvars"
expect "domain_name without a zone or certificate" "needs route53_zone_id" "list-hosted-zones-by-name" VAR_FILE="$tmp/nozone.tfvars"
grep -Ev 'domain_name|route53_zone_id' "$vars" >"$tmp/nodomain.tfvars"
run VAR_FILE="$tmp/nodomain.tfvars"; rc=$?
[ $rc -eq 0 ] && grep -q 'CloudFront' "$tmp/out" && ! grep -q '^dig' "$CALLS"
t "no domain: the CloudFront path, no DNS check" $?
{ cat "$tmp/nodomain.tfvars"; echo 'certificate_arn = "arn:aws:acm:eu-west-1:1:certificate/x"'; } >"$tmp/certonly.tfvars"
expect "certificate_arn without domain_name" "certificate_arn without domain_name" "set domain_name" VAR_FILE="$tmp/certonly.tfvars"
expect "production environment missing" "environment 'production' of acme/tca" "make deploy-github" FAKE_ENV=missing
expect "production environment without required reviewers" "has no required reviewers" "make deploy-github" FAKE_ENV=unprotected
expect "gh not logged in" "gh is not logged in" "gh auth login" FAKE_GH_AUTH=none
expect "no gh" "the GitHub CLI" "cli.github.com" GH_MISSING=1
grep -v github_repository "$vars" >"$tmp/norepo.tfvars"
run VAR_FILE="$tmp/norepo.tfvars"; rc=$?
[ $rc -eq 0 ] && ! grep -q '^gh' "$CALLS" && ! grep -q 'list-open-id-connect-providers' "$CALLS"
t "no github_repository: no GitHub or OIDC checks" $?
expect "Docker engine not running" "a running Docker engine" "start Docker" FAKE_DOCKER=down
expect "no buildx" "docker buildx\$" "docker-buildx-plugin" FAKE_BUILDX=none
expect "buildx cannot build linux/amd64 (an arm64 machine)" "cannot build linux/amd64" \
  "tonistiigi/binfmt --install amd64" FAKE_PLATFORMS="linux/arm64, linux/arm/v7"
{ cat "$vars"; echo 'cpu_architecture = "ARM64"'; } >"$tmp/arm.tfvars"
expect "ARM64 tasks on an amd64-only builder" "cannot build linux/arm64" "--install arm64" VAR_FILE="$tmp/arm.tfvars"
expect "no container engine" "docker\$" "install Docker Engine" DOCKER_MISSING=1
run CONTAINER_ENGINE=podman; rc=$?
t "podman on linux/amd64 builds linux/amd64" $rc
expect "podman on another architecture without qemu" "podman on linux/arm64 cannot build linux/amd64" \
  "qemu-user-static" CONTAINER_ENGINE=podman FAKE_PODMAN_HOST=linux/arm64
expect "terraform too old for the S3 lock file" "terraform >= 1.10 \\(found '1.9.8'" "install Terraform" FAKE_TF_VERSION=1.9.8
expect "no terraform" "terraform >= 1.10" "install Terraform" TERRAFORM=no-terraform
expect "no AWS CLI" "the AWS CLI v2" "getting-started-install" AWS_MISSING=1
expect "no AWS CLI, so the account checks are skipped" "AWS CLI" "install" AWS_MISSING=1
grep -q 'skipped  state bucket' "$tmp/out"
t "no AWS CLI: the account checks say skipped" $?

run FAKE_SLR_ECS=missing FAKE_BUCKET=missing FAKE_ENV=missing; rc=$?
[ $rc -eq 1 ] && [ "$(grep -c MISSING "$tmp/out")" -eq 3 ] && grep -q '3 missing' "$tmp/out"
t "several things missing: each listed, counted" $?

done_testing preflight.t
