#!/usr/bin/env python3
"""Where the embedded store lives (ADR 0014), as an operator of the original deploys it: with
DbType boltdb the original kept its data in the file DbName names, on a mounted volume
(VTT_DBNAME=/data/tasks.db). Ours must keep its SQLite file on that volume too, survive a
restart from another working directory, and never touch the original's BoltDB file there."""
import hashlib
import os
import sqlite3
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, run  # noqa: E402


def bolt_file(path):
    """A file laid out as a BoltDB database starts: two meta pages (flag 0x04) with the magic
    0xED0CDAED, version 2, page size 4096, then a freelist and a leaf page."""
    pages = []
    for pgid in range(4):
        flags = 0x04 if pgid < 2 else (0x10 if pgid == 2 else 0x02)
        page = struct.pack("<QHHI", pgid, flags, 0, 0)
        if pgid < 2:
            page += struct.pack("<III", 0xED0CDAED, 2, 4096)
        pages.append(page + os.urandom(64) + b"\0" * (4096 - len(page) - 64))
    with open(path, "wb") as f:
        f.write(b"".join(pages))
    os.utime(path, (1_600_000_000, 1_600_000_000))


def fingerprint(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest(), st.st_size, st.st_mtime_ns


def is_sqlite(path):
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\0"


def titles(path):
    with sqlite3.connect(path) as db:
        return [t for (t,) in db.execute("SELECT title FROM tasks ORDER BY id")]


with tempfile.TemporaryDirectory(prefix="tca-vol-") as vol, \
        tempfile.TemporaryDirectory(prefix="tca-wd1-") as wd1, \
        tempfile.TemporaryDirectory(prefix="tca-wd2-") as wd2:
    db_name = os.path.join(vol, "tasks.db")
    bolt_file(db_name)
    before = fingerprint(db_name)
    # Only the original's settings: DbType and DbName (VTT_DBPATH="" is unset, as in viper).
    env = {"VTT_DBTYPE": "boltdb", "VTT_DBNAME": db_name, "VTT_DBPATH": ""}
    ours = db_name + ".sqlite"

    with App(env=env, seed=False, cwd=wd1) as app:
        status, _, listed = app.json("GET", "/api/task/")
        is_((status, listed), (200, []), "boltdb, DbName on a volume, no DbPath: serves (empty)")
        status, _, task = app.json("POST", "/api/task/", {"title": "kept across restarts"})
        is_((status, task and task.get("title")), (200, "kept across restarts"), "a task is added")
        status, _, dbg = app.json("GET", "/debug")
        is_(dbg.get("Config", {}).get("DbPath"), ours, "/debug shows the file in use")
        is_(app.stop(), 0, "first server stops cleanly")

    ok(os.path.isfile(ours) and is_sqlite(ours), "the SQLite file is '<DbName>.sqlite' on the volume")
    is_(sorted(os.listdir(wd1)), [], "nothing was written in the first working directory")
    is_(fingerprint(db_name), before, "the BoltDB file at DbName is untouched (bytes and mtime)")
    ok(not os.path.exists(db_name + "-wal") and not os.path.exists(db_name + "-shm"),
       "no -wal/-shm next to the BoltDB file")

    with App(env=env, seed=False, cwd=wd2) as app:
        status, _, listed = app.json("GET", "/api/task/")
        is_((status, [t["title"] for t in listed or []]), (200, ["kept across restarts"]),
            "restarted from another working directory: the task is still there")
        is_(app.stop(), 0, "second server stops cleanly")
    is_(sorted(os.listdir(wd2)), [], "nothing was written in the second working directory")

    r = run(["updatedb"], env=env, cwd=wd2)
    is_(r.returncode, 0, "updatedb with boltdb and DbName only")
    like(r.stdout, ours, "updatedb names the SQLite file it recreates")
    is_(titles(ours), ["1st Task", "2nd Task", "3rd Task"], "updatedb reseeded the SQLite file")
    is_(fingerprint(db_name), before, "updatedb left the BoltDB file untouched")
    r = run(["migrate"], env=env, cwd=wd1)
    is_((r.returncode, fingerprint(db_name)), (0, before), "migrate too")
    r = run(["config"], env=env, cwd=wd1)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith('"DbPath"')]
    ok(r.returncode == 0 and len(line) == 1 and ours in line[0] and
       line[0].endswith('# DbName + ".sqlite" (DbType boltdb)'),
       "config says where the derived DbPath came from: %s" % line)

    # DbPath set explicitly still wins, even with DbType boltdb.
    explicit = os.path.join(vol, "explicit.db")
    with App(env=dict(env, VTT_DBPATH=explicit), cwd=wd1) as app:
        is_(app.json("GET", "/debug")[2].get("Config", {}).get("DbPath"), explicit,
            "an explicit DbPath wins over DbName")
    ok(is_sqlite(explicit) and titles(ours) == ["1st Task", "2nd Task", "3rd Task"],
       "the explicit file was used, the derived one left alone")

    # DbPath naming the BoltDB file itself: the clear error of ADR 0004, file untouched.
    r = run(["serve"], env=dict(env, VTT_DBPATH=db_name, VTT_LISTENPORT="1"), cwd=wd1, timeout=10)
    ok(r.returncode != 0 and "not a SQLite database" in r.stderr,
       "DbPath pointing at the BoltDB file is refused with the clear error")
    is_(fingerprint(db_name), before, "and the BoltDB file is still untouched")

