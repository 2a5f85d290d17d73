#!/usr/bin/env python3
"""The access log is buffered while serving (log.c): every request still gets exactly one line,
lines from concurrent requests never interleave, a line shows up within a short while without
any further traffic, and SIGTERM writes whatever was still buffered. Bounded counts and waits."""
import http.client
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

THREADS = 8
PER_THREAD = 150


def requests(port, prefix, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(n):
        c.request("GET", "/api/task/", headers={"X-Request-Id": "%s-%d" % (prefix, i)})
        c.getresponse().read()
    c.close()


def request_lines(app):
    recs = app.log_records()
    return recs, [r for r in recs if isinstance(r, dict) and r.get("msg") == "request"]


with App() as app:
    # One request, then silence: its line must reach the file on its own.
    requests(app.port, "lone", 1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(r.get("request_id") == "lone-0" for r in request_lines(app)[1]):
            break
        time.sleep(0.01)
    ok(any(r.get("request_id") == "lone-0" for r in request_lines(app)[1]),
       "a lone request's line is written without further traffic")

    threads = [threading.Thread(target=requests, args=(app.port, "t%d" % t, PER_THREAD))
               for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    is_(app.stop(), 0, "SIGTERM right after the load: exit 0")
    recs, lines = request_lines(app)
    bad = [r for r in recs if not isinstance(r, dict)]
    is_(bad[:3], [], "every line of the log is one whole JSON object (no interleaving)")
    ids = [r.get("request_id") for r in lines if r.get("request_id", "").startswith("t")]
    is_(len(ids), THREADS * PER_THREAD, "one line per request, none lost at SIGTERM")
    is_(len(set(ids)), len(ids), "and none written twice")
    in_order = all([int(i.split("-")[1]) for i in ids if i.startswith("t%d-" % t)] ==
                   list(range(PER_THREAD)) for t in range(THREADS))
    ok(in_order, "each connection's lines are in the order of its requests")
    ok(isinstance(recs[-1], dict) and recs[-1].get("msg") == "stopped",
       "the last line is 'stopped', after every request line")

done()
