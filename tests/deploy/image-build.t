#!/usr/bin/env bash
# image-build.t — scripts/image-build.sh, the one image build path of make and CI, against
# stand-in docker, aws and curl commands (no engine, registry or AWS here): the RDS CA bundle is
# fetched, checked and required for ECR; an existing tag is reused only for the same revision
# with the bundle; a failed lookup is never taken for "missing"; the platform is linux/amd64;
# make and the deploy workflow build through this script and nothing else.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

repo=$tmp/repo
checkout "$repo" scripts/image-build.sh deploy/terraform/scripts/ecr-scan-gate.sh deploy/cve-allowlist.txt
sha=$(git -C "$repo" rev-parse HEAD)
script=$repo/scripts/image-build.sh
uri=123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/tca

# A CA bundle that passes the check, one that is not Amazon RDS's, one that is not PEM.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/k.pem" -out "$tmp/rds.pem" -days 2 \
  -subj "/C=US/O=Amazon Web Services, Inc./OU=Amazon RDS/CN=Amazon RDS test Root CA RSA2048 G1" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/k.pem" -out "$tmp/other.pem" -days 2 \
  -subj "/CN=Some Other CA" 2>/dev/null
printf '<html>503 Service Unavailable</html>\n' >"$tmp/html.pem"
rds_sum=$(sha256sum "$tmp/rds.pem" | cut -c1-64)

stub docker <<'EOF'
echo "docker $*" >>"$CALLS"
case "$1" in
info | login | logout | pull | build | push) cat >/dev/null <&0 2>/dev/null || true ;;
manifest)
  case "${FAKE_IMAGE:-missing}" in
  present) echo '{}' ;;
  missing) echo "no such manifest: $3" >&2; exit 1 ;;
  *) echo "unauthorized: authentication required" >&2; exit 1 ;;
  esac ;;
image)
  case "$*" in
  *revision*) echo "${FAKE_REV:-} ${FAKE_CA:-}" ;;
  *) echo "12345 bytes" ;;
  esac ;;
*) echo "unexpected docker call" >&2; exit 1 ;;
esac
EOF
stub aws <<'EOF'
echo "aws $*" >>"$CALLS"
case "$1 $2" in
"ecr describe-repositories")
  [ "${FAKE_REPO:-present}" = present ] || { echo "An error occurred (RepositoryNotFoundException)" >&2; exit 254; }
  echo "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/tca" ;;
"ecr get-login-password") echo secret ;;
"ecr describe-images")
  case "${FAKE_IMAGE:-missing}" in
  present) echo "sha256:abc" ;;
  missing) echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation" >&2; exit 254 ;;
  *) echo "An error occurred (AccessDeniedException) when calling the DescribeImages operation" >&2; exit 254 ;;
  esac ;;
"ecr wait") exit 0 ;;
"ecr describe-image-scan-findings")
  case "$*" in
  *imageScanStatus*) echo COMPLETE ;;
  *) echo "${FAKE_CRITICAL:-None}" ;;
  esac ;;
*) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
EOF
stub curl <<'EOF'
echo "curl $*" >>"$CALLS"
[ -n "${FAKE_CURL_SRC:-}" ] || { echo "curl: (6) Could not resolve host" >&2; exit 6; }
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then cp "$FAKE_CURL_SRC" "$2"; fi
  shift
done
EOF

bundle=$repo/deploy/certs/rds-global-bundle.pem
run() { # run ENV... -- ARGS...: the script with a clean call log
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  : >"$CALLS"
  env CONTAINER_ENGINE=docker "${envs[@]}" "$script" "$@" >"$tmp/out" 2>&1
}
built() { called '^docker build '; }

# --- ecr: a new tag --------------------------------------------------------------------------
rm -f "$bundle"
run FAKE_CURL_SRC="$tmp/rds.pem" -- ecr tca; rc=$?
t "ecr, new tag: exit 0" $rc
[ -s "$bundle" ] && called '^curl .*truststore\.pki\.rds\.amazonaws\.com/global/global-bundle\.pem'
t "ecr: downloads the RDS CA bundle when it is missing" $?
called "^docker build --platform linux/amd64 .*--build-arg REQUIRE_RDS_CA=1 .*-t $uri:$sha "
t "ecr: builds for linux/amd64 with REQUIRE_RDS_CA=1, tagged with the commit SHA" $?
called "--label org.opencontainers.image.revision=$sha " &&
  called "--label io.techchallengeapp.rds-ca=$rds_sum "
