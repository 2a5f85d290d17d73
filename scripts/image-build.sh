#!/usr/bin/env bash
# image-build.sh — the one way the container image is built, for people (mk/container.mk,
# mk/deploy.mk) and for CI (.github/workflows/deploy.yml) alike:
#
#   scripts/image-build.sh local          build IMAGE_NAME:IMAGE_TAG and IMAGE_NAME:latest here
#   scripts/image-build.sh push URI       build URI:TAG for a registry repository and push it
#   scripts/image-build.sh ecr NAME       the same for the ECR repository NAME of the AWS stack:
#                                         log in through the AWS CLI, require the RDS CA bundle,
#                                         then run the scan gate (ecr-scan-gate.sh)
#   scripts/image-build.sh check NAME     fail unless the ECR repository NAME has the tag (before
#                                         a plan, apply or rollback names it: no task definition
#                                         for an image nobody pushed)
#
# Every build is for PLATFORM (default linux/amd64, what the Fargate tasks run) and carries the
# labels org.opencontainers.image.revision (GIT_REV) and io.techchallengeapp.rds-ca (the SHA-256
# of the RDS CA bundle baked in, or "none").
#
# Pushed tags are immutable. Before building, `push` and `ecr` look the tag up in the registry:
# missing -> build and push; present -> reused only when the image there is this revision and,
# for `ecr`, carries the RDS CA bundle; otherwise the script stops and says how to get a new
# tag. A lookup that fails for another reason (denied, no network) stops the script too: it is
# never taken for "missing".
#
# The RDS CA bundle (deploy/certs/rds-global-bundle.pem, git-ignored) is what lets the app
# verify the database (DbSslMode verify-full). `ecr` downloads it when it is missing
# (RDS_CA_URL), checks it is a PEM bundle of Amazon RDS certificates and builds with
# REQUIRE_RDS_CA=1, so the Dockerfile fails if it is not in the context. RDS_CA=1 does the same
# for `push` and `local`.
#
# Environment: CONTAINER_ENGINE (docker when a Docker engine answers, else podman), IMAGE_NAME
# (techchallengeapp), IMAGE_TAG (local: the short commit; push/ecr: the full commit SHA, and a
# tree with uncommitted changes is refused unless IMAGE_TAG is given), GIT_REV, PLATFORM,
# RDS_CA, RDS_CA_URL, IMAGE_BUILD_ARGS (extra words for the build), SCAN_GATE=0 (skip the
# gate), AWS_REGION for `ecr`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=deploy/certs/rds-global-bundle.pem
RDS_CA_URL=${RDS_CA_URL:-https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem}
PLATFORM=${PLATFORM:-linux/amd64}
IMAGE_NAME=${IMAGE_NAME:-techchallengeapp}

die() {
  echo "image-build: $*" >&2
  exit 1
}
say() { echo "image-build: $*"; }
# SHA-256 of a file through openssl (macOS has no sha256sum).
sha256() { openssl dgst -sha256 <"$1" | awk '{ print $NF }'; }

usage() {
  echo "usage: $0 local | push REPOSITORY-URI | ecr REPOSITORY-NAME | check REPOSITORY-NAME" >&2
  exit 2
}

engine() {
  if [ "$ENGINE" = podman ] && [ -f "$root/tests/container/containers.conf" ]; then
    CONTAINERS_CONF=${CONTAINERS_CONF:-$root/tests/container/containers.conf} podman "$@"
  else
    "$ENGINE" "$@"
  fi
}

pick_engine() {
  ENGINE=${CONTAINER_ENGINE:-}
  if [ -z "$ENGINE" ]; then
    if docker info >/dev/null 2>&1; then
      ENGINE=docker
    elif command -v podman >/dev/null 2>&1; then
      ENGINE=podman
    else
      ENGINE=docker
    fi
  fi
  command -v "$ENGINE" >/dev/null 2>&1 || die "'$ENGINE' not found (set CONTAINER_ENGINE)"
}

