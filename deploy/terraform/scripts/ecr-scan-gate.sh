#!/usr/bin/env bash
# ecr-scan-gate.sh REPOSITORY TAG — the release gate on ECR's scan of a pushed image: wait for
# the scan, then fail when it found a CRITICAL vulnerability that is not in the allow-list
# (ALLOWLIST, default deploy/cve-allowlist.txt: "<id> <review-by YYYY-MM-DD> <reason>"; an
# entry past its date no longer counts). Reads basic and enhanced (Inspector) findings. Used by
# scripts/image-build.sh, so `make deploy-image-push` and CI apply the same gate.
# shellcheck disable=SC2016 # JMESPath literals in backticks
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
ALLOWLIST=${ALLOWLIST:-$root/deploy/cve-allowlist.txt}
TODAY=${TODAY:-$(date -u +%F)}

die() {
  echo "ecr-scan-gate: $*" >&2
  exit 1
}
[ $# -eq 2 ] || {
  echo "usage: $0 REPOSITORY TAG" >&2
  exit 2
}
repo=$1 tag=$2

aws ecr wait image-scan-complete --repository-name "$repo" --image-id "imageTag=$tag" ||
  die "the scan of $repo:$tag did not complete (see: aws ecr describe-image-scan-findings --repository-name $repo --image-id imageTag=$tag)"
status=$(aws ecr describe-image-scan-findings --repository-name "$repo" --image-id "imageTag=$tag" \
  --query 'imageScanStatus.status' --output text)
case "$status" in
COMPLETE | ACTIVE) ;;
*) die "scan status of $repo:$tag is '$status', not COMPLETE" ;;
esac

found=$(aws ecr describe-image-scan-findings --repository-name "$repo" --image-id "imageTag=$tag" \
  --query '[imageScanFindings.findings[?severity==`CRITICAL`].name, imageScanFindings.enhancedFindings[?severity==`CRITICAL`].packageVulnerabilityDetails.vulnerabilityId][]' \
  --output text | tr '\t' '\n' | sed '/^$/d; /^None$/d' | sort -u)

# "id review_by" lines of the entries in force (no associative arrays: macOS ships bash 3.2).
allowed=
if [ -r "$ALLOWLIST" ]; then
  while read -r id review_by _; do
    case "$id" in '' | '#'*) continue ;; esac
    [[ $review_by =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] ||
      die "$ALLOWLIST: '$id' needs a review-by date (YYYY-MM-DD) after it"
    if [[ $review_by < $TODAY ]]; then
      echo "ecr-scan-gate: allow-list entry $id expired on $review_by: it no longer counts" >&2
      continue
    fi
    allowed+="$id $review_by"$'\n'
  done <"$ALLOWLIST"
fi

blocking=()
for id in $found; do
  review_by=$(awk -v id="$id" '$1 == id { print $2; exit }' <<<"$allowed")
  if [ -n "$review_by" ]; then
    echo "ecr-scan-gate: critical $id accepted by the allow-list (review by $review_by)"
  else
    blocking+=("$id")
  fi
done
if [ ${#blocking[@]} -gt 0 ]; then
  die "$repo:$tag has ${#blocking[@]} critical finding(s) not in $(basename "$ALLOWLIST"): ${blocking[*]}"
fi
echo "ecr-scan-gate: $repo:$tag: no critical finding outside the allow-list"
