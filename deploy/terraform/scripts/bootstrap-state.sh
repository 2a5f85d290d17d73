#!/usr/bin/env bash
# bootstrap-state.sh [BUCKET] — create (or bring into line) the S3 bucket that holds the
# Terraform state, then write deploy/terraform/backend.hcl for `terraform init`. Run by
# `make deploy-bootstrap`; safe to run again (every call below sets a state, none toggles one).
#
#   bucket   versioned, SSE-S3 encrypted (bucket key on), all public access blocked, owner-enforced
#            object ownership, a policy refusing plain-HTTP access, old state versions expire
#            after 90 days (NONCURRENT_DAYS)
#   lock     Terraform's S3-native lock file (use_lockfile = true, Terraform >= 1.10): the lock is
#            an object next to the state, so no DynamoDB table is needed
#
# BUCKET defaults to <account id>-<name>-tfstate; the name and region come from the variables
# file (VAR_FILE, default deploy/terraform/env/production.tfvars), so the state lives in the
# stack's region. us-east-1 is handled (S3 refuses a LocationConstraint there).
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
tf_dir=$root/deploy/terraform
VAR_FILE=${VAR_FILE:-$tf_dir/env/production.tfvars}
BACKEND_FILE=${BACKEND_FILE:-$tf_dir/backend.hcl}
NONCURRENT_DAYS=${NONCURRENT_DAYS:-90}
tfvar() { "$root/deploy/terraform/scripts/tfvar.sh" "$VAR_FILE" "$@"; }

die() {
  echo "bootstrap-state: $*" >&2
  exit 1
}
say() { echo "bootstrap-state: $*"; }

[ $# -le 1 ] || {
  echo "usage: $0 [BUCKET]" >&2
  exit 2
}
command -v aws >/dev/null 2>&1 || die "the AWS CLI v2 is needed (aws not found)"
[ -r "$VAR_FILE" ] || die "no variables file '$VAR_FILE' (set VAR_FILE)"
name=$(tfvar name techchallenge)
region=$(tfvar aws_region "")
[ -n "$region" ] || die "aws_region is not set in '$VAR_FILE'"
key=$(tfvar tf_state_key "$name/terraform.tfstate")

account=$(aws sts get-caller-identity --query Account --output text 2>&1) ||
  die "no usable AWS credentials ($account): log in first, e.g. aws sso login / export AWS_PROFILE=..."
bucket=${1:-${STATE_BUCKET:-$(tfvar tf_state_bucket "$account-$name-tfstate")}}
s3() { aws s3api --region "$region" "$@"; }

rc=0
out=$(s3 head-bucket --bucket "$bucket" --expected-bucket-owner "$account" 2>&1) || rc=$?
if [ $rc -eq 0 ]; then
  say "bucket $bucket exists in this account"
elif grep -Eq '404|Not Found|NoSuchBucket' <<<"$out"; then
  say "creating bucket $bucket in $region"
  if [ "$region" = us-east-1 ]; then
    s3 create-bucket --bucket "$bucket" --object-ownership BucketOwnerEnforced >/dev/null
  else
    s3 create-bucket --bucket "$bucket" --object-ownership BucketOwnerEnforced \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
  s3 wait bucket-exists --bucket "$bucket" --expected-bucket-owner "$account"
elif grep -Eq '403|Forbidden' <<<"$out"; then
  die "bucket $bucket belongs to another account or access is denied: pick another name (make deploy-bootstrap STATE_BUCKET=...) or check your permissions"
elif grep -Eq '301|Moved Permanently' <<<"$out"; then
  die "bucket $bucket exists in another region than $region: use a bucket in $region"
else
  die "cannot look up bucket $bucket: $out"
fi

say "versioning, encryption, public access block, ownership, TLS-only policy, lifecycle"
s3 put-bucket-versioning --bucket "$bucket" --expected-bucket-owner "$account" \
  --versioning-configuration Status=Enabled
s3 put-bucket-encryption --bucket "$bucket" --expected-bucket-owner "$account" \
  --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BucketKeyEnabled":true}]}'
s3 put-public-access-block --bucket "$bucket" --expected-bucket-owner "$account" \
  --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
s3 put-bucket-ownership-controls --bucket "$bucket" --expected-bucket-owner "$account" \
  --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
s3 put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$account" --policy "$(
  printf '{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}' "$bucket" "$bucket"
)"
s3 put-bucket-lifecycle-configuration --bucket "$bucket" --expected-bucket-owner "$account" \
  --lifecycle-configuration "$(
    printf '{"Rules":[{"ID":"old-state-versions","Status":"Enabled","Filter":{},"NoncurrentVersionExpiration":{"NoncurrentDays":%d},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}]}' "$NONCURRENT_DAYS"
  )" >/dev/null

# Read back what matters, so a silently ignored call cannot pass.
versioning=$(s3 get-bucket-versioning --bucket "$bucket" --expected-bucket-owner "$account" \
  --query Status --output text)
[ "$versioning" = Enabled ] || die "versioning of $bucket is '$versioning', not Enabled"
pab=$(s3 get-public-access-block --bucket "$bucket" --expected-bucket-owner "$account" \
  --query 'PublicAccessBlockConfiguration.[BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets]' \
  --output text)
[ "$(tr -s '\t ' '  ' <<<"$pab")" = "True True True True" ] || die "public access block of $bucket is incomplete: $pab"

cat >"$BACKEND_FILE" <<HCL
# Written by deploy/terraform/scripts/bootstrap-state.sh (make deploy-bootstrap).
bucket       = "$bucket"
key          = "$key"
region       = "$region"
encrypt      = true
use_lockfile = true
HCL
if [ ! -e "$tf_dir/backend_s3.tf" ]; then
  cp "$tf_dir/backend_s3.tf.example" "$tf_dir/backend_s3.tf"
fi
say "state: s3://$bucket/$key ($region), locked by s3://$bucket/$key.tflock"
say "wrote ${BACKEND_FILE#"$root"/} and deploy/terraform/backend_s3.tf"
if [ -e "$tf_dir/terraform.tfstate" ]; then
  say "local state found: move it into the bucket with"
  echo "  terraform -chdir=deploy/terraform init -migrate-state -backend-config=backend.hcl"
else
  say "next: make deploy-init"
fi
if [ "$(tfvar tf_state_bucket "")" != "$bucket" ]; then
  say "add to ${VAR_FILE#"$root"/} (the CI roles get access to this bucket through it):"
  echo "  tf_state_bucket = \"$bucket\""
fi
say "for CI, set the repository variables TF_STATE_BUCKET=$bucket TF_STATE_KEY=$key AWS_REGION=$region"