t "ecr: labels the revision and the bundle's SHA-256" $?
called '^docker build .* --pull '
t "ecr: refreshes the base image (--pull)" $?
[ "$(grep -n "^aws ecr describe-images" "$CALLS" | cut -d: -f1)" -lt "$(grep -n '^docker build' "$CALLS" | cut -d: -f1)" ]
t "ecr: looks the tag up before building" $?
called "^docker push $uri:$sha$" && called '^aws ecr wait image-scan-complete'
t "ecr: pushes, then runs the scan gate" $?

run FAKE_CRITICAL="CVE-2099-0001" -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'CVE-2099-0001' "$tmp/out"
t "ecr: a critical finding fails the build step" $?

# --- the RDS CA bundle, loudly ---------------------------------------------------------------
rm -f "$bundle"
run -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'cannot download the RDS CA bundle' "$tmp/out" && ! built && ! called '^docker push'
t "ecr: no bundle and no download -> fails before building" $?
[ ! -e "$bundle" ]
t "ecr: a failed download leaves no file behind" $?

cp "$tmp/html.pem" "$bundle"
run -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'holds no PEM certificate' "$tmp/out" && ! built
t "ecr: a bundle that is not PEM (an error page) -> fails before building" $?

cp "$tmp/other.pem" "$bundle"
run -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'not the Amazon RDS CA bundle' "$tmp/out" && ! built
t "ecr: a PEM bundle without an Amazon RDS certificate -> fails before building" $?

{ cat "$tmp/rds.pem"; printf -- '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n'; } >"$bundle"
run -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'does not parse' "$tmp/out" && ! built
t "ecr: a bundle with a broken certificate -> fails before building" $?
cp "$tmp/rds.pem" "$bundle"

# --- an existing tag -------------------------------------------------------------------------
run FAKE_IMAGE=present FAKE_REV="$sha" FAKE_CA="$rds_sum" -- ecr tca; rc=$?
[ $rc -eq 0 ] && ! built && ! called '^docker push' && grep -q "reusing $uri:$sha" "$tmp/out"
t "ecr, tag exists for this revision with the bundle: reused, not rebuilt or pushed" $?

run FAKE_IMAGE=present FAKE_REV="$sha" FAKE_CA=none -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'built without the RDS CA bundle' "$tmp/out" && ! called '^docker push'
t "ecr, tag exists but was built without the bundle: refused" $?

run FAKE_IMAGE=present FAKE_REV="$sha" FAKE_CA="<no value>" -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'built without the RDS CA bundle' "$tmp/out"
t "ecr, tag exists with no bundle label at all (an old build): refused" $?

run FAKE_IMAGE=present FAKE_REV=0000000000000000000000000000000000000000 FAKE_CA="$rds_sum" -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q "built from revision '0000000000000000000000000000000000000000'" "$tmp/out" && ! called '^docker push'
t "ecr, tag exists for another revision: refused" $?

run FAKE_IMAGE=denied -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'cannot look up' "$tmp/out" && ! built && ! called '^docker push'
t "ecr, the lookup is denied: fails, never taken for a missing tag" $?

run FAKE_REPO=missing -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'make deploy-ecr' "$tmp/out" && ! built
t "ecr, no repository: fails and says make deploy-ecr" $?

# --- the tag names one commit ----------------------------------------------------------------
echo "# a local edit" >>"$repo/deploy/cve-allowlist.txt"
run -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'uncommitted changes' "$tmp/out" && ! built
t "ecr: uncommitted changes without IMAGE_TAG are refused" $?
run IMAGE_TAG=manual-1 -- ecr tca; rc=$?
[ $rc -eq 0 ] && called "^docker build .*--label org.opencontainers.image.revision=$sha-dirty .*-t $uri:manual-1 "
t "ecr: an explicit IMAGE_TAG builds, labelled as a dirty revision" $?
git -C "$repo" checkout -q -- deploy/cve-allowlist.txt

