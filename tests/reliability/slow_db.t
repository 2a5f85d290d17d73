#!/usr/bin/env python3
"""PostgreSQL a slow round trip away (bench/delay_proxy.c holds every chunk 250 ms each way):
no worker thread of the server waits for the database (ADR 0029). With 2 worker threads and
8 PUTs waiting on the database, /livez/, the UI's index and /metrics are answered at once, while
every one of the PUTs is still unanswered (an order, not a timing); the 8 PUTs are all in flight
at once (they finish in about one round trip, not four); a SIGTERM while they are in flight
lets each of them finish with 200 and the process exit 0."""
import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from delayproxy import DelayProxy, build  # noqa: E402
from pgcluster import PgCluster  # noqa: E402
from tap import bail, diag, done, is_, ok  # noqa: E402
from tca import App, run, wait_until  # noqa: E402

DELAY_US = 250000  # each way: a statement takes at least 0.5 s
PUTS = 8  # as many as the pool has connections


def send_put(app, task_id):
    """A connection with a PUT of task task_id sent on it (the answer not read)."""
    sock = app.connect(timeout=20)
    body = b'{"title":"task %d","priority":%d,"completed":false}' % (task_id, task_id)
    sock.sendall(b"PUT /api/task/%d/ HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (task_id, len(body), body))
    return sock


def answered(sock):
    """Whether anything of an answer has arrived on sock (without waiting)."""
    return bool(select.select([sock], [], [], 0)[0])


def read_status(sock):
    """The status code of the answer on sock (waits for it), or None."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def put_all(app, ids):
    """Sends a PUT for each id at once; returns their statuses and the seconds until the last."""
    t0 = time.monotonic()
    socks = [send_put(app, i) for i in ids]
    statuses = [read_status(s) for s in socks]
    return statuses, time.monotonic() - t0


why = build()
if why:
    bail(why)

with PgCluster() as pg:
    r = run(["updatedb"], env=pg.app_env())
    if r.returncode != 0:
        bail("updatedb: %s%s" % (r.stdout, r.stderr))
    pg.psql("INSERT INTO tasks (title, priority, completed) "
            "SELECT 'task ' || g, g, false FROM generate_series(4, %d) g" % PUTS)
    with DelayProxy(pg.host, pg.port, DELAY_US) as proxy:
        env = pg.app_env(VTT_DBHOST=proxy.host, VTT_DBPORT=str(proxy.port), VTT_THREADS="2",
                         VTT_DBPOOLSIZE="8", VTT_DBCONNECTTIMEOUT="30",
                         VTT_DBPOOLTIMEOUT="30000", VTT_DBSTATEMENTTIMEOUT="30000")
        with App(env=env, seed=False) as app:
            # The pool fills in the background, one connection after another (a few round
            # trips each): wait for all of them, then prepare the statement on each.
            filled = wait_until(lambda: app.metric("tca_db_pool_connections",
                                                   ['state="unconnected"']) == 0, 90)
            ok(filled is not None, "the pool is filled through the slow proxy (%s s)" % filled)
            statuses, _ = put_all(app, range(1, PUTS + 1))
            is_(statuses, [200] * PUTS, "warm-up: the PUTs through the slow proxy succeed")
            statuses, one = put_all(app, [1])
            is_(statuses, [200], "a lone PUT succeeds")
            diag("one PUT: %.2f s" % one)

            socks = [send_put(app, i) for i in range(1, PUTS + 1)]
            time.sleep(0.1)  # the server has read them and handed them to the database
            others = [app.request("GET", p, timeout=20)[0]
                      for p in ("/livez/", "/", "/metrics")]
            pending = sum(not answered(s) for s in socks)
            is_(others, [200, 200, 200], "/livez/, the index and /metrics are answered")
            is_(pending, PUTS, "while all %d PUTs still wait for the database (2 worker "
                "threads)" % PUTS)
            statuses = [read_status(s) for s in socks]
            is_(statuses, [200] * PUTS, "and then every PUT gets its 200")

            # A connection's first PUT also prepares the statement: a second round trip. The
            # best of 3 rounds is a round on prepared connections.
            rounds = [put_all(app, range(1, PUTS + 1)) for _ in range(3)]
            is_([st for st, _ in rounds], [[200] * PUTS] * 3, "%d PUTs at once succeed" % PUTS)
            took = min(t for _, t in rounds)
            diag("%d PUTs at once: %s s (one alone: %.2f s)" %
                 (PUTS, ", ".join("%.2f" % t for _, t in rounds), one))
            ok(took < 2.5 * one, "they are in flight together: all done within 2.5 times one "
               "(%.2f s; one at a time per worker thread would take 4 times)" % took)

            socks = [send_put(app, i) for i in range(1, PUTS + 1)]
            time.sleep(0.1)
            app.proc.send_signal(15)
            results = {}

            def collect():
                results["statuses"] = [read_status(s) for s in socks]

            t = threading.Thread(target=collect, daemon=True)
            t.start()
            t.join(30)
            is_(results.get("statuses"), [200] * PUTS,
                "SIGTERM with PUTs in flight: each of them finishes with 200")
            try:
                code = app.proc.wait(30)  # not app.stop(): a second SIGTERM means "stop at once"
            except Exception:  # noqa: BLE001 - reported below
                code = None
            is_(code, 0, "and the process exits 0")

done()
