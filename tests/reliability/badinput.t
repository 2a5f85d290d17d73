#!/usr/bin/env python3
"""Bad input over raw sockets (beyond tests/api/tasks.t and cli.t): malformed request lines and
headers, request smuggling, oversized parts, path traversal, odd ids and methods, JSON edge
cases, bad VTT_* values. Each is answered 4xx (or, where libmicrohttpd's parser gives up on
the bytes, the connection is closed without an answer): never a 500, never a crash, never a
hang, and the server is healthy afterwards. A smuggled request is never executed. Every answer
is ours (JSON error, X-Request-Id, security headers, Cache-Control), including the cases listed
in PARSER, which libmicrohttpd refuses before our code runs: src/http/mhd_errors.c replaces its
own HTML pages with our answer (docs/adr/0027-library-error-pages.md).
badinput_tls.t runs all of it again over HTTPS (TCA_TLS=1, see tests/lib/tca.py)."""
import json
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import App, free_port, refused, run  # noqa: E402

BODY = b'{"title":"a"}'
POST = b"POST /api/task/ HTTP/1.1\r\nHost: x\r\n"
SMUGGLED = b"GET /api/task/1/ HTTP/1.1\r\nHost: x\r\n\r\n"


def exchange(app, data, timeout=5.0):
    """Sends data, shuts the write side, reads until close. Returns (statuses, raw, seconds);
    raw ends in b'<HANG>' if the server neither answered nor closed within timeout."""
    start = time.monotonic()
    with app.connect(timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed; read what it said
        time.sleep(0.005)  # let the server read before the FIN (see tests/fuzz/fuzz_http.c)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        raw = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
        except socket.timeout:
            if not raw:
                raw = b"<HANG>"
        except ConnectionResetError:
            pass
    statuses = [int(line.split(b" ")[1]) for line in raw.split(b"\r\n")
                if line.startswith(b"HTTP/1.") and len(line.split(b" ")) > 1
                and line.split(b" ")[1].isdigit()]
    return statuses, raw, time.monotonic() - start


def healthy(app):
    try:
        return app.request("GET", "/healthcheck/", timeout=5)[0] == 200
    except OSError:
        return False


def is_ours(raw, early=False):
    """True if every response in raw is one of ours: a JSON body (for errors) and the headers
    every handler response has (and Connection: close if early). False if any came from
    libmicrohttpd's own error pages."""
    responses = [r for r in raw.split(b"HTTP/1.1 ")[1:]]
    for r in responses:
        head = r.split(b"\r\n\r\n", 1)[0].lower()
        status = int(r[:3]) if r[:3].isdigit() else 0
        need = [b"\r\nx-request-id: ", b"\r\nx-content-type-options: nosniff",
                b"\r\ncontent-security-policy: ", b"\r\ncache-control: no-store"]
        if status >= 400:
            need.append(b"\r\ncontent-type: application/json")
        if early:
            need.append(b"\r\nconnection: close")
        if not all(n in head for n in need):
            return False
    return bool(responses)


# The cases libmicrohttpd refuses itself, before any callback of ours runs: its parser gives up
# on the request line, the header block or a chunk size, or the head is larger than its
# connection memory. It used to answer them with its own short HTML pages, without our headers
# (docs/adr/0015-core-v2-server.md); src/http/mhd_errors.c now puts our answer in their place.
# If they ever come back (a libmicrohttpd built with -Bsymbolic, or one whose error path no
# longer calls its exported MHD_queue_response), every one of these fails here.
PARSER = {
    "HTTP/0.9 request line", "no path", "extra token", "bad version token", "garbage",
    "HTTP/1.1 without Host", "header without a colon", "space before the colon",
    "first header line folded", "chunk size not hex", "chunk size 2^80", "version HTTP/2.0",
    "version HTTP/9.9", "1,000 headers", "one 64 KB header",
} | {"Content-Length: " + cl for cl in ("-1", "+13", "0x0d", "13, 13", "1 3",
                                        "99999999999999999999999")}


def whole_json_answer(raw):
    """raw is one response: a head, then exactly Content-Length bytes of JSON."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if not sep or not m or len(body) != int(m.group(1)):
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def check(app, name, data, allowed, allow_silent=False):
    statuses, raw, secs = exchange(app, data)
    good = raw != b"<HANG>" and all(400 <= s < 500 or s in allowed for s in statuses) and \
        (statuses or allow_silent) and not any(s >= 500 and s not in allowed for s in statuses)
    if not ok(good, "%s -> %s%s" % (name, statuses or "closed, no answer", "" if good else " !")):
        diag("reply: %r" % raw[:300])
    if statuses:
        parser = name in PARSER
        if not ok(is_ours(raw, early=parser), "%s: %s" % (
                name, "refused by libmicrohttpd's parser, answered by us (JSON, our headers, "
                "Connection: close)" if parser
                else "ours: X-Request-Id, security headers, a JSON error if 4xx")):
            diag("reply: %r" % raw[:400])
        # One answer, and exactly one: libmicrohttpd 0.9.75 would send the head twice when it
        # refuses a request after its header block (no Host, a bad Content-Length); ours is
        # written past it (ADR 0027). Its body is Content-Length bytes of JSON, nothing after.
        if not ok(len(statuses) == 1 and whole_json_answer(raw),
                  "%s: one answer, its body Content-Length bytes of JSON" % name):
            diag("reply: %r" % raw[:600])
    return statuses, raw


with tempfile.TemporaryDirectory() as d:
    canary = "canary-" + os.urandom(6).hex()
    conf = '"DbName" = "%s"\n' % canary
    with App(conf_toml=conf) as app:
        # --- malformed request lines: 4xx (505 only for an unsupported HTTP version) ---
        for name, req, silent in [
            ("HTTP/0.9 request line", b"GET /\r\n\r\n", False),
            ("no path", b"GET HTTP/1.1\r\nHost: x\r\n\r\n", False),
            ("extra token", b"GET / HTTP/1.1 x\r\nHost: x\r\n\r\n", False),
            ("bad version token", b"GET / HTTP/1.1x\r\nHost: x\r\n\r\n", False),
            ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64) + b"\r\n\r\n",
             True),
            ("space inside the URL", b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", True),
            ("tabs as separators", b"GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n", True),
            ("CR line ends", b"GET / HTTP/1.1\rHost: x\r\r", True),
            ("control character in the path", b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", False),
            ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", False),
            ("two Host headers", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", False),
            ("header without a colon", b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", False),
            ("header name with '('", b"GET / HTTP/1.1\r\nHost: x\r\nX(y): v\r\n\r\n", False),
            ("space before the colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", False),
            ("first header line folded", b"GET / HTTP/1.1\r\n Host: x\r\n\r\n", False),
            ("lower-case method", b"get / HTTP/1.1\r\nHost: x\r\n\r\n", False),
            ("5,000-byte method", b"A" * 5000 + b" / HTTP/1.1\r\nHost: x\r\n\r\n", False),
            ("CONNECT", b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", False),
            ("PROPFIND", b"PROPFIND /api/task/ HTTP/1.1\r\nHost: x\r\n\r\n", False),
            ("chunk size not hex", POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
             False),
            ("chunk size 2^80", POST + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"
             b"abc\r\n0\r\n\r\n", False),
        ]:
            check(app, name, req, allowed=(), allow_silent=silent)
        for version in (b"HTTP/2.0", b"HTTP/9.9"):
            check(app, "version " + version.decode(), b"GET / " + version + b"\r\nHost: x\r\n\r\n",
                  allowed=(505,))
        for cl in (b"-1", b"+13", b"0x0d", b"13, 13", b"1 3", b"99999999999999999999999"):
            check(app, "Content-Length: " + cl.decode(), POST + b"Content-Length: " + cl +
                  b"\r\n\r\n" + BODY, allowed=())

        # --- the parser's refusals are logged and counted like any request, by their id ---
        refused_ids = {}
        for name, req in [
            ("a bad request line", b"GET / HTTP/1.1 x\r\nHost: x\r\n\r\n"),
            ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n"),
            ("a bad chunk size", POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n"),
            ("version HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
        ]:
            statuses, raw, _ = exchange(app, req)
            m = re.search(rb"\r\nX-Request-Id: ([0-9a-f]{16})\r\n", raw)
            refused_ids[name] = (m.group(1).decode() if m else None, statuses[:1])
        metrics = app.request("GET", "/metrics")[2].decode()
        ok(re.search(r'tca_http_requests_total\{route="unmatched",method="OTHER",status="505"\} '
                     r'[1-9]', metrics), "/metrics counts the parser's 505s")

        # --- request smuggling: refused with 400, the hidden request never runs ---
        for name, req in [
            ("CL.TE", POST + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
             % (5 + len(SMUGGLED)) + SMUGGLED),
            ("TE.CL", POST + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n%x\r\n"
             % (len(SMUGGLED) + 5) + SMUGGLED + b"\r\n0\r\n\r\n"),
            ("TE.TE (chunked + identity)", POST + b"Transfer-Encoding: chunked\r\n"
             b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n" + SMUGGLED),
            ("TE: chunked, identity", POST + b"Transfer-Encoding: chunked, identity\r\n\r\n"
             b"0\r\n\r\n" + SMUGGLED),
            ("TE: xchunked + CL", POST + b"Transfer-Encoding: xchunked\r\nContent-Length: %d\r\n\r\n"
             % len(BODY) + BODY + SMUGGLED),
            ("TE with a space before the colon", POST + b"Transfer-Encoding : chunked\r\n\r\n"
             b"0\r\n\r\n" + SMUGGLED),
            ("duplicate Content-Length, same value", POST + b"Content-Length: 13\r\n"
             b"Content-Length: 13\r\n\r\n" + BODY + SMUGGLED),
            ("duplicate Content-Length, different values", POST + b"Content-Length: 0\r\n"
             b"Content-Length: %d\r\n\r\n" % (len(BODY) + len(SMUGGLED)) + BODY + SMUGGLED),
            ("obs-fold hiding Content-Length", POST + b"X-A: b\r\n Content-Length: %d\r\n\r\n"
             % len(BODY) + BODY + SMUGGLED),
        ]:
            statuses, raw = check(app, "smuggling " + name, req, allowed=())
            ok(statuses[:1] == [400] and b"1st Task" not in raw and len(statuses) == 1,
               "smuggling %s: one 400, the hidden GET is not answered" % name)
        before = app.json("GET", "/api/task/")[2]
        ok(all(t["title"] != "a" for t in before), "no smuggled or refused POST created a task")
        # obs-fold in an ordinary header: libmicrohttpd replaces it with a space (RFC 9112 5.2).
        statuses, _ = check(app, "obs-fold in an ordinary header",
                            b"GET /api/task/ HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n b\r\n\r\n",
                            allowed=(200,))

        # --- oversized parts ---
        check(app, "1,000 headers", b"GET / HTTP/1.1\r\nHost: x\r\n" +
              b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n", allowed=())
        check(app, "a 16,000-byte header (within the limit)", b"GET /api/task/ HTTP/1.1\r\n"
              b"Host: x\r\nX-Big: " + b"a" * 16000 + b"\r\n\r\n", allowed=(200,))
        check(app, "17 KB of headers", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 +
              b"\r\n\r\n", allowed=())
        check(app, "a 17 KB path", b"GET /" + b"a" * 17000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
              allowed=())
        check(app, "101 headers", b"GET / HTTP/1.1\r\nHost: x\r\n" +
              b"".join(b"X-H%d: v\r\n" % i for i in range(100)) + b"\r\n", allowed=())
        check(app, "one 64 KB header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 +
              b"\r\n\r\n", allowed=())
        # Heads from just over the limit to past the 20 KiB connection memory, in 100-byte
        # steps: each gets one JSON 431 — none is closed unanswered, which a head that nearly
        # fills the connection memory was when the 431 was queued through the library.
        unanswered = []
        for size in range(16500, 24600, 100):
            head = b"GET /api/task/ HTTP/1.1\r\nHost: x\r\nX-Pad: "
            statuses, raw, _ = exchange(app, head + b"a" * (size - len(head) - 4) + b"\r\n\r\n")
            if statuses != [431] or not whole_json_answer(raw):
                unanswered.append((size, statuses))
        if not ok(not unanswered, "heads of 16.5-24.5 KB: one JSON 431 each (81 sizes)"):
            diag("not answered so: %r" % unanswered[:10])
        start = time.monotonic()
        with app.connect(5) as s:
            s.sendall(POST + b"Content-Length: 16385\r\nExpect: 100-continue\r\n\r\n")
            first = s.recv(4096)
        ok(first.startswith(b"HTTP/1.1 413") and time.monotonic() - start < 2,
           "Expect: 100-continue one byte over the limit: 413 without waiting for the body")
        with app.connect(5) as s:
            s.sendall(POST + b"Content-Length: 13\r\nExpect: 100-continue\r\n\r\n")
            first = s.recv(4096)
            ok(first.startswith(b"HTTP/1.1 100"), "Expect: 100-continue within the limit: 100")
            s.sendall(BODY)
            ok(s.recv(4096).startswith(b"HTTP/1.1 200"), "then the body is read: 200")
        with app.connect(5) as s:
            s.sendall(POST + b"Content-Length: 2000000\r\n\r\n" + b"x" * 1000)
            ok(s.recv(4096).startswith(b"HTTP/1.1 413"), "a 2 MB Content-Length: 413 at once")

        # --- path traversal: never a file, never conf.toml ---
        for path in [b"/js/../conf.toml", b"/../conf.toml", b"/js/%2e%2e/conf.toml",
                     b"/%2e%2e/%2e%2e/etc/passwd", b"/js/%252e%252e/conf.toml",
                     b"/js/..%2fconf.toml", b"/js/..%5cconf.toml", b"/js\\..\\conf.toml",
                     b"/conf.toml", b"/conf.toml%00.js", b"/index.html%00.png",
                     b"/%c0%ae%c0%ae/conf.toml", b"//conf.toml", b"/./conf.toml",
                     b"/css/../../../../../../etc/passwd"]:
            statuses, raw = check(app, "GET " + path.decode(), b"GET " + path +
                                  b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", allowed=())
            ok(canary.encode() not in raw and b"root:" not in raw,
               "GET %s does not leak a file" % path.decode())

        # --- ids ---
        for method, path, want in [
            ("GET", "/api/task/2147483647/", 404), ("GET", "/api/task/-2147483648/", 400),
            ("PUT", "/api/task/-1/", 400), ("PATCH", "/api/task/-1/", 400),
            ("DELETE", "/api/task/-1/", 400), ("DELETE", "/api/task/0/", 404),
            ("GET", "/api/task/1e3/", 400), ("GET", "/api/task/0x1/", 400),
            ("GET", "/api/task/1.0/", 400), ("GET", "/api/task/%20%31/", 400),
            ("GET", "/api/task/" + "9" * 5000 + "/", 404),
            ("PATCH", "/api/task/99999999999999999999/", 404),
        ]:
            body = {"title": "x"} if method in ("PUT", "PATCH") else None
            status = app.json(method, path, body)[0]
            is_(status, want, "%s %s is %d" % (method, path[:40], want))

        # --- JSON edge cases (tasks.t has the common ones) ---
        for raw_body, what in [
            (b"null", "null"), (b"{}", "empty object"), (b'{"title":"x","priority":1e400}',
                                                        "priority 1e400"),
            (b'{"title":"\\ud800"}', "lone surrogate escape"),
            (b'{"title":"\xc0\xaf"}', "overlong UTF-8"), (b'{"title":"\xed\xa0\x80"}',
                                                          "UTF-8 surrogate"),
            (b"\xef\xbb\xbf{\"title\":\"x\"}", "UTF-8 BOM"), (b"\xff\xfe{\x00}\x00", "UTF-16"),
            (b'{"' + b"k" * 15000 + b'":1}', "a 15 KB key, no title"),
            (b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(1000)) + b"}",
             "1,000 keys, no title"),
            (b'{"\\\\ \\\n\x00}', "control characters in the echoed input (fuzz_task finding)"),
            (b'{"title":{"title":"x"}}', "title an object"), (b'{"title":["x"]}', "title an array"),
            (b'{"title":"x","complete":1}', "complete 1"), (b'{"title":"x","priority":true}',
                                                            "priority true"),
        ]:
            status, hdrs, data = app.request("POST", "/api/task/", raw_body)
            try:
                doc = json.loads(data.decode("utf-8"))
                line = isinstance(doc, dict) and "\n" not in doc.get("error", "\n")
            except ValueError:
                line = False
            ok(status == 400 and line, "JSON %s: 400 with a one-line JSON error (%s)" % (what, status))

        ok(healthy(app), "healthy after all of the above")
        ok(app.proc.poll() is None, "the server never exited")
        records = [r for r in app.log_records() if isinstance(r, dict)]
        ok(not any(r.get("status", 0) >= 500 and r.get("status") != 505 for r in records),
           "no 5xx in the access log")
        is_(app.stop_status(), 0, "SIGTERM: exit 0")
        access = [r for r in app.log_records() if isinstance(r, dict) and r.get("msg") == "request"]
        for name, (rid, st) in refused_ids.items():
            lines = [r for r in access if r.get("request_id") == rid]
            if not ok(rid and len(lines) == 1 and [lines[0].get("status")] == st,
                      "refused by the parser (%s): one access line with its status and id" % name):
                diag("id %s, statuses %s, lines %r" % (rid, st, lines))
            if not ok(rid and lines and lines[0].get("completed") == 1,
                      "refused by the parser (%s): its answer logged as completed" % name):
                diag("lines %r" % lines)
        # The library's own notes about answers that were ours (its HTML page, "failed to
        # queue", "internal error" when we had it close after our answer) are not logged.
        noise = [r.get("msg") for r in app.log_records() if isinstance(r, dict) and
                 any(k in (r.get("msg") or "") for k in ("Error processing request", "<html",
                     "failed to queue", "Application reported internal error"))]
        if not ok(not noise, "no misleading library notes in the log for answers that were ours"):
            diag("%d such lines, e.g. %r" % (len(noise), noise[:3]))


# --- bad VTT_* values and conf.toml (cli.t has the first few): exit != 0, no socket ---
for env, conf, want in [
    ({"VTT_LISTENPORT": "-1"}, None, "ListenPort"),
    ({"VTT_LISTENPORT": "3000abc"}, None, "ListenPort"),
    ({"VTT_LISTENPORT": "99999999999999999999"}, None, "ListenPort"),
    ({"VTT_DBPORT": "0"}, None, "DbPort"),
    ({"VTT_DBPOOLSIZE": "100000"}, None, "DbPoolSize"),
    ({"VTT_THREADS": "-1"}, None, "Threads"),
    ({"VTT_MAXBODYBYTES": "1"}, None, "MaxBodyBytes"),
    ({"VTT_LOGLEVEL": "loud"}, None, "LogLevel"),
    ({"VTT_DEBUGENDPOINT": "maybe"}, None, "DebugEndpoint"),
    ({"VTT_DBSSLMODE": "sometimes"}, None, "DbSslMode"),
    ({"VTT_LISTENHOST": "no.such.host.invalid"}, None, "ListenHost"),
    ({}, b'"DbPort" = "5432\n', "conf.toml:1"),
    ({}, b"\x00\x01\x02binary\xff\xfe", "conf.toml"),
    ({}, b'"ListenPort" = "80"\n"ListenPort" = "81"\n', "conf.toml:2"),
    ({"VTT_DBTYPE": ""}, b'"DbType" = "oracle"\n', "DbType"),
]:
    good, r = refused(env, conf, want=want)
    what = ", ".join("%s=%s" % kv for kv in env.items()) or "conf.toml %r" % conf[:30]
    if not ok(good, "refused before listening, message names %s: %s" % (want, what)):
        diag("exit %s, stderr %r" % (getattr(r, "returncode", "timeout"), r.stderr))

done()
