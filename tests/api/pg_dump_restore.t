#!/usr/bin/env python3
"""The PostgreSQL backup and restore of docs/backup.md, with the commands it gives for the
compose stack run against a test cluster instead of the `db` container: `pg_dump -Fc` while the
app serves, then (app stopped) `dropdb`, `createdb`, `pg_restore --no-owner`, and the app started
again. Every task acknowledged before the dump is back, byte for byte, and the id sequence is
restored with it (a new task gets an id above every restored one)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PG_BIN, PgCluster  # noqa: E402
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402


def tool(pg, name, *args, stdin=None, stdout=None):
    argv = [os.path.join(PG_BIN, name), "-h", pg.dir, "-p", str(pg.port), "-U", pg.user] + \
        list(args)
    r = subprocess.run(argv, stdin=stdin, stdout=stdout or subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if not ok(r.returncode == 0, "%s %s" % (name, " ".join(args))):
        diag(r.stderr.decode(errors="replace"))
    return r


with PgCluster() as pg, tempfile.TemporaryDirectory(prefix="tca-dump.") as tmp:
    dump = os.path.join(tmp, "app.dump")
    titles = ["before the dump %d" % i for i in range(20)] + ['50% "quoted" é ✓']
    with App(env=pg.app_env()) as app:
        for t in titles:
            app.json("POST", "/api/task/", {"title": t, "priority": 2})
        _, _, before = app.json("GET", "/api/task/")
        with open(dump, "wb") as f:
            tool(pg, "pg_dump", "-d", pg.dbname, "-Fc", stdout=f)
        status, _, _ = app.json("POST", "/api/task/", {"title": "after the dump"})
        is_(status, 200, "the app served while pg_dump ran")
        is_(app.stop(), 0, "app stopped (SIGTERM, exit 0)")

    tool(pg, "dropdb", "--if-exists", pg.dbname)
    tool(pg, "createdb", pg.dbname)
    with open(dump, "rb") as f:
        tool(pg, "pg_restore", "-d", pg.dbname, "--no-owner", stdin=f)

    with App(env=pg.app_env(), seed=False) as app:
        status, _, after = app.json("GET", "/api/task/")
        is_(status, 200, "the app serves the restored database")
        ok(after == before, "every task acknowledged before the dump is back, byte for byte "
           "(%d tasks)" % len(before))
        ok("after the dump" not in [t["title"] for t in after],
           "a write after the dump is not in the restore (the price of a restore)")
        status, _, task = app.json("POST", "/api/task/", {"title": "after the restore"})
        ok(status == 200 and task["id"] > max(t["id"] for t in before),
           "the id sequence is restored: a new task gets id %s" % (task or {}).get("id"))
done()
