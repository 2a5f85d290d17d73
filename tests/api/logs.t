#!/usr/bin/env python3
"""The log: one JSON object per line with time, level, msg (and request_id inside a request);
access lines carry method, path, route, status, duration and bytes; LogLevel filters;
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
    app.request("GET", "/api/task/", headers={"X-Request-Id": "trace-me-1"})
    app.request("POST", "/api/task/", b"{bad json")
    app.request("GET", "/api/task/77/")
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
    access = [r for r in records if r["msg"] == "request"]
    is_(len(access), 3, "one access line per request")
    first = access[0] if access else {}
    is_({k: first.get(k) for k in ("request_id", "method", "path", "route", "status")},
        {"request_id": "trace-me-1", "method": "GET", "path": "/api/task/",
         "route": "/api/task/", "status": 200}, "access line fields")
    ok(all(isinstance(r.get("duration_us"), int) and isinstance(r.get("bytes"), int)
           for r in access), "duration_us and bytes are numbers")
    is_([r.get("status") for r in access], [200, 400, 404], "statuses logged as sent")
    ok(CANARY not in app.read_log(), "the password never appears, even at debug level")

with App(env={"VTT_LOGLEVEL": "warn"}) as app:
    app.request("GET", "/api/task/")
    app.stop()
    is_([line for line in app.read_log().splitlines() if '"request"' in line], [],
        "LogLevel=warn drops the info-level access lines")

with App(env={"VTT_LOGFORMAT": "text"}) as app:
    app.request("GET", "/api/task/", headers={"X-Request-Id": "human-1"})
    app.stop()
    text = app.read_log()
    like(text, "[human-1] request method=GET path=/api/task/", "LogFormat=text reads as text")
    ok(not text.lstrip().startswith("{"), "and is not JSON")

done()
