#!/usr/bin/env bash
# pg_contract.t — the store contract suite (tests/unit/test_store_contract.c) against a real
# PostgreSQL server, so the PostgreSQL backend passes exactly the checks the SQLite one does.
# make check sets TCA_BUILD; run by hand from anywhere: tests/store/pg_contract.t
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
suite=${TCA_BUILD:-$PWD/build}/tests/unit/test_store_contract
if [ ! -x "$suite" ]; then
  echo "Bail out! $suite is not built (make check or make $suite)"
  exit 1
fi
# with-pg.sh exports TCA_TEST_DBTYPE=postgres and the server's address and password.
exec tests/lib/with-pg.sh "$suite"
