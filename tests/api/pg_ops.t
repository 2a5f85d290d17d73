#!/usr/bin/env python3
"""Operations against a real PostgreSQL: liveness stays 200 while the database is down and
readiness turns 503 (`healthcheck --live` exits 0, `healthcheck` 1); tca_db_pool_connections
tells unconnected slots from idle ones; and a password rotated under load — ALTER ROLE, the
VTT_DBPASSWORD_FILE rewritten, the backends terminated — is picked up without a restart: the
server recovers by itself, every acknowledged write stays, and no password reaches the log."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, run, wait_until  # noqa: E402


def pool(app):
    return {state: int(app.metric("tca_db_pool_connections", ['state="%s"' % state]))
            for state in ("idle", "in_use", "unconnected")}


class Writer(threading.Thread):
    """A light load: one POST every 20 ms until stopped; keeps the acknowledged ids."""

    def __init__(self, app, name):
        super().__init__(daemon=True)
        self.app, self.name = app, name
        self.acked, self.statuses = [], {}
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set() and n < 5000:
            n += 1
            try:
                status, _, task = self.app.json("POST", "/api/task/",
                                                {"title": "%s-%d" % (self.name, n)})
            except OSError as e:
                status, task = type(e).__name__, None
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.acked.append(task["id"])
            time.sleep(0.02)


def write_atomically(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


def terminate_app_backends(pg):
    return int(pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE application_name = 'TechChallengeApp'"))


with PgCluster() as pg:
    env = pg.app_env(VTT_DBPOOLSIZE="4", VTT_DBCONNECTTIMEOUT="2", VTT_DBPOOLTIMEOUT="1000")

    # --- liveness and readiness, and the pool's states, with the database down ---
    with App(env=env) as app:
        ok(wait_until(lambda: pool(app)["idle"] == 4, 10) is not None,
           "all 4 connections idle once the pool is filled")
        is_(pool(app)["unconnected"], 0, "none unconnected")
        pg.stop()
        ok(wait_until(lambda: app.request("GET", "/healthcheck/")[0] == 503, 10) is not None,
           "readiness: /healthcheck/ 503 with the database down")
        status, headers, body = app.request("GET", "/livez/")
        is_((status, body), (200, b"OK"), "liveness: /livez/ still 200 OK")
        hc_env = {"VTT_LISTENPORT": str(app.port), "VTT_DBTYPE": "postgres"}
        r = run(["healthcheck", "--live"], env=hc_env, cwd=app.dir)
        is_(r.returncode, 0, "healthcheck --live exits 0 with the database down")
        r = run(["healthcheck"], env=hc_env, cwd=app.dir)
        is_(r.returncode, 1, "healthcheck (readiness) exits 1")
        is_(pool(app), {"idle": 0, "in_use": 0, "unconnected": 4},
            "connections the server closed count as unconnected, not idle")
        app.stop()
    with App(env=env, seed=False) as app:
        time.sleep(1)
        is_(pool(app), {"idle": 0, "in_use": 0, "unconnected": 4},
            "started with the database down: 4 unconnected, 0 idle")
        pg.resume()
        ok(wait_until(lambda: app.request("GET", "/healthcheck/")[0] == 200, 10) is not None,
           "the database back: readiness 200")
        p = pool(app)
        ok(p["idle"] >= 1 and p["idle"] + p["in_use"] + p["unconnected"] == 4,
           "a reconnected slot counts as idle again (%r)" % p)

    # --- password rotation through VTT_DBPASSWORD_FILE ---
    first, second, third = pg.password, "rotated-Pw-2a7c9e", "rotated-Pw-3f81d0"
    secret_dir = os.path.join(pg.dir, "secrets")
    os.mkdir(secret_dir)
    pwfile = os.path.join(secret_dir, "db_password")
    write_atomically(pwfile, first + "\n")
    env = pg.app_env(VTT_DBPOOLSIZE="4", VTT_DBCONNECTTIMEOUT="2", VTT_DBPOOLTIMEOUT="1000",
                     VTT_DBPASSWORD_FILE=pwfile)
    del env["VTT_DBPASSWORD"]
    with App(env=env) as app:
        writers = [Writer(app, "w%d" % i) for i in range(2)]
        for w in writers:
            w.start()
        time.sleep(1)

        # A: the file is rewritten before the sessions are cut.
        pg.psql("ALTER ROLE postgres PASSWORD '%s'" % second)
        write_atomically(pwfile, second + "\n")
        killed = terminate_app_backends(pg)
        t0 = time.monotonic()
        ok(killed >= 1, "the app's backends are terminated (%d)" % killed)
        back_a = wait_until(lambda: app.request("GET", "/healthcheck/")[0] == 200 and
                            app.json("POST", "/api/task/", {"title": "after A"})[0] == 200, 15)
        ok(back_a is not None, "rotation A: the server recovers by itself (%.2f s after the "
           "sessions were cut)" % (back_a if back_a is not None else -1))
        diag("rotation A (file first): recovered %.3f s after pg_terminate_backend"
             % (time.monotonic() - t0 if back_a is None else back_a))

        # B: the sessions are cut before the file changes: 503s until it does.
        pg.psql("ALTER ROLE postgres PASSWORD '%s'" % third)
        terminate_app_backends(pg)
        time.sleep(2)
        status = app.request("GET", "/healthcheck/")[0]
        is_(status, 503, "rotation B: with the old password in the file, readiness is 503")
        write_atomically(pwfile, third + "\n")
        back_b = wait_until(lambda: app.request("GET", "/healthcheck/")[0] == 200 and
                            app.json("POST", "/api/task/", {"title": "after B"})[0] == 200, 15)
        ok(back_b is not None, "rotation B: recovers once the file holds the new password "
           "(%.2f s after the rewrite)" % (back_b if back_b is not None else -1))
        diag("rotation B (file later): recovered %.3f s after the file was rewritten"
             % (back_b if back_b is not None else -1))

        time.sleep(0.5)
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(30)
        acked = set()
        for w in writers:
            acked.update(w.acked)
        diag("writer statuses: %r" % [w.statuses for w in writers])
        stored = {int(x) for x in pg.psql("SELECT id FROM tasks").split()}
        is_(len(acked - stored), 0, "every acknowledged write is in the table (%d)" % len(acked))
        ok(any(200 == s for w in writers for s in w.statuses) and
           sum(w.statuses.get(200, 0) for w in writers) > 50, "the load went on")
        app.stop()
        log = app.read_log()
        like(log, "VTT_DBPASSWORD_FILE holds a new password, connecting with it",
             "the switch to a new password is logged")
        ok(all(p not in log for p in (first, second, third)), "no password, old or new, is in the log")

done()
