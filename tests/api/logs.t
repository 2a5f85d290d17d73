#!/usr/bin/env python3
"""The log: one JSON object per line with time, level, msg (and request_id inside a request);
access lines carry method, path, route, status, duration and bytes, and the trace headers
(X-Amzn-Trace-Id, traceparent) when valid; LogLevel filters;
LogFormat=text is for humans; a canary password appears nowhere, even at debug level."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App  # noqa: E402

CANARY = "canary-logs-Pw-91b2"

with App(env={"VTT_DBPASSWORD": CANARY, "VTT_LOGLEVEL": "debug"}) as app:
    # Each request names itself (X-Request-Id), so that its access line is found whatever the
    # order of the lines: worker threads buffer their lines and write them out in turn (ADR 0008).
    sent = [app.request("GET", "/api/task/", headers={"X-Request-Id": "trace-me-1"}),
            app.request("POST", "/api/task/", b"{bad json", headers={"X-Request-Id": "trace-me-2"}),
            app.request("GET", "/api/task/77/", headers={"X-Request-Id": "trace-me-3"}),
            app.request("GET", "/livez/", headers={"X-Request-Id": "trace-me-4"}),
            app.request("GET", "/", headers={"Accept-Encoding": "gzip",
                                             "X-Request-Id": "trace-me-5"})]
    app.stop()
    lines = app.read_log().splitlines()
    records, bad = [], []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            bad.append(line)
    is_(bad, [], "every log line is one JSON object")
    ok(all(isinstance(r, dict) and {"time", "level", "msg"} <= set(r) for r in records),
       "every line has time, level and msg")
    ok(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]) for r in records),
       "time is RFC 3339 UTC with milliseconds")
    ok(all(r["level"] in ("debug", "info", "warn", "error") for r in records), "levels are named")
    access = sorted((r for r in records if r["msg"] == "request"),
                    key=lambda r: str(r.get("request_id")))
    is_([r.get("request_id") for r in access], ["trace-me-%d" % i for i in range(1, 6)],
        "one access line per request")
    first = access[0] if access else {}
    is_({k: first.get(k) for k in ("request_id", "method", "path", "route", "status")},
        {"request_id": "trace-me-1", "method": "GET", "path": "/api/task/",
         "route": "/api/task/", "status": 200}, "access line fields")
    ok(all(isinstance(r.get("duration_us"), int) and isinstance(r.get("bytes"), int)
           for r in access), "duration_us and bytes are numbers")
    is_([r.get("status") for r in access], [200, 400, 404, 200, 200], "statuses logged as sent")
    # bytes is the body as sent, whichever kind it was: written by the handler (a list, an
    # error), static (the liveness text, an embedded precompressed asset).
    is_([r.get("bytes") for r in access], [len(body) for _, _, body in sent],
        "bytes: the length of each body as sent")
    is_(sent[4][1].get("content-encoding"), "gzip", "the asset was sent precompressed")
    ok(CANARY not in app.read_log(), "the password never appears, even at debug level")

# Trace context: the ALB's X-Amzn-Trace-Id and W3C traceparent go on the access line when they
# have their specified shape, and nothing else does (the line stays one JSON object).
AMZN = "Root=1-67891233-abcdef012345678912345678;Parent=463ac35c9f6413ad;Sampled=1"
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
with App() as app:
    cases = [
        ({"X-Amzn-Trace-Id": AMZN, "traceparent": PARENT}, AMZN, PARENT, "both valid"),
        ({"X-Amzn-Trace-Id": "Self=1-67891233-12456789abcdef012345678;Root=1-67891233-abcdef01"
                             "2345678912345678"},
         "Self=1-67891233-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678",
         None, "an ALB trace id with Self"),
        ({"traceparent": "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"}, None,
         "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
         "a later traceparent version: its first 55 characters"),
        ({"X-Amzn-Trace-Id": 'Root=1-x";"injected":"1', "traceparent": PARENT.upper()}, None,
         None, "a quote in the trace id, upper-case hex: dropped"),
        ({"X-Amzn-Trace-Id": "Root=" + "a" * 300,
          "traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, None, None,
         "an over-long trace id, an all-zero trace id: dropped"),
        ({"X-Amzn-Trace-Id": "Root=;;", "traceparent": "ff-4bf92f3577b34da6a3ce929d0e0e4736-"
                                                        "00f067aa0ba902b7-01"}, None, None,
         "an empty field, version ff: dropped"),
        ({"traceparent": PARENT + "-x"}, None, None, "version 00 with extra fields: dropped"),
    ]
    for n, (headers, _, _, _) in enumerate(cases):
        headers = dict(headers, **{"X-Request-Id": "trace-case-%d" % n})
        app.request("GET", "/api/task/", headers=headers)
    app.stop()
    lines = app.read_log().splitlines()
    by_id = {}
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            ok(False, "a log line is not JSON: %r" % line)
            continue
        if rec.get("msg") == "request":
            by_id[rec.get("request_id")] = rec
    for n, (_, amzn, parent, what) in enumerate(cases):
        rec = by_id.get("trace-case-%d" % n, {})
        is_((rec.get("amzn_trace_id"), rec.get("traceparent"), "injected" in rec),
            (amzn, parent, False), "trace headers, " + what)

with App(env={"VTT_LOGLEVEL": "warn"}) as app:
    app.request("GET", "/api/task/")
    app.stop()
    is_([line for line in app.read_log().splitlines() if '"request"' in line], [],
        "LogLevel=warn drops the info-level access lines")

with App(env={"VTT_LOGFORMAT": "text"}) as app:
    app.request("GET", "/api/task/", headers={"X-Request-Id": "human-1"})
    # A client's raw control bytes in the request line (terminal escape sequences): the server
    # answers 400, and the access line must not carry them to the terminal the log is read on.
    answer = app.raw(b"GET /x\x1b[2J\x1b]0;owned\x07y HTTP/1.1\r\nHost: x\r\n\r\n")
    app.stop()
    text = app.read_log()
    like(text, "[human-1] request method=GET path=/api/task/", "LogFormat=text reads as text")
    ok(not text.lstrip().startswith("{"), "and is not JSON")
    ok(answer.startswith(b"HTTP/1.1 400 "), "a request line with control bytes gets 400")
    ok(not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text),
       "no control character reaches the text log")
    like(text, r"path=/x\x1b[2J\x1b]0;owned\x07y ",
         "the path's control bytes are written as \\xHH")

done()
