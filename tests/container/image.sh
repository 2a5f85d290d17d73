#!/usr/bin/env bash
# The container image, for real, with podman (no Docker engine here): build it from the
# debootstrapped base, run it hardened (read-only root, no capabilities, no new privileges,
# embedded store on a tmpfs), wait for its own HEALTHCHECK to report healthy, use the API
# through the published port, then `podman stop` (SIGTERM) and expect exit code 0. Then as a
# deployment of the original: DbType boltdb with DbName on a volume, restarted on that volume.
# TCA_IMAGE_TAG sets the tag (default localhost/techchallengeapp:test).
# Run by `make image-test`. Prints TAP.
set -uo pipefail
# shellcheck source=tests/container/lib.sh
. "$(dirname "$0")/lib.sh"

need_packages
tag=${TCA_IMAGE_TAG:-localhost/techchallengeapp:test}
name=tca-image-test-$$-$RANDOM
vol=$(mktemp -d)
cleanup() {
  podman rm -f -t 0 "$name" "$name-vol" >/dev/null 2>&1 || true
  rm -rf "$vol"
}
trap cleanup EXIT

start=$(date +%s)
build_app_image "$tag"
ok $? "image builds ($(($(date +%s) - start)) s)"

size=$(podman image inspect --format '{{.Size}}' "$tag" 2>/dev/null || echo 0)
base=$(podman image inspect --format '{{.Size}}' docker.io/library/debian:bookworm-slim 2>/dev/null || echo 0)
diag "image size $((size / 1000000)) MB (base debian:bookworm-slim $((base / 1000000)) MB)"
[ "$size" -gt 0 ] && [ "$size" -lt 150000000 ]
ok $? "image is small: runtime stage only (under 150 MB)"

cfg=$(podman image inspect --format \
  '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Healthcheck.Test}}|{{json .Config.ExposedPorts}}' "$tag")
diag "config: $cfg"
case $cfg in
10001:10001'|["/usr/local/bin/TechChallengeApp"]|["CMD","/usr/local/bin/TechChallengeApp","healthcheck","--live"]|{"3000/tcp":{}}') rc=0 ;;
*) rc=1 ;;
esac
ok $rc "non-root user, exec-form entrypoint, HEALTHCHECK through the binary, port 3000"

# The system CA store: RDS Proxy's certificate is verified against it (deploy/terraform/ecs.tf
# sets VTT_DBSSLROOTCERT to it when db_proxy_enabled).
podman run --rm --no-healthcheck --read-only --cap-drop=ALL --entrypoint /usr/bin/test "$tag" \
  -s /etc/ssl/certs/ca-certificates.crt
ok $? "the image has the system CA store (/etc/ssl/certs/ca-certificates.crt)"

version=$(podman run --rm --no-healthcheck --read-only --cap-drop=ALL "$tag" --version 2>/dev/null)
[[ $version == "TechChallengeApp version "* ]]
ok $? "--version: $version"

port=$(free_port)
podman run -d --name "$name" --read-only --cap-drop=ALL --security-opt no-new-privileges \
  --tmpfs /tmp:rw,nosuid,nodev,size=16m,mode=1777 \
  -e VTT_DBTYPE=sqlite -e VTT_DBPATH=/tmp/tasks.db -e VTT_SHUTDOWNTIMEOUT=10 \
  -p "127.0.0.1:$port:3000" "$tag" >/dev/null
ok $? "runs with --read-only --cap-drop=ALL --security-opt no-new-privileges"

# Drive the image's own HEALTHCHECK (no systemd timer here) until it reports healthy.
wait_for 60 podman healthcheck run "$name"
ok $? "HEALTHCHECK (TechChallengeApp healthcheck --live) passes"
is_healthy "$name"
ok $? "podman reports the container healthy"

base_url=http://127.0.0.1:$port
wait_for 10 curl -fsS "$base_url/healthcheck/"
body=$(curl -sS "$base_url/healthcheck/")
[ "$body" = OK ]
ok $? "GET /healthcheck/ through the published port: $body"

