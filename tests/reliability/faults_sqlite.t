#!/usr/bin/env python3
"""The embedded SQLite store under faults, without a restart of the server:
1. disk full (the database on a 2 MB tmpfs this test mounts): writes fail cleanly with a 5xx
   JSON error, reads keep working, no corruption (PRAGMA integrity_check), and writes work again
   once there is space;
2. read-only (the same tmpfs remounted ro while the server is stopped, as Linux refuses it
   while files are open for writing): serve refuses to start with a clear message, exit 1;
3. kill -9 under concurrent POSTs, PUTs and DELETEs (the last two batched in one transaction,
   ADR 0031): every write that got its answer is in the file afterwards.
Mounts are removed in a finally block and on SIGTERM/SIGINT, even when a check fails."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

mnt = tempfile.mkdtemp(prefix="tca-tmpfs.")
mounted = False


def cleanup(*_):
    global mounted
    if mounted:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        mounted = False
    try:
        os.rmdir(mnt)
    except OSError:
        pass


def on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)


def integrity(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def is_json_5xx(status, hdrs, data):
    try:
        doc = json.loads(data)
    except ValueError:
        return False
    return 500 <= status < 600 and hdrs.get("content-type", "").startswith("application/json") \
        and isinstance(doc, dict) and isinstance(doc.get("error"), str)


try:
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", mnt],
                       capture_output=True, text=True)
    mounted = r.returncode == 0
    if not ok(mounted, "mounted a 2 MB tmpfs"):
        diag(r.stderr)
    db_path = os.path.join(mnt, "tasks.db")
    with App(env={"VTT_DBPATH": db_path}) as app:
        # --- 1. disk full ---
        acked = []
        filler = os.path.join(mnt, "filler")
        st = os.statvfs(mnt)
        with open(filler, "wb") as f:  # take all but about 200 KB
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 200 * 1024))
        full_at, failure = None, None
        for i in range(3000):
            status, hdrs, data = app.request("POST", "/api/task/",
                                             json.dumps({"title": "fill %d " % i + "x" * 900}))
            if status == 200:
                acked.append(json.loads(data)["id"])
                continue
            full_at, failure = i, (status, hdrs, data)
            break
        diag("the disk filled after %d more writes" % (full_at or 0))
        ok(failure is not None and is_json_5xx(*failure),
           "disk full: the write fails with a 5xx JSON error (%s %r)"
           % (failure and failure[0], failure and failure[2][:80]))
        more = [app.request("POST", "/api/task/", {"title": "while full"})[0] for _ in range(5)]
        ok(all(500 <= s < 600 for s in more), "further writes keep failing cleanly: %r" % more)
        status, _, data = app.request("GET", "/api/task/")
        ok(status == 200 and {t["id"] for t in json.loads(data)} >= set(acked),
           "reads still work and show every acknowledged write (%d)" % len(acked))
        is_(app.request("GET", "/healthcheck/")[0], 200, "health is 200 (reads work)")
        is_(integrity(db_path), "ok", "PRAGMA integrity_check: ok while full")
        os.unlink(filler)
        status, _, task = app.json("POST", "/api/task/", {"title": "after space returned"})
        is_(status, 200, "space freed: writes work again without a restart")
        ok(app.proc.poll() is None, "the same process")

        is_(app.stop_status(), 0, "SIGTERM: exit 0")

        # --- 2. read-only ---
        # Linux refuses to remount a file system read-only while a process has files on it open
        # for writing (EBUSY), so the remount happens while the server is stopped. SQLite cannot
        # open a WAL database on a read-only file system once its -wal/-shm files are gone (a
        # clean shutdown removes them): the server must refuse to start, clearly, not crash.
        r = subprocess.run(["mount", "-o", "remount,ro", mnt], capture_output=True, text=True)
        ok(r.returncode == 0, "remounted read-only (server stopped)")
        try:
            app.start()
            started = True
        except RuntimeError:
            started = False
        code = app.proc.wait(10) if not started else None
        log = app.read_log()
        ok(not started and code == 1 and "cannot open the store" in log and db_path in log,
           "read-only file system: serve exits 1 naming the file (%s)" % code)
        r = subprocess.run(["mount", "-o", "remount,rw", mnt], capture_output=True, text=True)
        ok(r.returncode == 0, "remounted read-write")
        app.start()
        status, _, _ = app.json("POST", "/api/task/", {"title": "writable again"})
        is_(status, 200, "writable again: the server starts and writes")
        is_(app.stop_status(), 0, "SIGTERM: exit 0")
    is_(integrity(db_path), "ok", "PRAGMA integrity_check: ok at the end")
    titles = [t for (t,) in sqlite3.connect(db_path).execute("SELECT title FROM tasks")]
    ok("writable again" in titles and "while full" not in titles,
       "the acknowledged writes are in the file, the refused ones are not")
finally:
    cleanup()

# --- 3. kill -9 under concurrent writes ---
with App() as app:
    acked, lock, stop = [], threading.Lock(), threading.Event()
    put_acked = {}  # task id -> the last i its PUTs were acknowledged for
    del_acked = []
    owned = [app.json("POST", "/api/task/", {"title": "p%d" % n})[2]["id"] for n in range(4)]
    with sqlite3.connect(app.env["VTT_DBPATH"]) as db:  # tasks to delete, in one transaction
        db.executemany("INSERT INTO tasks (title, priority, completed) VALUES ('d', 0, 0)",
                       [()] * 12000)
        spare = [i for (i,) in db.execute("SELECT id FROM tasks WHERE title = 'd' ORDER BY id")]
    doomed = [spare[n::4] for n in range(4)]

    def writer(n):
        for i in range(5000):
            if stop.is_set():
                return
            try:
                status, _, task = app.json("POST", "/api/task/", {"title": "w%d-%d" % (n, i)})
            except (OSError, ValueError):
                return
            if status == 200:
                with lock:
                    acked.append(task["id"])

    def putter(n):
        tid = owned[n]
        for i in range(100000):
            if stop.is_set():
                return
            try:
                status, _, _ = app.json("PUT", "/api/task/%d/" % tid,
                                        {"title": "p%d-%d" % (n, i), "priority": i})
            except (OSError, ValueError):
                return
            if status == 200:
                with lock:
                    put_acked[tid] = i

    def deleter(n):
        for tid in doomed[n]:
            if stop.is_set():
                return
            try:
                status = app.request("DELETE", "/api/task/%d/" % tid)[0]
            except (OSError, ValueError):
                return
            if status == 204:
                with lock:
                    del_acked.append(tid)
    writers = [threading.Thread(target=f, args=(n,)) for n in range(4)
               for f in (writer, putter, deleter)]
    for w in writers:
        w.start()
    time.sleep(2.0)
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait(10)
    stop.set()
    for w in writers:
        w.join(30)
    db_path = app.env["VTT_DBPATH"]
    is_(integrity(db_path), "ok", "after kill -9: PRAGMA integrity_check ok")
    db = sqlite3.connect(db_path)
    ids = {i for (i,) in db.execute("SELECT id FROM tasks")}
    missing = sorted(set(acked) - ids)
    ok(len(acked) > 20 and not missing, "all %d acknowledged writes survived kill -9 (missing %r)"
       % (len(acked), missing[:10]))
    stale = [(tid, i, db.execute("SELECT priority FROM tasks WHERE id = ?", (tid,)).fetchone())
             for tid, i in put_acked.items()]
    stale = [s for s in stale if not s[2] or s[2][0] < s[1]]
    ok(len(put_acked) == 4 and sum(put_acked.values()) > 20 and not stale,
       "every task holds its last acknowledged PUT or a later one (%d PUTs acknowledged; stale %r)"
       % (sum(put_acked.values()) + len(put_acked), stale))
    back = sorted(set(del_acked) & ids)
    ok(len(del_acked) > 20 and not back,
       "all %d acknowledged DELETEs survived kill -9 (back %r)" % (len(del_acked), back[:10]))
    db.close()
    app.start()
    status, _, data = app.request("GET", "/api/task/")
    ok(status == 200 and set(acked) <= {t["id"] for t in json.loads(data)},
       "restarted on the same file: the server lists them all")
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

done()
