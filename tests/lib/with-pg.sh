#!/usr/bin/env bash
# with-pg.sh CMD [ARGS...] — runs CMD with a throwaway PostgreSQL cluster (tests/lib/pg.sh)
# running and the TCA_TEST_* variables pointing at it; exits with CMD's status. If the cluster
# cannot start, says so in TAP ("Bail out!") and exits 1.
set -uo pipefail
# shellcheck source=tests/lib/pg.sh
. "$(dirname "$0")/pg.sh"
if ! pg_start; then
  echo "Bail out! cannot start a PostgreSQL test cluster"
  exit 1
fi
"$@"
status=$?
pg_cleanup
exit $status
