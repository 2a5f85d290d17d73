# pg.sh — a throwaway PostgreSQL 15 cluster for tests. Source it from bash:
#
#   . tests/lib/pg.sh
#   pg_start                  # initdb + start on a free 127.0.0.1 port, removed again on exit
#   pg_psql -c 'SELECT 1'     # psql as the superuser over the cluster's unix socket
#   pg_crash                  # pg_ctl stop -m immediate: a crash, as far as clients can tell
#   pg_resume                 # start again, same data and port
#   pg_stop                   # clean (fast) stop
#
# pg_start exports PG_DIR PG_DATA PG_LOG PG_HOST PG_PORT PG_USER PG_PASSWORD, the contract
# suite's TCA_TEST_DBTYPE/DBHOST/DBPORT/DBUSER/DBPASSWORD/DBNAME (database tca_test, created
# empty), and TCA_TEST_PG_CRASH / TCA_TEST_PG_RESUME: shell commands that C tests run with
# system(3) to crash and restart the server.
#
# Authentication is real: trust on the unix socket (for the harness), scram-sha-256 with a random
# password on 127.0.0.1, so a wrong-password test means something. initdb refuses to run as root:
# as root the cluster belongs to the `postgres` user (created if missing). fsync is off: a test
# crash kills processes, not the machine, so nothing acknowledged is lost either way.
# Messages go to stderr prefixed with "# " (TAP diagnostics).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR='' PG_DATA='' PG_LOG='' PG_PORT='' PG_RUNAS=''
PG_HOST=127.0.0.1
PG_USER=postgres
PG_START_TIMEOUT=${PG_START_TIMEOUT:-30}

pg__diag() { printf '# %s\n' "$*" >&2; }

# Runs a command as the cluster's owner.
pg__as_owner() {
  if [ -n "$PG_RUNAS" ]; then
    runuser -u "$PG_RUNAS" -- "$@"
  else
    "$@"
  fi
}

pg__free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

pg__show_log() {
  [ -f "$PG_LOG" ] || return 0
  pg__diag "--- last lines of $PG_LOG ---"
  tail -n 30 "$PG_LOG" | sed 's/^/# /' >&2
}

pg__ctl_start() {
  pg__as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" \
    -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" \
    start >/dev/null
}

# pg_start: a new cluster, running; returns non-zero (with the server log shown) on failure.
pg_start() {
  if [ ! -x "$PG_BIN/initdb" ]; then
    pg__diag "no $PG_BIN/initdb: install postgresql-15 (deps/apt-pg.txt, make test does it)"
    return 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    PG_RUNAS=postgres
    if ! id -u "$PG_RUNAS" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_RUNAS" || return 1
    fi
  fi
  PG_DIR=$(mktemp -d /tmp/tca-pg.XXXXXX) || return 1
  PG_DATA=$PG_DIR/data
  PG_LOG=$PG_DIR/server.log
  PG_PASSWORD=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
  [ -z "$PG_RUNAS" ] || chown -R "$PG_RUNAS:" "$PG_DIR"
  trap pg_cleanup EXIT
  trap 'pg_cleanup; exit 130' INT
  trap 'pg_cleanup; exit 143' TERM

  if ! pg__as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" --locale=C.UTF-8 --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$PG_DIR/pwfile" \
    >"$PG_DIR/initdb.log" 2>&1; then
    pg__diag "initdb failed:"
    sed 's/^/# /' "$PG_DIR/initdb.log" >&2
    return 1
  fi
  rm -f "$PG_DIR/pwfile"

  # A free port can be taken by someone else before the server binds it: try a few.
  local attempt
  for attempt in 1 2 3; do
    PG_PORT=$(pg__free_port)
    if pg__ctl_start; then
      break
    fi
    pg__diag "PostgreSQL did not start on port $PG_PORT (attempt $attempt)"
    pg__show_log
    PG_PORT=
  done
  [ -n "$PG_PORT" ] || return 1

  pg_psql -q -c 'CREATE DATABASE tca_test' >/dev/null || { pg__show_log; return 1; }

  local q
  printf -v q '%q ' ${PG_RUNAS:+runuser -u "$PG_RUNAS" --} "$PG_BIN/pg_ctl" -D "$PG_DATA" \
    -m immediate -w stop
  export TCA_TEST_PG_CRASH="$q>/dev/null"
  printf -v q '%q ' ${PG_RUNAS:+runuser -u "$PG_RUNAS" --} "$PG_BIN/pg_ctl" -D "$PG_DATA" \
    -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" \
    -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" \
    start
  export TCA_TEST_PG_RESUME="$q>/dev/null"
  export PG_DIR PG_DATA PG_LOG PG_HOST PG_PORT PG_USER PG_PASSWORD
  export TCA_TEST_DBTYPE=postgres TCA_TEST_DBHOST=$PG_HOST TCA_TEST_DBPORT=$PG_PORT \
    TCA_TEST_DBUSER=$PG_USER TCA_TEST_DBPASSWORD=$PG_PASSWORD TCA_TEST_DBNAME=tca_test
  pg__diag "PostgreSQL running on $PG_HOST:$PG_PORT (data in $PG_DATA)"
}

# pg_psql [psql args...]: as the superuser over the unix socket (trust), database postgres
# unless -d is given; stops at the first error.
pg_psql() {
  "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

pg_crash() {
  pg__as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null
}

pg_resume() {
  pg__ctl_start || { pg__show_log; return 1; }
}

pg_stop() {
  pg__as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
}

pg_running() {
  pg__as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

# pg_cleanup: stops the server if it runs and removes the cluster (the EXIT trap calls it).
pg_cleanup() {
  [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
  if [ -f "$PG_DATA/postmaster.pid" ]; then
    pg__as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
  PG_DIR=
}
