#!/usr/bin/env python3
"""soak.py — make soak: every kind of request (wrk, soak.lua: of every 20, 16 GET one task,
1 GET list, 1 POST, 1 PUT, 1 DELETE of a created task, so the table keeps its size) against the
real binary for SOAK_SECONDS (default 1800), on a throwaway PostgreSQL cluster or, with
SOAK_STORE=sqlite, on the embedded store. Samples the server's RSS, descriptors, threads,
database connections (pg_stat_activity; none on SQLite) and tasks every SOAK_INTERVAL seconds
(default 30). After the warm-up (the first fifth, at least one interval) each must be flat: RSS
within 10% + 4 MB of its first post-warm-up sample, descriptors (other than the SQLite file's,
which grow with the connections SQLite opens on demand, up to its pools' bound), threads,
connections within +-2 and tasks within +-1,000. Prints a table and TAP; exit status 0 when flat."""
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, ok  # noqa: E402
from tca import App, run  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "1800"))
INTERVAL = int(os.environ.get("SOAK_INTERVAL", "30"))
STORE = os.environ.get("SOAK_STORE", "pg")
# Descriptors SQLite's connections may hold: the file and its -wal for each of the writer,
# DbPoolSize (8) readers and 4 listers, and the one -shm mapping's.
SQLITE_FDS_MAX = 2 * (1 + 8 + 4) + 1


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return int(out["VmRSS"].split()[0]), int(out["Threads"])


def descriptors(pid, db_path):
    """(descriptors other than the database's files, descriptors of the database's files)."""
    fd_dir = "/proc/%d/fd" % pid
    names = os.listdir(fd_dir)
    db = 0
    for name in names if db_path else ():
        try:
            db += os.readlink(os.path.join(fd_dir, name)).startswith(db_path)
        except OSError:
            pass  # closed meanwhile
    return len(names) - db, db


def sqlite_tasks(app):
    with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % app.env["VTT_DBPATH"],
                                            uri=True, timeout=10)) as db:
        return db.execute("SELECT count(*) FROM tasks").fetchone()[0]


if STORE not in ("pg", "sqlite"):
    sys.exit("SOAK_STORE must be pg or sqlite, not %r" % STORE)
with (PgCluster() if STORE == "pg" else contextlib.nullcontext()) as pg:
    if pg:
        env = pg.app_env(VTT_LOGLEVEL="warn")
        ok(run(["migrate"], env=env).returncode == 0, "migrate")
    else:
        env = {"VTT_LOGLEVEL": "warn"}  # serve creates the SQLite file and its table
    with App(env=env, seed=False) as app:
        status, _, _ = app.json("POST", "/api/task/", {"title": "soak"})
        ok(status == 200, "the app serves (POST 200)")
        wrk = subprocess.Popen(["wrk", "-t2", "-c32", "-d%ds" % SECONDS, "--latency", "-s",
                                os.path.join(HERE, "soak.lua"), "http://127.0.0.1:%d" % app.port],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        samples, start = [], time.monotonic()
        print("#  time_s   rss_kb  fds  db_fds  threads  db_conns  tasks", flush=True)
        while wrk.poll() is None:
            left = SECONDS - (time.monotonic() - start)
            if left < INTERVAL / 2 + 1:
                break  # no sample as the run ends: wrk is closing its connections then
            time.sleep(min(INTERVAL, left - 1))
            if wrk.poll() is not None or app.proc.poll() is not None:
                break
            rss, threads = proc_status(app.proc.pid)
            fds, db_fds = descriptors(app.proc.pid, None if pg else app.env["VTT_DBPATH"])
            if pg:
                conns = int(pg.psql("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE application_name = 'TechChallengeApp'"))
                tasks = int(pg.psql("SELECT count(*) FROM tasks"))
            else:
                conns, tasks = 0, sqlite_tasks(app)
            t = time.monotonic() - start
            samples.append((t, rss, fds, threads, conns, tasks, db_fds))
            print("# %7.0f %8d %4d %7d %8d %9d %6d" % (t, rss, fds, db_fds, threads, conns, tasks),
                  flush=True)
        out = wrk.communicate(timeout=120)[0]
        diag(out.strip())
        ok(app.proc.poll() is None, "the server is still running")
        warm = max(1, len(samples) // 5)
        after = samples[warm:]
        ok(len(after) >= 2, "%d samples after a warm-up of %d" % (len(after), warm))
        if after:
            base = after[0]
            rss_max = max(s[1] for s in after)
            ok(rss_max <= base[1] * 1.10 + 4096, "RSS flat: %d..%d kB" %
               (min(s[1] for s in after), rss_max))
            flat = [(2, "descriptors", 2), (3, "threads", 2), (5, "tasks", 1000)]
            if pg:
                flat.append((4, "database connections", 2))
            else:  # SQLite opens readers and listers as concurrent requests need them
                hi = max(s[6] for s in after)
                ok(hi <= SQLITE_FDS_MAX, "SQLite's files: at most %d descriptors, within its "
                   "pools' bound of %d" % (hi, SQLITE_FDS_MAX))
            for i, name, slack in flat:
                lo, hi = min(s[i] for s in after), max(s[i] for s in after)
                ok(hi - lo <= slack, "%s flat: %d..%d" % (name, lo, hi))
        errors = re.search(r"Socket errors: .*", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        ok(not errors and not non2xx, "no failed requests (%s; %s)" %
           (errors and errors.group(0), non2xx and non2xx.group(0)))
        ok(app.stop() == 0, "SIGTERM: exit 0")
done()
