# shellcheck shell=bash
# terraform.sh — sourced by the .t scripts that need the terraform CLI.
#
#   . tests/lib/terraform.sh
#   terraform_or_skip         # returns when terraform is on PATH; otherwise ends the test
#
# Terraform is not a Debian package, so a fresh Debian 12 machine has none and
# scripts/bootstrap.sh cannot install it. There the test is skipped visibly (a TAP `1..0 # SKIP`
# plan that prove prints with the reason and the install hint). CI sets TCA_REQUIRE_TERRAFORM=1
# and installs Terraform first: a missing terraform is then a failure, never a skip.

terraform_or_skip() {
  command -v terraform >/dev/null && return 0
  local hint="install Terraform >= 1.10 (HashiCorp's build, not a Debian package) on PATH"
  if [ "${TCA_REQUIRE_TERRAFORM:-0}" = 1 ]; then
    echo "1..1"
    echo "not ok 1 - terraform is on PATH (TCA_REQUIRE_TERRAFORM=1: $hint)"
    exit 1
  fi
  echo "1..0 # SKIP terraform not on PATH: $hint (TCA_REQUIRE_TERRAFORM=1 makes this a failure)"
  exit 0
}
