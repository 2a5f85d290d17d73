#!/usr/bin/env python3
"""`TechChallengeApp backup FILE` on the embedded store: taken while writers load the server, the
copy passes PRAGMA integrity_check, is one self-contained file, and holds every task whose POST
was acknowledged before the backup started. An existing FILE is kept unless --force; the restore
procedure (stop, copy the file back, remove -wal/-shm, start) brings exactly the copy back.
With DbType=postgres it points to pg_dump and exits non-zero."""
import hashlib
import os
import shutil
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, run  # noqa: E402


class Writer(threading.Thread):
    """POSTs tasks until stopped (at most 20,000); keeps the ids acknowledged with 200."""

    def __init__(self, app, name):
        super().__init__(daemon=True)
        self.app, self.name = app, name
        self.acked, self.failures = [], 0
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set() and n < 20000:
            n += 1
            try:
                status, _, task = self.app.json("POST", "/api/task/",
                                                {"title": "%s-%d" % (self.name, n)})
            except OSError:
                status, task = None, None
            if status == 200:
                self.acked.append(task["id"])
            else:
                self.failures += 1


def ids_in(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return {row[0] for row in db.execute("SELECT id FROM tasks")}
    finally:
        db.close()


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


with App() as app:
    backups = os.path.join(app.dir, "backups")
    os.mkdir(backups)
    copy = os.path.join(backups, "tasks-copy.db")
    writers = [Writer(app, "w%d" % i) for i in range(3)]
    for w in writers:
        w.start()
    time.sleep(1.0)
    acked_before = set()
    for w in writers:
        acked_before.update(list(w.acked))
    r = run(["backup", copy], env=app.env, cwd=app.dir, timeout=60)
    time.sleep(0.5)
    for w in writers:
        w.stop.set()
    for w in writers:
        w.join(30)
    is_(r.returncode, 0, "backup exits 0 while the server is under write load")
    if r.returncode != 0:
        diag(r.stdout + r.stderr)
    like(r.stdout, "Backup complete: '%s'" % copy, "and says where the copy is")
    is_(sum(w.failures for w in writers), 0, "no write failed during the backup")
    ok(len(acked_before) > 20, "writes were acknowledged before the backup (%d)"
       % len(acked_before))
    db = sqlite3.connect(copy)
    is_(db.execute("PRAGMA integrity_check").fetchone()[0], "ok", "the copy passes "
        "PRAGMA integrity_check")
    is_(db.execute("PRAGMA journal_mode").fetchone()[0], "delete",
        "the copy is a self-contained file (rollback journal, not WAL)")
    db.close()
    is_(sorted(os.listdir(backups)), ["tasks-copy.db"], "no temporary or -wal file is left beside it")
    in_copy = ids_in(copy)
    missing = acked_before - in_copy
    is_(len(missing), 0, "every task acknowledged before the backup started is in the copy "
        "(%d of them)" % len(acked_before))
    all_acked = set()
    for w in writers:
        all_acked.update(w.acked)
    ok(len(all_acked - in_copy) > 0, "writes went on during and after the backup (%d "
       "acknowledged, %d of them not in the copy)" % (len(all_acked), len(all_acked - in_copy)))
    ok(in_copy <= ids_in(app.env["VTT_DBPATH"]) , "the copy holds nothing the database does not")

    # An existing file is kept, unless --force.
    before = digest(copy)
    app.request("POST", "/api/task/", {"title": "after the first backup"})
    r = run(["backup", copy], env=app.env, cwd=app.dir)
    ok(r.returncode == 1 and "already exists (--force replaces it)" in r.stderr,
       "backup to an existing file: exit 1, clear message")
    is_(digest(copy), before, "and the existing file is untouched")
    r = run(["backup", "--force", copy], env=app.env, cwd=app.dir)
    is_(r.returncode, 0, "backup --force replaces it")
    ok(digest(copy) != before, "with a newer copy")
    r = run(["backup", app.env["VTT_DBPATH"]], env=app.env, cwd=app.dir)
    ok(r.returncode == 1 and "is the database itself" in r.stderr,
       "backup onto the live database is refused, even before --force")
    r = run(["backup", "--force", app.env["VTT_DBPATH"]], env=app.env, cwd=app.dir)
    ok(r.returncode == 1 and "is the database itself" in r.stderr, "and with --force")
    r = run(["backup", os.path.join(app.dir, "no", "such", "dir.db")], env=app.env, cwd=app.dir)
    ok(r.returncode == 1 and "No such file or directory" in r.stderr,
       "a missing directory: exit 1 with the system's reason")
    r = run(["backup"], env=app.env, cwd=app.dir)
    ok(r.returncode == 2 and "usage: backup [--force] FILE" in r.stderr, "no FILE: usage, exit 2")
    r = run(["backup", "a.db", "b.db"], env=app.env, cwd=app.dir)
    ok(r.returncode == 2 and "unexpected argument 'b.db'" in r.stderr, "two FILEs: usage, exit 2")

    # Restore: stop, put the copy in place of the database (and drop its -wal/-shm), start.
    wanted = ids_in(copy)
    is_(app.stop(), 0, "the server stops for the restore")
    live = app.env["VTT_DBPATH"]
    shutil.copyfile(copy, live)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(live + suffix):
            os.unlink(live + suffix)
    app.start()
    status, _, tasks = app.json("GET", "/api/task/")
    is_((status, {t["id"] for t in tasks}), (200, wanted),
        "after the restore the server serves exactly the tasks in the copy")
    status, _, task = app.json("POST", "/api/task/", {"title": "after restore"})
    ok(status == 200 and task["id"] > max(wanted), "and takes new tasks after them")

r = run(["backup", "/tmp/never-written.db"], env={"VTT_DBTYPE": "postgres"})
ok(r.returncode == 1 and "pg_dump" in r.stderr and not os.path.exists("/tmp/never-written.db"),
   "DbType=postgres: exit 1, pointing to pg_dump and snapshots")

done()
