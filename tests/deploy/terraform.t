#!/usr/bin/env bash
# terraform.t — the AWS stack (deploy/terraform) checked offline, as TAP:
# fmt, init against the local provider mirror, validate, and `terraform test` with a mocked AWS
# provider (deploy/terraform/tests/*.tftest.hcl, one TAP line per run block).
# Works on a temp copy, so nothing (.terraform) is written into the repository; init uses the
# committed .terraform.lock.hcl read-only, so a provider that does not match it fails here.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/deploy/terraform
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1))
  fails=$((fails + 1))
  echo "not ok $n - $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# /' "$2" | tail -40
  return 0
}

# shellcheck source=tests/lib/terraform.sh
. "$root/tests/lib/terraform.sh"
terraform_or_skip

# The provider comes from a filesystem mirror, never the network. TF_CLI_CONFIG_FILE may point
# at a file that does not exist, so always set it.
mirror=${TF_PROVIDER_MIRROR:-}
if [ -z "$mirror" ]; then
  found=$(find / -maxdepth 5 -type d -path '*registry.terraform.io/hashicorp/aws' \
    -not -path '/proc/*' 2>/dev/null | head -n 1)
  [ -n "$found" ] && mirror=${found%/registry.terraform.io/hashicorp/aws}
fi
if [ -n "$mirror" ] && [ -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  cat >"$tmp/cli.tfrc" <<CFG
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
CFG
  ok "provider source: local mirror $mirror (offline)"
else
  # A machine with internet (GitHub Actions) has no mirror: providers come from the registry.
  printf 'disable_checkpoint = true\n' >"$tmp/cli.tfrc"
  ok "provider source: the Terraform registry (no local mirror on this machine)"
fi
export TF_CLI_CONFIG_FILE=$tmp/cli.tfrc TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export NO_COLOR=1
unset TF_DATA_DIR TF_WORKSPACE

if terraform -chdir="$src" fmt -check -recursive -diff >"$tmp/fmt.log" 2>&1; then
  ok "terraform fmt -check -recursive"
else
  not_ok "terraform fmt -check -recursive" "$tmp/fmt.log"
fi

mkdir "$tmp/stack"
(cd "$src" && tar --exclude=.terraform --exclude='*.tfstate*' \
  --exclude=backend_s3.tf --exclude=terraform.tfvars -cf - .) | tar -C "$tmp/stack" -xf -

if [ -f "$tmp/stack/.terraform.lock.hcl" ] && grep -q 'version     = "5.100.0"' "$tmp/stack/.terraform.lock.hcl"; then
  ok ".terraform.lock.hcl committed (hashicorp/aws 5.100.0)"
else
  not_ok ".terraform.lock.hcl committed (hashicorp/aws 5.100.0)"
fi

if terraform -chdir="$tmp/stack" init -backend=false -input=false -lockfile=readonly -no-color >"$tmp/init.log" 2>&1; then
  ok "terraform init -backend=false -lockfile=readonly (the provider matches the lock file)"
else
  not_ok "terraform init -backend=false -lockfile=readonly (the provider matches the lock file)" "$tmp/init.log"
fi

if terraform -chdir="$tmp/stack" validate -no-color >"$tmp/validate.log" 2>&1; then
  ok "terraform validate"
else
  not_ok "terraform validate" "$tmp/validate.log"
fi

# The optional S3 backend must stay valid too: validate a copy with it switched on.
cp -r "$tmp/stack" "$tmp/stack-s3"
cp "$src/backend_s3.tf.example" "$tmp/stack-s3/backend_s3.tf"
if terraform -chdir="$tmp/stack-s3" init -backend=false -input=false -lockfile=readonly -no-color >"$tmp/init-s3.log" 2>&1 &&
  terraform -chdir="$tmp/stack-s3" validate -no-color >"$tmp/validate-s3.log" 2>&1; then
  ok "terraform validate with the S3 backend example enabled"
else
  cat "$tmp/init-s3.log" "$tmp/validate-s3.log" >"$tmp/s3.log" 2>/dev/null
  not_ok "terraform validate with the S3 backend example enabled" "$tmp/s3.log"
fi

terraform -chdir="$tmp/stack" test -no-color >"$tmp/test.log" 2>&1
test_rc=$?
runs=0
while IFS= read -r line; do
  case "$line" in
  *'run "'*'"... pass') name=${line#*run \"}; ok "terraform test: ${name%%\"*}"; runs=$((runs + 1)) ;;
  *'run "'*'"... '*) name=${line#*run \"}; not_ok "terraform test: ${name%%\"*} (${line##*... })"; runs=$((runs + 1)) ;;
  esac
done <"$tmp/test.log"
if [ "$test_rc" -eq 0 ] && [ "$runs" -ge 30 ]; then
  ok "terraform test exits 0 after $runs runs: $(grep -E '^(Success|Failure)' "$tmp/test.log")"
else
  not_ok "terraform test exits 0 with at least 30 runs (rc=$test_rc, runs=$runs)" "$tmp/test.log"
fi

echo "1..$n"
echo "# terraform.t: $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