run IMAGE_TAG='bad tag' -- ecr tca; rc=$?
[ $rc -ne 0 ] && grep -q 'not a valid image tag' "$tmp/out"
t "ecr: an invalid tag is refused" $?

# --- local and push --------------------------------------------------------------------------
run IMAGE_NAME=techchallengeapp IMAGE_TAG=abc -- local; rc=$?
[ $rc -eq 0 ] && called '^docker build --platform linux/amd64 .*-t techchallengeapp:abc -t techchallengeapp:latest ' &&
  ! called '^docker push' && ! called '^aws ' && ! called '^docker build .* --pull '
t "local: builds name:tag and name:latest for linux/amd64, no push, no AWS" $?

rm -f "$bundle"
run IMAGE_TAG=abc -- local; rc=$?
[ $rc -eq 0 ] && called '--build-arg REQUIRE_RDS_CA=0' && called '--label io.techchallengeapp.rds-ca=none'
t "local: without a bundle the image says so (rds-ca=none)" $?
run IMAGE_TAG=abc RDS_CA=1 -- local; rc=$?
[ $rc -ne 0 ] && ! built
t "local with RDS_CA=1: no bundle -> fails" $?
cp "$tmp/rds.pem" "$bundle"

run PLATFORM=linux/arm64 IMAGE_TAG=abc -- local; rc=$?
[ $rc -eq 0 ] && called '^docker build --platform linux/arm64 '
t "PLATFORM selects another platform (cpu_architecture ARM64)" $?

run -- push registry.example.invalid/tca; rc=$?
[ $rc -eq 0 ] && called "^docker manifest inspect registry.example.invalid/tca:$sha" &&
  called "^docker push registry.example.invalid/tca:$sha$" && ! called '^aws '
t "push: a missing tag is built and pushed (looked up with the engine, no AWS)" $?
run FAKE_IMAGE=denied -- push registry.example.invalid/tca; rc=$?
[ $rc -ne 0 ] && ! built
t "push: an unauthorized lookup fails" $?
run FAKE_IMAGE=present FAKE_REV=other -- push registry.example.invalid/tca; rc=$?
[ $rc -ne 0 ] && ! called '^docker push'
t "push: an existing tag of another revision is refused" $?

# --- check: before a plan names a tag --------------------------------------------------------
run FAKE_IMAGE=present IMAGE_TAG=abc -- check tca; rc=$?
[ $rc -eq 0 ] && ! built
t "check: a pushed tag passes" $?
run FAKE_IMAGE=missing IMAGE_TAG=abc -- check tca; rc=$?
[ $rc -ne 0 ] && grep -q 'make deploy-image-push' "$tmp/out"
t "check: a tag nobody pushed fails and says how to push it" $?
run FAKE_IMAGE=denied IMAGE_TAG=abc -- check tca; rc=$?
[ $rc -ne 0 ] && grep -q 'cannot look up' "$tmp/out"
t "check: a denied lookup fails" $?

run -- bogus; rc=$?
[ $rc -eq 2 ]
t "unknown mode: usage, exit 2" $?

# --- one build path --------------------------------------------------------------------------
cd "$root" || exit 1
others=$(grep -nE '(docker|podman|CONTAINER_ENGINE\)|DOCKER\)) +build ' Makefile mk/*.mk .github/workflows/*.yml 2>/dev/null)
[ -z "$others" ]
t "no image build in the Makefile, mk/*.mk or the workflows outside scripts/image-build.sh ${others:+($others)}" $?
make -n image CONTAINER_ENGINE=docker 2>/dev/null | grep -q 'scripts/image-build.sh local'
t "make image builds through scripts/image-build.sh" $?
make -n deploy-image-push CONTAINER_ENGINE=docker 2>/dev/null | grep -q 'scripts/image-build.sh ecr '
t "make deploy-image-push builds through scripts/image-build.sh ecr" $?
/usr/bin/python3 - .github/workflows/deploy.yml <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
runs = [s.get("run", "") for s in wf["jobs"]["build"]["steps"]]
sys.exit(0 if any("scripts/image-build.sh ecr" in r for r in runs) else 1)
PY
t "deploy.yml's build job builds through scripts/image-build.sh ecr" $?

done_testing image-build.t
