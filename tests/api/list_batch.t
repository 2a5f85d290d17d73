#!/usr/bin/env python3
"""GET /api/task/ and GET /api/task/{id}/ batching on PostgreSQL (handlers/task_list.c, task.c)
keeps reads linearizable: under concurrent read load on two instances sharing one database, a
GET (of the list, or of the task) that starts after a POST's (or DELETE's) response sees it, on
the same instance and on the other; batches really form; a
database crash fails every member of a batch with 503 instead of hanging it; SIGTERM under load
still drains to exit 0. Bounded: fixed iteration counts, every wait has a deadline."""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, ok  # noqa: E402
from tca import App, KeepAliveClient, run_readers_writers  # noqa: E402

READERS = 12
WRITERS = 4
ROUNDS = 40
DEADLINE_S = 90


def titles(body):
    return {t["title"] for t in json.loads(body)}


with PgCluster() as pg, App(env=pg.app_env()) as a, App(env=pg.app_env(), seed=False) as b:
    stop = threading.Event()
    reader_stats = {"ok": 0, "bad": 0}
    reader_errors = []
    lock = threading.Lock()

    def reader(app, one=False):
        c = KeepAliveClient(app)
        while not stop.is_set():
            try:
                if one:  # a seeded task, never deleted
                    status, body = c.request("GET", "/api/task/1/")
                    good = status == 200 and json.loads(body)["id"] == 1
                else:
                    status, body = c.request("GET", "/api/task/")
                    good = status == 200 and body.startswith(b"[")
            except (OSError, http.client.HTTPException, ValueError) as e:
                good, status, body = False, None, repr(e).encode()
            with lock:
                reader_stats["ok" if good else "bad"] += 1
                if not good and len(reader_errors) < 5:
                    reader_errors.append("%s %s: %r %r" % (app.port, "one" if one else "list",
                                                            status, body[:200]))

    failures = []
    checks = [0]

    def writer(index):
        ca, cb = KeepAliveClient(a), KeepAliveClient(b)
        for i in range(ROUNDS):
            if stop.is_set():
                return
            title = "w%d-%d" % (index, i)
            mine, other = (ca, cb) if i % 2 == 0 else (cb, ca)
            try:
                status, body = mine.request("POST", "/api/task/", {"title": title})
                if status != 200:
                    failures.append("POST %s: %d" % (title, status))
                    continue
                task_id = json.loads(body)["id"]
                for name, c in (("same", mine), ("other", other)):
                    status, body = c.request("GET", "/api/task/")
                    checks[0] += 1
                    if status != 200 or title not in titles(body):
                        failures.append("%s not in a GET on the %s instance after its POST"
                                        % (title, name))
                    status, body = c.request("GET", "/api/task/%d/" % task_id)
                    checks[0] += 1
                    if status != 200 or json.loads(body)["title"] != title:
                        failures.append("%s: GET of its id on the %s instance after its POST: %d"
                                        % (title, name, status))
                status, _ = other.request("DELETE", "/api/task/%d/" % task_id)
                if status != 204:
                    failures.append("DELETE %s: %d" % (title, status))
                    continue
                for name, c in (("same", other), ("other", mine)):
                    status, body = c.request("GET", "/api/task/")
                    checks[0] += 1
                    if status != 200 or title in titles(body):
                        failures.append("%s still in a GET on the %s instance after its DELETE"
                                        % (title, name))
                    status, _ = c.request("GET", "/api/task/%d/" % task_id)
                    checks[0] += 1
                    if status != 404:
                        failures.append("%s: GET of its id on the %s instance after its DELETE: "
                                        "%d" % (title, name, status))
            except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                failures.append("%s: %r" % (title, e))

    gets_before = a.metric("tca_http_requests_total", ['route="/api/task/"', 'method="GET"'])
    lists_before = a.metric("tca_store_operations_total", ['op="list"'])
    gets_one_before = a.metric("tca_http_requests_total", ['route="/api/task/{id}/"',
                                                          'method="GET"'])
    get_queries_before = a.metric("tca_store_operations_total", ['op="get"'])
    readers = [threading.Thread(target=reader, args=(a if i % 2 else b, i % 3 == 0))
               for i in range(READERS)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    run_readers_writers(readers, writers, stop, DEADLINE_S)

    for f in failures[:10]:
        diag(f)
    is_(len(failures), 0, "every GET after a POST's 200 (or a DELETE's 204) sees it, on both "
        "instances, under list load (%d checks)" % checks[0])
    ok(checks[0] == WRITERS * ROUNDS * 8, "all %d checks ran before the deadline" % checks[0])
    for e in reader_errors:
        diag(e)
    ok(reader_stats["bad"] == 0 and reader_stats["ok"] > 0,
       "concurrent readers always got a list (%(ok)d ok, %(bad)d failed)" % reader_stats)
    gets = a.metric("tca_http_requests_total", ['route="/api/task/"', 'method="GET"']) - \
        gets_before
    lists = a.metric("tca_store_operations_total", ['op="list"']) - lists_before
    ok(0 < lists < gets, "batches formed: %d list queries for %d GET lists" % (lists, gets))
    gets_one = a.metric("tca_http_requests_total", ['route="/api/task/{id}/"', 'method="GET"']) \
        - gets_one_before
    get_queries = a.metric("tca_store_operations_total", ['op="get"']) - get_queries_before
    ok(0 < get_queries < gets_one, "batches formed: %d task queries for %d GETs of one task"
       % (get_queries, gets_one))

    # A batch whose query fails answers every member (503), none hangs.
    pg.crash()
    results = []

    def one_get():
        try:
            status, _ = KeepAliveClient(a).request("GET", "/api/task/")
        except (OSError, http.client.HTTPException):
            status = None
        results.append(status)

    t0 = time.monotonic()
    threads = [threading.Thread(target=one_get) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    is_(sorted(set(results)), [503], "with the database down, 16 concurrent GET lists are 503")
    ok(time.monotonic() - t0 < 15, "and none waited long (%.1f s)" % (time.monotonic() - t0))
    pg.resume()
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline:
        status = a.request("GET", "/api/task/")[0]
        if status == 200:
            break
        time.sleep(0.1)
    is_(status, 200, "lists are served again once the database is back")

    # SIGTERM while lists are batched: every suspended request is answered, exit 0.
    stop.clear()
    readers = [threading.Thread(target=reader, args=(b,)) for _ in range(8)]
    for t in readers:
        t.start()
    time.sleep(0.5)
    is_(b.stop(), 0, "SIGTERM under list load: drained, exit 0")
    stop.set()
    for t in readers:
        t.join(30)
    ok(not any(t.is_alive() for t in readers), "no client was left hanging")

    # A batched list's body is shared by its members; the access log still gives its length.
    _, _, listed = a.request("GET", "/api/task/", headers={"X-Request-Id": "shared-body-bytes"})
    is_(a.stop(), 0, "instance a stopped")
    logged = [r.get("bytes") for r in a.log_records() if isinstance(r, dict) and
              r.get("msg") == "request" and r.get("request_id") == "shared-body-bytes"]
    is_(logged, [len(listed)], "bytes on the access line of a batched list: the body's length")

done()
