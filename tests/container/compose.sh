#!/usr/bin/env bash
# docker-compose.yml, for real: Debian's docker-compose (v1) against podman's Docker-compatible
# API on a private unix socket (no Docker engine here). Brings the project up and checks the
# order the file promises — db healthy, then migrate exits 0, then app healthy — and the API
# (POST then GET) through the published port, a graceful stop of the app, then `down -v`.
# Run by `make compose-test`. Prints TAP.
set -uo pipefail
# shellcheck source=tests/container/lib.sh
. "$(dirname "$0")/lib.sh"

need_packages
tmp=$(mktemp -d)
# Compose services find each other by name (`db`) only with a DNS on their network: netavark
# with aardvark-dns. Podman keeps the backend it first ran with, and CNI without the dnsname
# plugin resolves nothing ("could not translate host name"), so ask for netavark here (not in
# containers.conf: on these machines `podman run -p 127.0.0.1:...` publishes only through CNI).
{ cat "$CONTAINERS_CONF"; printf '\n[network]\nnetwork_backend = "netavark"\n'; } >"$tmp/containers.conf"
export CONTAINERS_CONF=$tmp/containers.conf
proj=tcacompose$$
sock=$tmp/podman.sock
service_pid=
export DOCKER_HOST=unix://$sock
export TCA_PORT GIT_REV
TCA_PORT=$(free_port)
GIT_REV=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
compose() {
  docker-compose --ansi never -p "$proj" -f "$repo/docker-compose.yml" \
    -f "$repo/tests/container/compose.podman.yml" "$@"
}
cleanup() {
  health_driver_stop
  compose down -v --timeout 5 >/dev/null 2>&1 || true
  if [ -n "$service_pid" ]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

start=$(date +%s)
"$repo/scripts/podman-base.sh" "$CONTAINER_CACHE" || bail "no base image"
need_container_dns
rc=$?
ok $rc "containers on one network resolve each other's names (netavark + aardvark-dns)"
[ $rc -eq 0 ] || bail "no container DNS: compose services could not find \"db\""

podman system service --time=0 "unix://$sock" >"$tmp/service.log" 2>&1 &
service_pid=$!
wait_for 30 test -S "$sock"
ok $? "podman system service listens on a unix socket"

compose config -q
ok $? "docker-compose config accepts the file"
! grep -Eq '^(name|version):' "$repo/docker-compose.yml"
ok $? "no top-level name: or version:"

build_start=$(date +%s)
compose build >"$tmp/build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -30 "$tmp/build.log" | sed 's/^/# /'
ok $rc "docker-compose build ($(($(date +%s) - build_start)) s)"

health_driver_start "label=com.docker.compose.project=$proj"
up_start=$(date +%s)
timeout 300 docker-compose --ansi never -p "$proj" -f "$repo/docker-compose.yml" \
  -f "$repo/tests/container/compose.podman.yml" up -d >"$tmp/up.log" 2>&1
rc=$?
ok $rc "docker-compose up -d ($(($(date +%s) - up_start)) s)"
if [ $rc -ne 0 ]; then
  tail -30 "$tmp/up.log" | sed 's/^/# /'
  for c in $(podman ps -a -q --filter "label=com.docker.compose.project=$proj"); do
    podman logs --tail 20 "$c" 2>&1 | sed "s/^/# $c: /"
  done
  bail "the project did not come up"
fi

db=${proj}_db_1
migrate=${proj}_migrate_1
app=${proj}_app_1
is_healthy "$db"
ok $? "db is healthy (pg_isready -h 127.0.0.1)"

code=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$migrate" 2>/dev/null)
[ "$code" = "exited 0" ]
ok $? "migrate ran once and exited 0 ($code)"
db_ready=$(podman inspect --format '{{.State.StartedAt.Unix}}' "$db")
migrate_started=$(podman inspect --format '{{.State.StartedAt.Unix}}' "$migrate")
migrate_done=$(podman inspect --format '{{.State.FinishedAt.Unix}}' "$migrate")
app_started=$(podman inspect --format '{{.State.StartedAt.Unix}}' "$app")
[ "$db_ready" -le "$migrate_started" ] && [ "$migrate_done" -le "$app_started" ]
ok $? "order: db started, then migrate, then app after migrate finished"

wait_for 60 is_healthy "$app"
ok $? "app is healthy (TechChallengeApp healthcheck)"

ro=$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}} {{json .HostConfig.CapDrop}}' "$app")
diag "app: read-only $ro"
[[ $ro == "true "* ]]
ok $? "app runs with a read-only root filesystem"
capeff=$(podman exec "$app" cat /proc/1/status 2>/dev/null | awk '$1 == "CapEff:" { print $2 }')
[ "$capeff" = 0000000000000000 ]
ok $? "app has no capabilities (CapEff $capeff)"

base_url=http://127.0.0.1:$TCA_PORT
wait_for 20 curl -fsS "$base_url/healthcheck/"
ok $? "GET /healthcheck/ through 127.0.0.1:$TCA_PORT"
created=$(curl -sS -X POST -H 'Content-Type: application/json' \
  -d '{"title":"from compose","priority":3}' "$base_url/api/task/")
id=$(printf '%s' "$created" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["id"] if t["title"]=="from compose" else "")' 2>/dev/null)
[ -n "$id" ]
ok $? "POST /api/task/ stores a task in PostgreSQL: $created"
curl -sS "$base_url/api/task/" | python3 -c '
import json, sys
tasks = json.load(sys.stdin)
sys.exit(0 if any(t["id"] == int(sys.argv[1]) and t["priority"] == 3 for t in tasks) else 1)' "$id"
ok $? "GET /api/task/ returns it"

compose stop -t 30 app >/dev/null 2>&1
code=$(podman inspect --format '{{.State.ExitCode}}' "$app")
[ "$code" = 0 ]
ok $? "docker-compose stop app: SIGTERM, exit code $code"

health_driver_stop
compose down -v --timeout 10 >"$tmp/down.log" 2>&1
ok $? "docker-compose down -v"
left=$(podman ps -a -q --filter "label=com.docker.compose.project=$proj" | wc -l)
vols=$(podman volume ls -q | grep -c "^${proj}_" || true)
[ "$left" -eq 0 ] && [ "$vols" -eq 0 ]
ok $? "no containers or volumes left ($left, $vols)"

diag "compose-test wall time $(($(date +%s) - start)) s"
done_testing