ui=$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$base_url/")
[[ $ui == "200 text/html"* ]]
ok $? "GET / serves the embedded UI ($ui)"

created=$(curl -sS -X POST -H 'Content-Type: application/json' \
  -d '{"title":"from the image test","priority":2}' "$base_url/api/task/")
id=$(printf '%s' "$created" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["id"] if t["title"]=="from the image test" else "")' 2>/dev/null)
[ -n "$id" ]
ok $? "POST /api/task/ creates a task: $created"
curl -sS "$base_url/api/task/" | python3 -c '
import json, sys
tasks = json.load(sys.stdin)
sys.exit(0 if any(t["id"] == int(sys.argv[1]) for t in tasks) else 1)' "$id"
ok $? "GET /api/task/ lists it"

uid=$(podman exec "$name" cat /proc/1/status 2>/dev/null | awk '$1 == "Uid:" { print $2 }')
[ "$uid" = 10001 ]
ok $? "the server runs as uid 10001 (got '$uid')"
! podman exec "$name" /bin/sh -c 'touch /usr/local/bin/x' >/dev/null 2>&1
ok $? "the root filesystem is read-only"
capeff=$(podman exec "$name" cat /proc/1/status 2>/dev/null | awk '$1 == "CapEff:" { print $2 }')
[ "$capeff" = 0000000000000000 ]
ok $? "no capabilities (CapEff $capeff)"

stop_start=$(date +%s)
podman stop -t 30 "$name" >/dev/null
stopped_in=$(($(date +%s) - stop_start))
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ]
ok $? "podman stop (SIGTERM to PID 1): exit code $code after $stopped_in s"
# podman's log of a container that has just exited can lag its last lines: look again, for at
# most 3 s, before calling the line missing.
logged=1
for _ in 1 2 3 4 5 6 7 8 9 10; do
    if podman logs "$name" 2>&1 | grep -q 'SIGTERM'; then logged=0; break; fi
    sleep 0.3
done
ok $logged "the app logged its graceful shutdown"

# A deployment of the original: DbType boltdb, DbName on a mounted volume, no DbPath. The tasks
# must live on the volume (next to the original's BoltDB file, which stays untouched) and
# survive a new container on the same volume.
chown 10001:10001 "$vol"
head -c 16384 /dev/urandom >"$vol/tasks.db"
bolt_sum=$(sha256sum <"$vol/tasks.db")
run_on_volume() {
  podman rm -f -t 0 "$name-vol" >/dev/null 2>&1
  podman run -d --name "$name-vol" --read-only --cap-drop=ALL --security-opt no-new-privileges \
    -v "$vol:/data" -e VTT_DBTYPE=boltdb -e VTT_DBNAME=/data/tasks.db -e VTT_SHUTDOWNTIMEOUT=10 \
    -p "127.0.0.1:$port:3000" "$tag" >/dev/null && wait_for 30 curl -fsS "$base_url/healthcheck/"
}
port=$(free_port)
base_url=http://127.0.0.1:$port
run_on_volume
ok $? "boltdb with VTT_DBNAME=/data/tasks.db on a volume, read-only root: serves"
curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"title":"","priority":1000,"completed":false,"id":0,"Title":"on the volume"}' \
  "$base_url/api/task/" >/dev/null
ok $? "the original UI's add request is stored"
podman stop -t 30 "$name-vol" >/dev/null
run_on_volume
ok $? "a new container on the same volume serves"
curl -sS "$base_url/api/task/" | python3 -c '
import json, sys
sys.exit(0 if [t["title"] for t in json.load(sys.stdin)] == ["on the volume"] else 1)'
ok $? "the task survived the container restart"
podman stop -t 30 "$name-vol" >/dev/null
[ -s "$vol/tasks.db.sqlite" ] && [ "$(sha256sum <"$vol/tasks.db")" = "$bolt_sum" ]
ok $? "the store is /data/tasks.db.sqlite; the BoltDB file /data/tasks.db is untouched"

diag "image-test wall time $(($(date +%s) - start)) s"
done_testing
