#!/usr/bin/env python3
"""PostgreSQL outages seen through HTTP: the database is killed (pg_ctl -m immediate) under a
bounded read/write loop and started again. /healthcheck/ turns 503 fast and 200 again without
a restart of the app, no request hangs, and every POST that got its 200 is in the table.
Also: the app starts while the database is down and recovers when it comes up; a wrong
password is reported clearly and never printed."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, wait_until  # noqa: E402


def wait_for(app, want, limit):
    """Seconds until /healthcheck/ answers `want`, or None after limit seconds."""
    return wait_until(lambda: app.request("GET", "/healthcheck/", timeout=5)[0] == want, limit)


class Writer(threading.Thread):
    """POSTs tasks until stopped; remembers every id acknowledged with 200 and the slowest
    answer."""

    def __init__(self, app, name):
        super().__init__(daemon=True)
        self.app, self.name = app, name
        self.acked, self.statuses, self.slowest = [], {}, 0.0
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set() and n < 20000:
            n += 1
            t = time.monotonic()
            try:
                status, _, task = self.app.json("POST", "/api/task/",
                                                {"title": "%s-%d" % (self.name, n)})
            except OSError as e:
                status, task = type(e).__name__, None
            self.slowest = max(self.slowest, time.monotonic() - t)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.acked.append(task["id"])


with PgCluster() as pg:
    env = pg.app_env(VTT_DBPOOLSIZE="4", VTT_DBCONNECTTIMEOUT="2",
                     VTT_DBSTATEMENTTIMEOUT="2000", VTT_DBPOOLTIMEOUT="1000")
    with App(env=env) as app:
        pid = app.proc.pid
        writers = [Writer(app, "w%d" % i) for i in range(3)]
        for w in writers:
            w.start()
        time.sleep(1.5)
        pg.crash()
        down = wait_for(app, 503, 10)
        ok(down is not None and down < 2, "503 within 2 s of the crash (%s s)" % down)
        time.sleep(2)
        status, _, doc = app.json("GET", "/api/task/")
        is_((status, doc), (503, {"error": "database unavailable"}),
            "the API answers 503 with a JSON error while the database is down")
        pg.resume()
        up = wait_for(app, 200, 15)
        ok(up is not None and up < 5, "200 within 5 s of the database's return (%s s)" % up)
        time.sleep(1.5)
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(30)
        statuses = {}
        for w in writers:
            for k, v in w.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        diag("writer outcomes: %r" % statuses)
        ok(set(statuses) <= {200, 503}, "every POST got 200 or 503, nothing else")
        ok(statuses.get(200, 0) > 50, "writes succeeded before and after the outage")
        slowest = max(w.slowest for w in writers)
        ok(slowest < 6, "no request hung (slowest %.2f s)" % slowest)
        acked = sorted(i for w in writers for i in w.acked)
        in_table = set(int(x) for x in pg.psql("SELECT id FROM tasks").split())
        missing = [i for i in acked if i not in in_table]
        is_(missing, [], "all %d acknowledged writes are in the table" % len(acked))
        ok(app.proc.poll() is None and app.proc.pid == pid, "same process throughout")
        is_(app.request("GET", "/api/task/1/")[0], 200, "reads work again")
        is_(app.stop_status(), 0, "SIGTERM: exit 0")

    # Start with the database down: the app serves 503, then recovers by itself.
    pg.crash()
    with App(env=env, seed=False) as app:
        is_(app.request("GET", "/healthcheck/")[0], 503, "started with the database down: 503")
        pg.resume()
        up = wait_for(app, 200, 15)
        ok(up is not None, "recovers when the database comes up (%s s)" % up)
        is_(app.json("GET", "/api/task/")[0], 200, "and serves the list")

    # A wrong password: a clear message in the log, never the password itself.
    wrong = "wrong-" + pg.password[::-1]
    with App(env=dict(env, VTT_DBPASSWORD=wrong), seed=False) as app:
        is_(app.request("GET", "/healthcheck/")[0], 503, "wrong password: health is 503")
        log = app.read_log()
        like(log, "password authentication failed", "the log says why")
        ok(wrong not in log and pg.password not in log, "no password in the log")
    r_env = dict(env, VTT_DBPASSWORD=wrong)
    from tca import run  # noqa: E402
    r = run(["migrate"], env=r_env)
    ok(r.returncode != 0 and "password authentication failed" in r.stderr
       and wrong not in r.stderr + r.stdout, "migrate with a wrong password: clear error, exit != 0")

done()