# The tag and revision: a pushed tag names exactly one commit.
pick_tag() { # pick_tag local|push
  local head dirty=
  head=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
  if [ "$head" != unknown ] && ! git -C "$root" diff --quiet HEAD -- 2>/dev/null; then
    dirty=-dirty
  fi
  if [ "$1" = local ]; then
    TAG=${IMAGE_TAG:-$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
  else
    if [ -z "${IMAGE_TAG:-}" ]; then
      [ -z "$dirty" ] || die "uncommitted changes: commit first (the tag is the commit SHA) or set IMAGE_TAG"
      [ "$head" != unknown ] || die "not a git checkout: set IMAGE_TAG"
    fi
    TAG=${IMAGE_TAG:-$head}
  fi
  GIT_REV=${GIT_REV:-$head$dirty}
  [[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$TAG' is not a valid image tag"
}

# Download the bundle when missing, then check it: PEM certificates, issued by Amazon RDS.
rds_bundle() {
  local f=$root/$bundle count
  if [ ! -s "$f" ]; then
    say "downloading the RDS CA bundle to $bundle"
    mkdir -p "$(dirname "$f")"
    curl -fsSL --retry 3 --max-time 60 -o "$f.tmp" "$RDS_CA_URL" ||
      { rm -f "$f.tmp"; die "cannot download the RDS CA bundle from $RDS_CA_URL; put it at $bundle (an image for RDS without it cannot verify the database)"; }
    mv "$f.tmp" "$f"
  fi
  count=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$f" || true)
  [ "$count" -ge 1 ] || die "$bundle holds no PEM certificate: delete it and run again"
  # Each certificate must parse, and they must be Amazon RDS's (not, say, an HTML error page
  # around one stray certificate). One file per certificate: LibreSSL has no storeutl.
  local split subjects c
  split=$(mktemp -d)
  awk -v dir="$split" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/" n ".pem") }' "$f"
  subjects=
  for c in "$split"/*.pem; do
    subjects+=$(openssl x509 -noout -subject -in "$c" 2>/dev/null)$'\n' ||
      { rm -rf "$split"; die "$bundle: certificate $(basename "$c" .pem) does not parse: delete it and run again"; }
  done
  rm -rf "$split"
  grep -q 'Amazon RDS' <<<"$subjects" ||
    die "$bundle is not the Amazon RDS CA bundle (no 'Amazon RDS' certificate in it): delete it and run again"
  RDS_CA_SUM=$(sha256 "$f")
  say "RDS CA bundle: $count certificates, sha256 $RDS_CA_SUM"
}

build() { # build TAG-REF...
  local args=(build --platform "$PLATFORM"
    --label "org.opencontainers.image.revision=$GIT_REV"
    --label "io.techchallengeapp.rds-ca=$RDS_CA_SUM"
    --build-arg "GIT_REV=$GIT_REV" --build-arg "REQUIRE_RDS_CA=$REQUIRE")
  local ref
  if [ "$ENGINE" = podman ]; then
    # No Docker Hub here: the base comes from scripts/podman-base.sh; --format docker keeps
    # the HEALTHCHECK, which the OCI format drops.
    args+=(--pull=never --network host --format docker)
  elif [ "$MODE" != local ]; then
    args+=(--pull)
  fi
  for ref in "$@"; do
    args+=(-t "$ref")
  done
  # IMAGE_BUILD_ARGS is a list of words by design.
  # shellcheck disable=SC2206
  args+=(${IMAGE_BUILD_ARGS:-} "$root")
  say "$ENGINE ${args[*]}"
  engine "${args[@]}"
}

# present | missing, or the script stops: an error is never read as "missing".
remote_state() { # remote_state REF
  local out rc=0
  if [ "$MODE" = ecr ] || [ "$MODE" = check ]; then
    out=$(aws ecr describe-images --repository-name "$REPO_NAME" --image-ids "imageTag=$TAG" \
      --query 'imageDetails[0].imageDigest' --output text 2>&1) || rc=$?
    if [ $rc -eq 0 ]; then
      echo present
    elif grep -q 'ImageNotFoundException' <<<"$out"; then
      echo missing
    else
      die "cannot look up $1 in ECR: $out"
    fi
  else
    out=$(engine manifest inspect "$1" 2>&1) || rc=$?
    if [ $rc -eq 0 ]; then
      echo present
    elif grep -Eqi 'no such manifest|manifest unknown|not found' <<<"$out"; then
      echo missing
    else
      die "cannot look up $1 in the registry: $out"
    fi
  fi
}

# An existing tag is reused only for the same revision (and, when required, with the bundle).
check_existing() { # check_existing REF
  local ref=$1 labels rev ca
  say "$ref already exists (tags are immutable): checking what it is"
  engine pull --platform "$PLATFORM" "$ref" >/dev/null || die "cannot pull the existing $ref"
  labels=$(engine image inspect --format \
    '{{index .Config.Labels "org.opencontainers.image.revision"}} {{index .Config.Labels "io.techchallengeapp.rds-ca"}}' "$ref")
  rev=${labels%% *} ca=${labels#* }
  local fix="tags are immutable: commit and build the new commit, or delete the old image first"
  [ "$rev" = "$GIT_REV" ] ||
    die "$ref was built from revision '${rev:-unknown}', not $GIT_REV; $fix"
  if [ "$REQUIRE" = 1 ] && { [ -z "$ca" ] || [ "$ca" = none ] || [ "$ca" = "<no value>" ]; }; then
    die "$ref was built without the RDS CA bundle (it cannot verify the database); $fix"
  fi
  say "reusing $ref: revision $rev, RDS CA bundle ${ca:-none}"
}

MODE=${1:-}
RDS_CA_SUM=none
REQUIRE=${RDS_CA:-0}
case "$MODE" in
local)
  [ $# -eq 1 ] || usage
  ;;
push)
  [ $# -eq 2 ] || usage
  URI=$2
  ;;
ecr | check)
  [ $# -eq 2 ] || usage
  REPO_NAME=$2
  REQUIRE=1
  ;;
*) usage ;;
esac

if [ "$MODE" = check ]; then
  pick_tag push
  command -v aws >/dev/null 2>&1 || die "the AWS CLI v2 is needed for 'check'"
  case "$(remote_state "$REPO_NAME:$TAG")" in
  present) say "$REPO_NAME:$TAG is in ECR" ;;
  missing) die "no image $REPO_NAME:$TAG in ECR: build and push it first (make deploy-image-push), or name a pushed tag" ;;
  *) exit 1 ;;
  esac
  exit 0
fi

pick_engine
pick_tag "$([ "$MODE" = local ] && echo local || echo push)"
if [ "$REQUIRE" = 1 ]; then
  rds_bundle
elif [ -s "$root/$bundle" ]; then
  RDS_CA_SUM=$(sha256 "$root/$bundle")
fi

if [ "$MODE" = local ]; then
  build "$IMAGE_NAME:$TAG" "$IMAGE_NAME:latest"
  engine image inspect --format "$IMAGE_NAME:$TAG {{.Size}} bytes" "$IMAGE_NAME:$TAG"
  exit 0
fi

registry=
if [ "$MODE" = ecr ]; then
  command -v aws >/dev/null 2>&1 || die "the AWS CLI v2 is needed for 'ecr'"
  out=$(aws ecr describe-repositories --repository-names "$REPO_NAME" \
    --query 'repositories[0].repositoryUri' --output text 2>&1) ||
    die "no ECR repository '$REPO_NAME' (create it first: make deploy-ecr): $out"
  URI=$out
  registry=${URI%%/*}
  aws ecr get-login-password | engine login --username AWS --password-stdin "$registry" >/dev/null ||
    die "cannot log in to $registry"
fi
ref=$URI:$TAG

case "$(remote_state "$ref")" in
present) check_existing "$ref" ;;
missing)
  build "$ref"
  engine push "$ref"
  say "pushed $ref"
  ;;
*) exit 1 ;;
esac

if [ "$MODE" = ecr ]; then
  if [ "${SCAN_GATE:-1}" != 0 ]; then
    "$root/deploy/terraform/scripts/ecr-scan-gate.sh" "$REPO_NAME" "$TAG"
  fi
  engine logout "$registry" >/dev/null 2>&1 || true
fi
echo "image=$ref"
