#!/usr/bin/env bash
# bootstrap-state.t — deploy/terraform/scripts/bootstrap-state.sh (make deploy-bootstrap)
# against a stand-in `aws` that keeps the bucket's state in files: creates the bucket with
# versioning, encryption, public access blocked, TLS-only policy and the S3 lock file; runs
# again without creating anything; us-east-1 without a LocationConstraint; refuses a bucket of
# another account, missing credentials, and a setting that did not stick.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

repo=$tmp/repo
checkout "$repo" deploy/terraform/scripts/bootstrap-state.sh deploy/terraform/scripts/tfvar.sh \
  deploy/terraform/backend_s3.tf.example
script=$repo/deploy/terraform/scripts/bootstrap-state.sh
backend=$repo/deploy/terraform/backend.hcl
export FAKE_STATE=$tmp/s3
stub aws <<'EOF2'
echo "aws $*" >>"$CALLS"
mkdir -p "$FAKE_STATE"
case "$*" in
"sts get-caller-identity"*)
  [ "${FAKE_IDENT:-ok}" = ok ] || { echo "Unable to locate credentials" >&2; exit 253; }
  echo 123456789012 ;;
*" head-bucket "*)
  [ -e "$FAKE_STATE/bucket" ] && exit 0
  case "${FAKE_HEAD:-missing}" in
  missing) echo "An error occurred (404) when calling the HeadBucket operation: Not Found" >&2 ;;
  forbidden) echo "An error occurred (403) when calling the HeadBucket operation: Forbidden" >&2 ;;
  moved) echo "An error occurred (301) when calling the HeadBucket operation: Moved Permanently" >&2 ;;
  esac
  exit 254 ;;
*" create-bucket "*) touch "$FAKE_STATE/bucket" ;;
*" wait bucket-exists "*) [ -e "$FAKE_STATE/bucket" ] ;;
*" put-bucket-versioning "*) [ -n "${FAKE_NO_VERSIONING:-}" ] || touch "$FAKE_STATE/versioned" ;;
*" put-public-access-block "*) touch "$FAKE_STATE/pab" ;;
*" put-bucket-"*) : ;;
*" get-bucket-versioning "*) if [ -e "$FAKE_STATE/versioned" ]; then echo Enabled; else echo None; fi ;;
*" get-public-access-block "*)
  [ -e "$FAKE_STATE/pab" ] || { echo "NoSuchPublicAccessBlockConfiguration" >&2; exit 254; }
  printf 'True\tTrue\tTrue\tTrue\n' ;;
*) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
EOF2

vars=$tmp/production.tfvars
region() { printf 'name = "tca"\naws_region = "%s"\n' "$1" >"$vars"; }
run() { : >"$CALLS"; env VAR_FILE="$vars" "$@" "$script" >"$tmp/out" 2>&1; }

region eu-west-1
run; rc=$?
t "new bucket: exit 0" $rc
called '^aws s3api --region eu-west-1 create-bucket --bucket 123456789012-tca-tfstate .*--create-bucket-configuration LocationConstraint=eu-west-1'
t "creates <account>-<name>-tfstate in the stack's region" $?
called 'put-bucket-versioning .*Status=Enabled' && called 'put-bucket-encryption .*"SSEAlgorithm":"AES256"' &&
  called 'put-public-access-block .*BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true'
t "versioning, default encryption, every public access block" $?
called 'put-bucket-policy .*"aws:SecureTransport":"false"' && called 'put-bucket-ownership-controls .*BucketOwnerEnforced' &&
  called 'put-bucket-lifecycle-configuration .*NoncurrentVersionExpiration'
t "TLS-only bucket policy, owner-enforced ownership, old versions expire" $?
[ "$(grep -c -- '--expected-bucket-owner 123456789012' "$CALLS")" -ge 9 ]
t "every bucket call names the expected owner (no writing into someone else's bucket)" $?
grep -q '^bucket *= "123456789012-tca-tfstate"$' "$backend" && grep -q '^key *= "tca/terraform.tfstate"$' "$backend" &&
  grep -q '^region *= "eu-west-1"$' "$backend" && grep -q '^use_lockfile = true$' "$backend" &&
  grep -q '^encrypt *= true$' "$backend"
t "writes backend.hcl: bucket, key, region, encrypt, S3 lock file" $?
[ -e "$repo/deploy/terraform/backend_s3.tf" ]
t "switches the S3 backend on (backend_s3.tf)" $?
grep -q "next: make deploy-init" "$tmp/out" && grep -q "tf_state_bucket = \"123456789012-tca-tfstate\"" "$tmp/out"
t "no local state: says make deploy-init, and to put tf_state_bucket in the variables file" $?

cp "$backend" "$tmp/backend.first"
run; rc=$?
[ $rc -eq 0 ] && ! called 'create-bucket' && cmp -s "$backend" "$tmp/backend.first"
t "second run: nothing created, same backend.hcl (idempotent)" $?

rm -rf "$FAKE_STATE"
: >"$repo/deploy/terraform/terraform.tfstate"
region us-east-1
run; rc=$?
[ $rc -eq 0 ] && called 'create-bucket --bucket 123456789012-tca-tfstate' && ! called 'LocationConstraint'
t "us-east-1: created without a LocationConstraint" $?
grep -q 'init -migrate-state -backend-config=backend.hcl' "$tmp/out"
t "local state found: prints terraform init -migrate-state" $?
rm -f "$repo/deploy/terraform/terraform.tfstate"

rm -rf "$FAKE_STATE" "$backend"
run STATE_BUCKET=their-bucket FAKE_HEAD=forbidden; rc=$?
[ $rc -ne 0 ] && grep -q 'another account' "$tmp/out" && ! called 'create-bucket' && ! called 'put-' && [ ! -e "$backend" ]
t "a bucket of another account (403): refused, nothing written" $?
run FAKE_HEAD=moved; rc=$?
[ $rc -ne 0 ] && grep -q 'another region' "$tmp/out" && ! called 'put-'
t "a bucket in another region (301): refused" $?
run FAKE_IDENT=none; rc=$?
[ $rc -ne 0 ] && grep -q 'credentials' "$tmp/out" && ! called 's3api'
t "no credentials: refused before any S3 call" $?
run FAKE_NO_VERSIONING=1; rc=$?
[ $rc -ne 0 ] && grep -q "versioning of .* is 'None'" "$tmp/out" && [ ! -e "$backend" ]
t "versioning that did not stick: fails on the read-back, no backend.hcl" $?

printf 'name = "tca"\naws_region = "eu-west-1"\ntf_state_bucket = "acme-state"\n' >"$vars"
rm -rf "$FAKE_STATE"
run; rc=$?
[ $rc -eq 0 ] && called 'create-bucket --bucket acme-state ' && grep -q '"acme-state"' "$backend"
t "tf_state_bucket in the variables file names the bucket" $?
! grep -q "add to" "$tmp/out"
t "... and then it does not ask to add it" $?
printf 'name = "tca"\n' >"$vars"
run; rc=$?
[ $rc -ne 0 ] && grep -q 'aws_region is not set' "$tmp/out"
t "no aws_region in the variables file: refused" $?

done_testing bootstrap-state.t
