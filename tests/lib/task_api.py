"""task_api.py — the task API checks, shared by the embedded-store run (tasks.t) and the
PostgreSQL run (tasks_pg.t): every route, the original's JSON shapes, every bad input the API
refuses. check_task_api(app) expects a freshly seeded app (updatedb) and stops it at the end.
"""
import json
import time

from tap import diag, is_, like, ok

SEEDED = [{"id": 1, "priority": 0, "title": "1st Task", "complete": False},
          {"id": 2, "priority": 0, "title": "2nd Task", "complete": False},
          {"id": 3, "priority": 0, "title": "3rd Task", "complete": False}]


# What the original's React UI sends for every add: its form state with the typed text under a
# capital "Title" key, and for an empty submit the form state alone.
ORIGINAL_UI_ADD = b'{"title":"","priority":1000,"completed":false,"id":0,"Title":"buy milk"}'
ORIGINAL_UI_EMPTY_SUBMIT = b'{"title":"","priority":1000,"completed":false,"id":0}'


def check_task_api(app):
    # --- list, exactly as the original shapes it ---
    status, hdrs, body = app.request("GET", "/api/task/")
    is_(status, 200, "GET /api/task/ is 200")
    like(hdrs.get("content-type"), "application/json", "list is application/json")
    is_(body, json.dumps(SEEDED, separators=(",", ":")).encode(),
        "list is the three seeded tasks, keys in the original's order, byte for byte")
    is_(app.json("GET", "/api/task")[2], SEEDED, "GET /api/task without the slash works too")

    # --- create ---
    status, _, task = app.json("POST", "/api/task/", {"title": "buy milk", "priority": 2})
    is_(status, 200, "POST creates (200 as the original)")
    is_(task, {"id": 4, "priority": 2, "title": "buy milk", "complete": False},
        "POST returns the task with its new id")
    status, _, task = app.json("POST", "/api/task", {"id": 999, "Title": "case", "COMPLETED": True})
    is_((status, task.get("id"), task.get("title"), task.get("complete")), (200, 5, "case", True),
        "client id ignored; keys case-insensitive; 'completed' accepted for 'complete'")
    status, _, task = app.json("POST", "/api/task/", {"title": "x", "unknown": [1, {"a": 2}]})
    is_(status, 200, "unknown keys are ignored")
    status, _, task = app.json("POST", "/api/task/", {"title": "n", "priority": None})
    is_((status, task and task.get("priority")), (200, 0), "null counts as absent")

    # --- the original UI's own request, byte for byte, and keys given more than once ---
    status, hdrs, body = app.request("POST", "/api/task/", ORIGINAL_UI_ADD,
                                     {"Content-Type": "application/json"})
    task = json.loads(body) if status == 200 else None
    ok(status == 200 and task["id"] > 5 and task["id"] == max(t["id"] for t in app.json(
        "GET", "/api/task/")[2]), "the original UI's add request is 200 with a new id")
    is_({k: v for k, v in (task or {}).items() if k != "id"},
        {"priority": 1000, "title": "buy milk", "complete": False},
        "the original UI's add request stores the typed text (the last spelling wins)")
    created_id = task["id"] if task else 0
    for body, want, what in [
            (b'{"title":"a","Title":"b","title":"c"}', ("c", 0, False),
             "an exact key repeated after another spelling: body order wins"),
            (b'{"complete":true,"completed":false,"title":"d"}', ("d", 0, False),
             "completed after complete: the last wins"),
            (b'{"COMPLETED":false,"Complete":true,"title":"e","Priority":1,"priority":null}',
             ("e", 1, True), "complete after completed wins; null keeps the earlier value")]:
        status, _, task = app.json("POST", "/api/task/", body, {"Content-Type": "application/json"})
        is_((status, status == 200 and (task["title"], task["priority"], task["complete"])),
            (200, want), what)
    status, _, task = app.json("PUT", "/api/task/%d/" % created_id,
                               b'{"title":"","Title":"milk","priority":1,"PRIORITY":7}')
    is_((status, task), (200, {"id": created_id, "priority": 7, "title": "milk",
                               "complete": False}), "PUT merges keys the same way")
    status, _, task = app.json("PATCH", "/api/task/%d/" % created_id,
                               b'{"Completed":false,"complete":true,"title":null}')
    is_((status, task), (200, {"id": created_id, "priority": 7, "title": "milk",
                               "complete": True}), "PATCH merges keys the same way")
    is_(app.json("DELETE", "/api/task/%d/" % created_id)[0], 204, "(cleanup)")
    for t in app.json("GET", "/api/task/")[2]:
        if t["title"] in ("c", "d", "e"):
            app.request("DELETE", "/api/task/%d/" % t["id"])

    # --- titles round-trip byte for byte ---
    for title in ["100% done", '%" broke the original', 'quo"te \\back\\slash', "tab\tnew\nline",
                  "emoji \U0001F600 and \u00e9\u4e2d", "'); DROP TABLE tasks;--", "%s%d%n",
                  "<img src=x onerror=alert(1)>", "\u2028\u2029", "x" * 1024]:
        status, _, created = app.json("POST", "/api/task/", {"title": title})
        same = status == 200 and created["title"] == title
        if same:
            status, _, got = app.json("GET", "/api/task/%d/" % created["id"])
            same = status == 200 and got["title"] == title
        ok(same, "title round-trips: %r" % title[:40])
    status, _, data = app.request("GET", "/api/task/")
    ok(status == 200 and isinstance(json.loads(data), list), "list with odd titles is valid JSON")

    # --- read one ---
    status, _, task = app.json("GET", "/api/task/1/")
    is_((status, task), (200, SEEDED[0]), "GET /api/task/1/ returns the task")
    is_(app.json("GET", "/api/task/1")[2], SEEDED[0], "GET /api/task/1 without the slash")
    is_(app.json("GET", "/api/task/424242/")[0], 404, "missing task is 404")
    is_(app.json("GET", "/api/task/99999999999999999999999999/")[0], 404, "huge id is 404, not 500")
    is_(app.json("GET", "/api/task/2147483648/")[0], 404, "id past int32 is 404")
    is_(app.json("GET", "/api/task/0/")[0], 404, "id 0 is 404")
    status, _, err = app.json("GET", "/api/task/-1/")
    is_((status, sorted(err)), (400, ["error"]), "negative id is 400 with a JSON error")
    is_(app.json("GET", "/api/task/abc/")[0], 400, "non-numeric id is 400")

    # --- update ---
    status, _, task = app.json("PATCH", "/api/task/1/", {"complete": True})
    is_((status, task), (200, dict(SEEDED[0], complete=True)), "PATCH changes only complete")
    status, _, task = app.json("PATCH", "/api/task/1", {"priority": -3})
    is_((status, task), (200, dict(SEEDED[0], complete=True, priority=-3)), "PATCH priority")
    status, _, task = app.json("PUT", "/api/task/1/", {"title": "replaced"})
    is_((status, task), (200, {"id": 1, "priority": 0, "title": "replaced", "complete": False}),
        "PUT replaces every field (absent priority/complete reset)")
    is_(app.json("PUT", "/api/task/424242/", {"title": "x"})[0], 404, "PUT on missing id is 404")
    is_(app.json("PATCH", "/api/task/424242/", {"title": "x"})[0], 404, "PATCH on missing id is 404")
    is_(app.json("PATCH", "/api/task/1/", {})[0], 400, "PATCH with nothing to change is 400")
    is_(app.json("PUT", "/api/task/1/", {"priority": 1})[0], 400, "PUT without title is 400")

    # --- delete ---
    status, hdrs, body = app.request("DELETE", "/api/task/2/")
    is_((status, body), (204, b""), "DELETE is 204 with no body")
    is_(app.json("GET", "/api/task/2/")[0], 404, "deleted task is gone")
    status, _, err = app.json("DELETE", "/api/task/2/")
    is_((status, err), (404, {"error": "task not found"}), "deleting a missing id is 404 (was 500)")
    is_(app.json("DELETE", "/api/task/99999999999999999999/")[0], 404, "DELETE huge id is 404")
    status, _, task = app.json("POST", "/api/task/", {"title": "after delete"})
    ok(task["id"] > 2 and task["id"] != 2, "ids are not reused after a delete")

    # --- bad bodies: 400 with a JSON error, nothing stored ---
    before = app.json("GET", "/api/task/")[2]
    bad = [
        (b"", "empty body"), (b"not json", "not JSON"), (b"[1,2]", "an array"),
        (b'"title"', "a string"), (b"{\"title\": 5}", "title a number"),
        (b"{\"title\": \"\"}", "empty title"), (b"{\"priority\": 1}", "no title"),
        (b"{\"title\": \"x\", \"priority\": \"high\"}", "priority a string"),
        (b"{\"title\": \"x\", \"priority\": 1.5}", "priority fractional"),
        (b"{\"title\": \"x\", \"priority\": 2147483648}", "priority past int32"),
        (b"{\"title\": \"x\", \"complete\": \"yes\"}", "complete a string"),
        (ORIGINAL_UI_EMPTY_SUBMIT, "the original UI's empty submit (byte for byte)"),
        (b"{\"title\": \"x\", \"Title\": \"\"}", "a later empty title in another case"),
        (b"{\"title\": 5, \"Title\": \"x\"}", "a type error in an overridden occurrence"),
        (b"{\"title\": \"\xff\xfe\"}", "invalid UTF-8"),
        (b"{\"title\": \"a\\u0000b\"}", "NUL in title"),
        (b"{\"title\": \"" + b"x" * 1025 + b"\"}", "title of 1025 bytes"),
        (b"[" * 5000 + b"]" * 5000, "deep nesting"),
        (b"{\"title\": \"x\"} trailing", "trailing garbage"),
    ]
    for body, what in bad:
        status, hdrs, doc = app.json("POST", "/api/task/", body,
                                     {"Content-Type": "application/json"})
        ok(status == 400 and isinstance(doc, dict) and isinstance(doc.get("error"), str)
           and hdrs.get("content-type", "").startswith("application/json"),
           "400 + JSON error for %s" % what)
        if status != 400:
            diag("got %s %r" % (status, doc))
    is_(app.json("GET", "/api/task/")[2], before, "nothing was stored by the bad requests")

    # --- limits ---
    big = json.dumps({"title": "x", "pad": "y" * 20000})
    status, _, doc = app.json("POST", "/api/task/", big)
    is_((status, sorted(doc or {})), (413, ["error"]), "a 20 KB body is 413 with a JSON error")
    reply = app.raw(b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + b"".join(
                        b"%x\r\n%s\r\n" % (4096, b"y" * 4096) for _ in range(8)) + b"0\r\n\r\n")
    like(reply.split(b"\r\n")[0].decode(), " 413 ", "a 32 KB chunked body is 413 too")
    reply = app.raw(b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
                    b"Expect: 100-continue\r\n\r\n", read_all=False)
    ok(reply.startswith(b"HTTP/1.1 413"), "Expect: 100-continue with a huge length is 413 at once")
    status, _, _ = app.request("GET", "/api/task/", headers={"X-Big": "a" * 40000})
    ok(status in (431, 400), "40 KB of headers is refused (%s)" % status)
    reply = app.raw(b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ok(reply[:12] in (b"HTTP/1.1 414", b"HTTP/1.1 431", b"HTTP/1.1 400"),
       "40 KB request line is refused: %r" % reply[:12])

    # --- methods and unknown paths ---
    status, hdrs, doc = app.json("DELETE", "/api/task/")
    is_((status, hdrs.get("allow")), (405, "GET, HEAD, POST"), "DELETE on the list is 405 + Allow")
    ok(isinstance(doc, dict) and "error" in doc, "405 has a JSON error")
    is_(app.request("TRACE", "/")[0], 405, "TRACE is 405")
    is_(app.request("FOO", "/api/task/")[0], 405, "unknown method is 405")
    status, hdrs, _ = app.request("OPTIONS", "/api/task/1/")
    is_((status, hdrs.get("allow")), (204, "GET, HEAD, PUT, PATCH, DELETE"), "OPTIONS lists Allow")
    ok("access-control-allow-origin" not in hdrs, "no CORS header")
    status, hdrs, doc = app.json("GET", "/no/such/thing")
    is_((status, doc), (404, {"error": "not found"}), "unknown path is 404 JSON")
    is_(app.json("POST", "/no/such/thing", {"title": "x"})[0], 404, "POST to unknown path is 404")
    status, hdrs, body = app.request("HEAD", "/api/task/")
    is_((status, body), (200, b""), "HEAD has no body")

    # --- headers on every response ---
    for path in ["/api/task/", "/", "/nope", "/healthcheck/"]:
        _, hdrs, _ = app.request("GET", path)
        ok("default-src 'self'" in hdrs.get("content-security-policy", "")
           and "frame-ancestors 'none'" in hdrs["content-security-policy"]
           and hdrs.get("x-content-type-options") == "nosniff"
           and len(hdrs.get("x-request-id", "")) >= 8, "security headers + request id on " + path)
    _, hdrs, _ = app.request("GET", "/api/task/", headers={"X-Request-Id": "abc-123"})
    is_(hdrs.get("x-request-id"), "abc-123", "a sane incoming X-Request-Id is echoed")
    _, hdrs, _ = app.request("GET", "/api/task/", headers={"X-Request-Id": "bad id\x01"})
    ok(hdrs.get("x-request-id") not in (None, "bad id\x01"), "an insane X-Request-Id is replaced")

    # --- health, debug, metrics ---
    status, hdrs, body = app.request("GET", "/healthcheck/")
    is_((status, body), (200, b"OK"), "/healthcheck/ is 200 OK")
    is_(app.request("GET", "/healthcheck")[:3:2], (200, b"OK"), "/healthcheck is 200 OK")
    status, hdrs, body = app.request("GET", "/debug")
    is_(status, 200, "/debug is 200")
    like(hdrs.get("content-type"), "application/json", "/debug is application/json")
    pairs = json.loads(body, object_pairs_hook=lambda kv: kv)
    is_([k for k, _ in pairs][:5], ["Assets", "DB", "Hostname", "Publicip", "Timestamp"],
        "/debug starts with the original's members, in its order")
    dbg = {k: dict(v) if isinstance(v, list) else v for k, v in pairs}
    db = pairs[1][1] if len(pairs) > 1 and isinstance(pairs[1][1], list) else []
    is_([k for k, _ in db], ["DbUser", "DbPassword", "DbName", "DbHost", "DbPort", "DbType"],
        "/debug DB has the original's db.Config members, in its order")
    db = dict(db)
    is_((db.get("DbUser"), db.get("DbPassword")), ("********", "********"),
        "/debug masks DbUser and DbPassword")
    ok(all(isinstance(v, str) for v in db.values()) and db.get("DbPort", "").isdigit(),
       "/debug DB values are strings, as the original's (DbPort %r)" % db.get("DbPort"))
    ts = dbg.get("Timestamp")
    ok(type(ts) is int and abs(ts - time.time()) < 60,
       "/debug Timestamp is an integer of Unix seconds (%r)" % ts)
    ok(isinstance(dbg.get("Assets"), str) and dbg.get("Hostname") and dbg.get("Publicip") == "",
       "/debug Assets and Hostname are strings, Publicip empty (no outbound calls)")
    ok(dbg.get("Store") in ("sqlite", "postgres") and dbg.get("Version")
       and isinstance(dbg.get("Config"), dict) and dbg["Config"].get("DbPassword") == "********"
       and dbg["Config"].get("DbUser") == "********",
       "/debug adds Config (masked), Store and Version after the original's members")

    # --- the log: one JSON line per request with its id ---
    # (request lines are buffered for a few milliseconds while serving: wait for them)
    deadline = time.monotonic() + 5
    while True:
        records = [r for r in app.log_records()
                   if isinstance(r, dict) and r.get("msg") == "request"]
        if any(r.get("request_id") == "abc-123" for r in records) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    ok(len(records) > 50, "each request is logged (%d lines)" % len(records))
    ok(any(r.get("request_id") == "abc-123" and r.get("status") == 200 for r in records),
       "the log line carries the request id and status")

    code = app.stop()
    is_(code, 0, "SIGTERM: exit 0")

