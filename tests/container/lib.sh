# shellcheck shell=bash
# lib.sh — shared by the container tests (sourced, bash): TAP output, podman set-up for these
# machines, free ports, bounded waits. Tests print TAP; `prove` reads it.
#
# podman runs here without systemd, so nothing runs the containers' health checks on a timer:
# health_driver_start does that job (it calls `podman healthcheck run`, which executes the
# image's own HEALTHCHECK command inside the container and records the result, as Docker's
# engine would).

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$repo/tests/container/containers.conf}
CONTAINER_CACHE=${CONTAINER_CACHE:-/var/tmp/tca-container}

tap_n=0
tap_failed=0
ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
  tap_n=$((tap_n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $tap_n - $2"
  else
    echo "not ok $tap_n - $2"
    tap_failed=$((tap_failed + 1))
  fi
}
diag() { printf '# %s\n' "$@"; }
bail() {
  echo "Bail out! $*"
  exit 1
}
done_testing() {
  echo "1..$tap_n"
  [ "$tap_failed" -eq 0 ]
}

# Install the Debian packages in tests/container/packages.txt that are missing (as bootstrap.sh
# does for deps/apt-*.txt; these are kept out of deps/ so `make test` does not install podman).
need_packages() {
  local missing=() pkg
  # shellcheck disable=SC2013 # words, not lines: several names per line
  for pkg in $(sed 's/#.*//' "$repo/tests/container/packages.txt"); do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || bail "missing ${missing[*]}: run as root or install them"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  } || bail "cannot install ${missing[*]}"
}

# Containers of one compose project find each other by service name ("db"). podman 4.3 gives
# that through the netavark network backend and its DNS server aardvark-dns (compose.sh selects
# netavark in its copy of containers.conf; both are in packages.txt). Without them podman falls back to CNI, whose
# networks have no DNS unless the dnsname plugin happens to be installed, and compose fails much
# later with 'could not translate host name "db"'. need_container_dns fails at once instead,
# naming what is missing, and proves resolution with two containers on a throwaway network
# (returns non-zero when that lookup fails).
need_container_dns() {
  local backend net=tcadns$$ image=docker.io/library/debian:bookworm-slim
  backend=$(podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null)
  [ "$backend" = netavark ] ||
    bail "podman's network backend is '$backend', not netavark: container names will not resolve" \
      "(install netavark and aardvark-dns; compose.sh selects netavark)"
  [ -x /usr/lib/podman/aardvark-dns ] ||
    bail "netavark has no DNS server: install aardvark-dns (tests/container/packages.txt)"
  podman network create "$net" >/dev/null 2>&1 || bail "cannot create a podman network"
  podman run -d --name "${net}a" --network "$net" "$image" sleep 30 >/dev/null 2>&1
  timeout 60 podman run --rm --network "$net" "$image" getent hosts "${net}a" >/dev/null 2>&1
  local rc=$?
  podman rm -f -t 0 "${net}a" >/dev/null 2>&1
  podman network rm -f "$net" >/dev/null 2>&1
  return $rc
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: run COMMAND once a second until it succeeds or time runs out.
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

# health_driver_start FILTER: every 2 s, run the health check of each running container that
# matches the podman --filter FILTER (bounded to 15 minutes). health_driver_stop ends it.
health_driver_pid=
health_driver_start() {
  local filter=$1
  (
    for ((i = 0; i < 450; i++)); do
      for c in $(podman ps -q --filter "$filter" 2>/dev/null); do
        podman healthcheck run "$c" >/dev/null 2>&1 || true
      done
      sleep 2
    done
  ) &
  health_driver_pid=$!
}
health_driver_stop() {
  if [ -n "$health_driver_pid" ]; then
    kill "$health_driver_pid" 2>/dev/null || true
    wait "$health_driver_pid" 2>/dev/null || true
    health_driver_pid=
  fi
}

health_of() { podman inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null; }
is_healthy() { [ "$(health_of "$1")" = healthy ]; }

# The debootstrapped debian:bookworm-slim, then the app image, tagged $1.
build_app_image() {
  local tag=$1
  "$repo/scripts/podman-base.sh" "$CONTAINER_CACHE" || bail "no base image"
  local log
  log=$(mktemp)
  # The build every other path uses (make image, CI): platform, labels, RDS CA handling.
  if ! CONTAINER_ENGINE=podman IMAGE_NAME=${tag%:*} IMAGE_TAG=${tag##*:} \
    "$repo/scripts/image-build.sh" local >"$log" 2>&1; then
    sed 's/^/# /' "$log" | tail -40
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}