# DbName naming a directory that does not exist: a clear error naming the file, exit 1.
with tempfile.TemporaryDirectory(prefix="tca-wd-") as wd:
    missing = os.path.join(wd, "no", "such", "dir", "tasks.db")
    r = run(["serve"], env={"VTT_DBTYPE": "boltdb", "VTT_DBNAME": missing, "VTT_LISTENPORT": "1"},
            cwd=wd, timeout=10)
    ok(r.returncode == 1 and missing + ".sqlite" in r.stderr,
       "a volume directory that does not exist: exit 1 naming the file")
    if r.returncode != 1:
        diag(r.stderr)

# Earlier versions kept a boltdb store in ./tasks.db: say so when starting fresh next to DbName.
with tempfile.TemporaryDirectory(prefix="tca-vol-") as vol, \
        tempfile.TemporaryDirectory(prefix="tca-wd-") as wd:
    old = os.path.join(wd, "tasks.db")
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, completed boolean "
                   "NOT NULL, priority integer NOT NULL, title text NOT NULL)")
        db.execute("INSERT INTO tasks (completed, priority, title) VALUES (0, 0, 'old')")
    env = {"VTT_DBTYPE": "boltdb", "VTT_DBNAME": os.path.join(vol, "tasks.db"), "VTT_DBPATH": ""}
    with App(env=env, seed=False, cwd=wd) as app:
        is_(app.json("GET", "/api/task/")[2], [], "the new file next to DbName is used")
        app.stop()
        warned = [r for r in app.log_records() if isinstance(r, dict) and
                  r.get("level") == "warn" and "'tasks.db'" in r.get("msg", "")]
        ok(len(warned) == 1, "a warning names the old tasks.db in the working directory")
    is_(titles(old), ["old"], "the old file is left as it was")
    with App(env=env, seed=False, cwd=wd) as app:
        app.stop()
        ok(not any(isinstance(r, dict) and "'tasks.db'" in r.get("msg", "")
                   for r in app.log_records()), "no warning once the new file exists")

# DbType sqlite without DbPath: tasks.db in the working directory, as before; DbName unused.
with tempfile.TemporaryDirectory(prefix="tca-vol-") as vol, \
        tempfile.TemporaryDirectory(prefix="tca-wd-") as wd:
    env = {"VTT_DBTYPE": "sqlite", "VTT_DBNAME": os.path.join(vol, "x.db"), "VTT_DBPATH": ""}
    with App(env=env, cwd=wd) as app:
        is_(len(app.json("GET", "/api/task/")[2]), 3, "sqlite without DbPath serves")
    ok(is_sqlite(os.path.join(wd, "tasks.db")) and os.listdir(vol) == [],
       "sqlite without DbPath: tasks.db in the working directory, nothing next to DbName")
done()
