#!/usr/bin/env python3
"""Concurrent PUTs, PATCHes and DELETEs share one statement on PostgreSQL and one transaction on
SQLite (handlers/task.c, ADRs 0030, 0031), and every answer stays what the requests one after
another would have given: many PATCHes of one task at once each get the task as their own write
left it (their own title); PATCHes that set only some fields keep the others; a PUT of a missing
task among others is 404; of several DELETEs of one task exactly one gets 204 and the others 404;
batches really form (fewer store calls than requests), on SQLite also of writes to one task. Bounded: fixed counts, every wait has a deadline."""
import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

CLIENTS = 32


def at_once(port, requests):
    """Sends each (method, path, body) on its own connection, all threads released together;
    returns [(request, status, parsed body or None)] in the order of requests."""
    results = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def client(i, method, path, body):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.connect()
            start.wait(30)
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            try:
                doc = json.loads(data) if data else None
            except ValueError:
                doc = data
            results[i] = ((method, path, body), r.status, doc)
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as e:
            results[i] = ((method, path, body), type(e).__name__, None)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,) + req) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok(not any(t.is_alive() for t in threads), "every client finished")
    return results


def check_writes(app, store):
    status, _, task = app.json("POST", "/api/task/", {"title": "shared", "priority": 7})
    is_(status, 200, "%s: a task to write to" % store)
    tid = task["id"]

    own, rounds = 0, 5
    before = app.metric("tca_store_operations_total", ['op="update"'])
    for rnd in range(rounds):
        reqs = [("PATCH", "/api/task/%d/" % tid, {"title": "r%d-c%d" % (rnd, i)})
                for i in range(CLIENTS)]
        for (req, status, doc) in at_once(app.port, reqs):
            own += status == 200 and isinstance(doc, dict) and \
                doc.get("title") == req[2]["title"] and doc.get("priority") == 7
    is_(own, rounds * CLIENTS, "every one of %d PATCHes of one task at once got 200 with its "
        "own title, the other fields kept" % (rounds * CLIENTS))
    used = app.metric("tca_store_operations_total", ['op="update"']) - before
    diag("%s: %d PATCHes of one task in %d update calls" % (store, rounds * CLIENTS, used))
    if store == "SQLite":  # one transaction applies them in order (ADR 0034)
        ok(used < rounds * CLIENTS, "SQLite: writes of one task shared transactions (%d calls "
           "for %d PATCHes)" % (used, rounds * CLIENTS))
    status, _, doc = app.json("GET", "/api/task/%d/" % tid)
    ok(status == 200 and doc["title"].startswith("r%d-" % (rounds - 1)),
       "the task holds one of the last round's titles (%s)" % doc.get("title"))

    ids = []
    for i in range(16):
        status, _, t = app.json("POST", "/api/task/", {"title": "t%d" % i, "priority": i})
        ids.append(t["id"])
    reqs = []
    for i, t in enumerate(ids):
        reqs.append(("PUT", "/api/task/%d/" % t,
                     {"title": "put %d" % i, "priority": 100 + i, "complete": True}))
        reqs.append(("PATCH", "/api/task/%d/" % t, {"complete": True}))
    reqs.append(("PUT", "/api/task/999999/", {"title": "nobody", "priority": 1,
                                              "complete": False}))
    statements = app.metric("tca_store_operations_total", ['op="update"'])
    res = at_once(app.port, reqs)
    used = app.metric("tca_store_operations_total", ['op="update"']) - statements
    diag("%d PUTs and PATCHes of 16 tasks in %d update calls" % (len(reqs), used))
    ok(used < len(reqs) - 1, "they shared statements (%d for %d requests)" %
       (used, len(reqs)))
    is_(res[-1][1], 404, "a PUT of a missing task among others is 404")
    fine = 0
    for (method, path, body), status, doc in res[:-1]:
        if method == "PUT":
            fine += status == 200 and doc == dict(body, id=int(path.split("/")[3]))
        else:
            fine += status == 200 and doc.get("complete") is True
    is_(fine, 32, "every PUT answers its own values, every PATCH keeps what it does not set")
    for i, t in enumerate(ids):
        status, _, doc = app.json("GET", "/api/task/%d/" % t)
        ok(status == 200 and doc["complete"] is True and
           doc["title"] in ("put %d" % i, "t%d" % i), "task %d is as the writes left it" % t)

    deletes = app.metric("tca_store_operations_total", ['op="delete"'])
    reqs = [("DELETE", "/api/task/%d/" % t, None) for t in ids for _ in range(4)]
    res = at_once(app.port, reqs)
    by_id = {}
    for (_, path, _), status, _ in res:
        by_id.setdefault(path, []).append(status)
    is_(sorted(sorted(v) for v in by_id.values()), [[204, 404, 404, 404]] * len(ids),
        "of 4 DELETEs of each task exactly one is 204, the others 404")
    used = app.metric("tca_store_operations_total", ['op="delete"']) - deletes
    diag("%d DELETEs in %d delete calls" % (len(reqs), used))
    ok(used < len(reqs), "they shared statements (%d for %d requests)" % (used, len(reqs)))
    gone = [app.request("GET", "/api/task/%d/" % t)[0] for t in ids]
    is_(gone, [404] * len(ids), "and every one of those tasks is gone")


with PgCluster() as pg:
    with App(env=pg.app_env()) as app:
        check_writes(app, "PostgreSQL")
with App() as app:
    check_writes(app, "SQLite")
done()
