#!/usr/bin/env python3
"""The Python cluster harness (tests/lib/pgcluster.py) the HTTP tests use: it starts, its
password is enforced on TCP, and crash/resume keep the data."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PG_BIN, PgCluster  # noqa: E402
from tap import done, is_, ok  # noqa: E402


def tcp_psql(pg, password):
    env = dict(os.environ, PGPASSWORD=password)
    return subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-At", "-h", pg.host,
                           "-p", str(pg.port), "-U", pg.user, "-d", pg.dbname, "-c", "SELECT 42"],
                          env=env, capture_output=True, text=True, timeout=30)


with PgCluster() as pg:
    data_dir = pg.dir
    is_(pg.psql("SELECT current_database()"), "tca_test", "cluster up, database tca_test made")
    r = tcp_psql(pg, pg.password)
    is_(r.stdout.strip(), "42", "TCP login with the cluster's password")
    r = tcp_psql(pg, "wrong-" + pg.password)
    ok(r.returncode != 0 and "password authentication failed" in r.stderr,
       "TCP login with a wrong password is refused")
    is_(pg.app_env()["VTT_DBPORT"], str(pg.port), "app_env points at the cluster")
    pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (7)")
    pg.crash()
    ok(tcp_psql(pg, pg.password).returncode != 0, "after crash() the server is gone")
    pg.resume()
    is_(pg.psql("SELECT x FROM t"), "7", "after resume() it serves the same data")
ok(not os.path.exists(data_dir), "the cluster is removed on exit")
done()
