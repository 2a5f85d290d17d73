#!/usr/bin/env python3
"""/metrics: valid Prometheus text format (strict parser), counters move with requests, route
labels are templates (never raw paths), no secret anywhere."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import promtext  # noqa: E402
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App  # noqa: E402

CANARY = "canary-Pa55w0rd-7f3a9"


def scrape(app):
    status, hdrs, body = app.request("GET", "/metrics")
    text = body.decode()
    try:
        return status, hdrs, text, promtext.parse(text)
    except ValueError as e:
        diag(str(e))
        return status, hdrs, text, None


with App(env={"VTT_DBPASSWORD": CANARY}) as app:
    status, hdrs, text, fams = scrape(app)
    is_(status, 200, "/metrics is 200")
    like(hdrs.get("content-type"), "text/plain; version=0.0.4", "exposition content type")
    ok(fams is not None, "the exposition parses strictly")

    before = promtext.value(fams, "tca_http_requests_total", route="/api/task/", method="GET",
                            status="200") or 0
    for _ in range(5):
        app.request("GET", "/api/task/")
    for i in range(3):
        app.request("GET", "/api/task/%d/" % (1000 + i))
    app.request("GET", "/api/task/1/")
    app.request("GET", "/js/../../etc/passwd")
    app.request("POST", "/api/task/", {"title": "m"})

    status, hdrs, text, fams = scrape(app)
    ok(fams is not None, "the exposition still parses after traffic")
    is_(promtext.value(fams, "tca_http_requests_total", route="/api/task/", method="GET",
                       status="200"), before + 5, "GET list counted 5 more times")
    is_(promtext.value(fams, "tca_http_requests_total", route="/api/task/{id}/", method="GET",
                       status="404"), 3, "three 404s on the task template, not three raw paths")
    is_(promtext.value(fams, "tca_http_requests_total", route="/api/task/", method="POST",
                       status="200"), 1, "POST counted")
    ok("/api/task/1000" not in text and "passwd" not in text, "no raw path becomes a label")
    count = promtext.value(fams, "tca_http_request_duration_seconds_count", route="/api/task/",
                           method="GET")
    ok(count is not None and count >= 5, "latency histogram counts the list requests")
    ok((promtext.value(fams, "tca_store_operations_total", op="list", result="ok") or 0) >= 5,
       "store list operations counted")
    is_(promtext.value(fams, "tca_store_operations_total", op="get", result="not_found"), 3,
        "store not-found outcomes counted")
    ok((promtext.value(fams, "process_cpu_seconds_total") or 0) > 0, "CPU time reported")
    ok(fams["process_cpu_seconds_total"]["type"] == "counter", "CPU time is a counter")
    ok((promtext.value(fams, "process_resident_memory_bytes") or 0) > 1e6, "RSS reported")
    ok((promtext.value(fams, "process_open_fds") or 0) >= 3, "open fds reported")
    ok((promtext.value(fams, "process_start_time_seconds") or 0) > 1.6e9, "start time reported")
    ok(any(l.get("version") for _, l, _ in fams.get("tca_build_info", {}).get("samples", [])),
       "build info with version")
    is_(promtext.value(fams, "tca_http_requests_in_flight"), 1.0,
        "in-flight gauge counts the scrape itself")
    ok(CANARY not in text, "the password is not in /metrics")
    _, _, dbg = app.request("GET", "/debug")
    ok(CANARY.encode() not in dbg, "the password is not in /debug")
    app.stop()
    ok(CANARY not in app.read_log(), "the password is not in the log")

done()
