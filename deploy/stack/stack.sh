#!/usr/bin/env bash
# stack.sh — a local replica of the AWS shape, without containers: a throwaway PostgreSQL
# cluster (RDS), `TechChallengeApp migrate` (the one-off migration task), two app instances
# (the Fargate tasks) and haproxy in front (the ALB, health checking GET /healthcheck/), all on
# loopback.
#
#   deploy/stack/stack.sh up     start everything; prints the URL; writes $STACK_DIR/stack.env
#   deploy/stack/stack.sh down   stop everything it started and delete the database
#
# Settings (environment): STACK_BIN (the binary, default build/TechChallengeApp), STACK_DIR
# (pid, log and state files, default build/stack), STACK_PORT (haproxy's port on 127.0.0.1,
# default 8080), APP1_PORT / APP2_PORT / PG_PORT (default: free ports). `make stack` and
# `make stack-down` call this. The cluster's data lives in a temp dir owned by the `postgres`
# user when run as root (initdb refuses root); its path is in $STACK_DIR/pg.dir.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STACK_BIN:-$repo/build/TechChallengeApp}
dir=${STACK_DIR:-$repo/build/stack}
pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac

say() { printf 'stack: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# as_pg CMD...: run a PostgreSQL tool as the cluster's owner (postgres when we are root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# wait_http SECONDS URL: until URL answers 200 (bounded).
wait_http() {
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$2" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_app() { # start_app NAME PORT
  local name=$1 port=$2
  (
    cd "$dir"
    export VTT_LISTENHOST=127.0.0.1 VTT_LISTENPORT=$port
    exec setsid "$bin" serve </dev/null >>"$dir/$name.log" 2>&1
  ) &
  echo $! >"$dir/$name.pid"
  wait_http 20 "http://127.0.0.1:$port/healthcheck/" || die "$name did not become healthy: see $dir/$name.log"
}

up() {
  [ -x "$bin" ] || die "no binary at $bin: run make first"
  command -v haproxy >/dev/null || die "haproxy is not installed (deps/apt-container.txt)"
  [ -x "$pgbin/initdb" ] || die "no PostgreSQL at $pgbin (deps/apt-container.txt)"
  if alive "$dir/haproxy.pid" || alive "$dir/app1.pid" || alive "$dir/app2.pid"; then
    die "a stack is already running in $dir: run stack-down first"
  fi
  mkdir -p "$dir"
  # Whatever fails from here on, leave nothing running behind.
  trap 'say "start failed: cleaning up"; down' EXIT
  : "${PG_PORT:=$(free_port)}" "${APP1_PORT:=$(free_port)}" "${APP2_PORT:=$(free_port)}"
  : "${STACK_PORT:=8080}"

  # PostgreSQL: a fresh cluster, password-less on 127.0.0.1 only (a throwaway test database).
  local pgdir
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/tca-stack-pg.XXXXXX")
  echo "$pgdir" >"$dir/pg.dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$pgdir"
  as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || die "initdb failed: see $dir/initdb.log"
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 \
    -o "-k $pgdir -p $PG_PORT -c listen_addresses=127.0.0.1" start >/dev/null ||
    die "PostgreSQL did not start: see $pgdir/postgres.log"

  export VTT_DBTYPE=postgres VTT_DBHOST=127.0.0.1 VTT_DBPORT=$PG_PORT VTT_DBUSER=postgres
  export VTT_DBPASSWORD=postgres VTT_DBNAME=postgres VTT_DBSSLMODE=disable VTT_SHUTDOWNTIMEOUT=5
  (cd "$dir" && "$bin" migrate >>"$dir/migrate.log" 2>&1) || die "migrate failed: see $dir/migrate.log"

  start_app app1 "$APP1_PORT"
  start_app app2 "$APP2_PORT"

  STACK_DIR=$dir STACK_BIND=127.0.0.1:$STACK_PORT APP1_ADDR=127.0.0.1:$APP1_PORT \
    APP2_ADDR=127.0.0.1:$APP2_PORT haproxy -c -q -f "$repo/deploy/stack/haproxy.cfg" ||
    die "haproxy rejects deploy/stack/haproxy.cfg"
  (
    export STACK_DIR=$dir STACK_BIND=127.0.0.1:$STACK_PORT APP1_ADDR=127.0.0.1:$APP1_PORT
    export APP2_ADDR=127.0.0.1:$APP2_PORT
    exec setsid haproxy -db -f "$repo/deploy/stack/haproxy.cfg" </dev/null >>"$dir/haproxy.log" 2>&1
  ) &
  echo $! >"$dir/haproxy.pid"
  wait_http 20 "http://127.0.0.1:$STACK_PORT/healthcheck/" ||
    die "haproxy does not answer on 127.0.0.1:$STACK_PORT: see $dir/haproxy.log"

  cat >"$dir/stack.env" <<ENV
STACK_URL=http://127.0.0.1:$STACK_PORT
STACK_PORT=$STACK_PORT
APP1_PORT=$APP1_PORT
APP2_PORT=$APP2_PORT
PG_PORT=$PG_PORT
PG_DIR=$pgdir
ENV
  trap - EXIT
  say "up: http://127.0.0.1:$STACK_PORT (haproxy) -> app1 :$APP1_PORT, app2 :$APP2_PORT -> PostgreSQL :$PG_PORT"
  say "state and logs in $dir; stop with: make stack-down"
}

stop_pid() { # stop_pid PIDFILE: SIGTERM, wait up to 10 s, then SIGKILL
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  stop_pid "$dir/haproxy.pid"
  stop_pid "$dir/app1.pid"
  stop_pid "$dir/app2.pid"
  if [ -f "$dir/pg.dir" ]; then
    local pgdir
    pgdir=$(cat "$dir/pg.dir")
    case $pgdir in
    */tca-stack-pg.*)
      if [ -f "$pgdir/data/postmaster.pid" ]; then
        as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
      fi
      rm -rf "$pgdir"
      ;;
    esac
    rm -f "$dir/pg.dir"
  fi
  rm -f "$dir/stack.env" "$dir/haproxy.sock"
  say "down"
}

case ${1:-} in
up) up ;;
down) down ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
