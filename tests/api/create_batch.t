#!/usr/bin/env python3
"""Concurrent POST /api/task/ share one INSERT and one commit (handlers/task.c, ADR 0010), on
both stores, and every answer stays true: under concurrent POST load each 200 carries the task
as sent with its own new id, and the table afterwards holds exactly the acknowledged tasks;
batches really form; on PostgreSQL a task the database refuses fails only its own POST (500)
while the rest of its batch is stored; SIGTERM under POST load answers every client and exits
0. Bounded: fixed counts, every wait has a deadline."""
import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

WRITERS = 24
POSTS = 25  # per writer


def post_all(port, tasks):
    """POSTs tasks (lists of dicts, one list per writer thread, each on its own keep-alive
    connection), all threads at once; returns [(task, status, parsed body or None)]."""
    results = []
    lock = threading.Lock()
    start = threading.Barrier(len(tasks))

    def writer(mine):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait(30)
        for task in mine:
            try:
                conn.request("POST", "/api/task/", body=json.dumps(task),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                status = r.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, data = None, b""
            try:
                doc = json.loads(data) if status == 200 else None
            except ValueError:
                doc = None
            with lock:
                results.append((task, status, doc))
        conn.close()

    threads = [threading.Thread(target=writer, args=(mine,)) for mine in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ok(not any(t.is_alive() for t in threads), "every writer finished")
    return results


def check_store(app, name, expect_refused=frozenset()):
    creates_before = app.metric("tca_store_operations_total", ['op="create"'])
    _, _, before = app.json("GET", "/api/task/")
    tasks = [[{"title": "%s %d-%d %s" % (name, w, i, "\u20ac'\"{}"), "priority": (w * 7 + i) % 5,
               "complete": i % 3 == 0} for i in range(POSTS)] for w in range(WRITERS)]
    for w, i in expect_refused:
        tasks[w][i]["title"] = "refused"
    results = post_all(app.port, tasks)

    refused = [r for r in results if r[0]["title"] == "refused"]
    rest = [r for r in results if r[0]["title"] != "refused"]
    bad = [r for r in rest if r[1] != 200 or r[2] is None or
           {k: r[2].get(k) for k in ("title", "priority", "complete")} != r[0]]
    for r in bad[:5]:
        diag("%r -> %r %r" % r)
    is_(len(bad), 0, "%s: every POST got 200 with the task as sent (%d POSTs)"
        % (name, len(rest)))
    ids = [r[2]["id"] for r in rest if r[2]]
    is_(len(set(ids)), len(ids), "%s: each with its own id" % name)
    if expect_refused:
        is_(sorted({r[1] for r in refused}), [500],
            "%s: each refused task failed alone with 500 (%d)" % (name, len(refused)))

    _, _, after = app.json("GET", "/api/task/")
    old = {t["id"] for t in before}
    stored = {t["id"]: t for t in after if t["id"] not in old}
    answered = {r[2]["id"]: r[2] for r in rest if r[2]}
    is_(sorted(stored), sorted(answered), "%s: the table holds exactly the acknowledged tasks"
        % name)
    ok(all(stored[i] == answered[i] for i in stored if i in answered),
       "%s: as they were answered" % name)
    creates = app.metric("tca_store_operations_total", ['op="create"']) - creates_before
    ok(0 < creates < len(results), "%s: batches formed: %d inserts for %d POSTs"
       % (name, creates, len(results)))


def check_drain(app, name):
    """SIGTERM while POSTs are batched: every client gets an answer, exit 0."""
    results = []
    stop = threading.Event()

    def writer(index):
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
        i = 0
        while not stop.is_set() and i < 2000:
            i += 1
            try:
                conn.request("POST", "/api/task/", body=json.dumps({"title": "d%d" % index}),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                results.append(r.status)
                if r.getheader("Connection", "").lower() == "close":
                    break
            except (OSError, http.client.HTTPException):
                break  # the server closed the listener: no answer expected for a new request
        conn.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    threading.Event().wait(0.5)
    is_(app.stop(), 0, "%s: SIGTERM under POST load: drained, exit 0" % name)
    stop.set()
    for t in threads:
        t.join(30)
    ok(not any(t.is_alive() for t in threads), "%s: no client was left hanging" % name)
    ok(results and set(results) <= {200, 503},
       "%s: every answered POST was 200 (or 503 while draining): %d answered"
       % (name, len(results)))


with App() as app:
    check_store(app, "sqlite")
    check_drain(app, "sqlite")

with PgCluster() as pg, App(env=pg.app_env()) as app:
    check_store(app, "postgres")
    # A task the database refuses (a trigger raises for it) fails alone.
    pg.psql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
            "IF NEW.title = 'refused' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; "
            "RETURN NEW; END$$")
    pg.psql("CREATE TRIGGER refuse BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION refuse()")
    check_store(app, "postgres with refusals", {(w, 10) for w in range(0, WRITERS, 3)})
    batch_refusals = sum(1 for r in app.log_records()
                         if isinstance(r, dict) and "tca_insert_many failed" in r.get("msg", ""))
    diag("batches refused and retried one by one: %d" % batch_refusals)
    pg.psql("DROP TRIGGER refuse ON tasks")
    check_drain(app, "postgres")

done()
