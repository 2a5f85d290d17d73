#!/usr/bin/env python3
"""Early errors reach clients that are still sending (lingering close): Python's http.client
sends a whole 4 MB or 64 MB body without `Expect: 100-continue`, chunked or with
Content-Length, and reads the 413 (JSON, X-Request-Id, security headers) instead of
`Connection reset by peer`; the same for our 431 and our 400 on framing, and for the requests
libmicrohttpd's parser refuses (answered by us through src/http/mhd_errors.c). The discard is bounded: in bytes, in time without input, and it never holds a worker."""
import http.client
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

MB = 1024 * 1024
LINGER_MAX_BYTES = 256 * MB  # src/http/server.c
OURS = ("x-request-id", "x-content-type-options", "content-security-policy", "cache-control")


def post(app, body, headers=None, chunked=False, timeout=60):
    """POST /api/task/ the way http.client does: the whole body first, then the response.
    Returns (status, headers lower-case, body) or (exception name, {}, b"")."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=timeout)
    try:
        if chunked:
            step = MB
            gen = (body[i:i + step] for i in range(0, len(body), step))
            conn.request("POST", "/api/task/", body=gen, headers=headers or {},
                         encode_chunked=True)
        else:
            conn.request("POST", "/api/task/", body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except OSError as e:
        return type(e).__name__, {}, b""
    finally:
        conn.close()


def raw(app, head, body_size, timeout=60):
    """Sends head and then body_size bytes without reading, then reads the answer."""
    with socket.create_connection(("127.0.0.1", app.port), timeout=timeout) as s:
        try:
            s.sendall(head)
            s.sendall(b"x" * body_size)
        except OSError as e:
            return type(e).__name__.encode()
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as e:
            return data or type(e).__name__.encode()
        return data


def is_ours(status, headers, body, want, name):
    try:
        error = json.loads(body).get("error")
    except ValueError:
        error = None
    good = status == want and headers.get("content-type", "").startswith("application/json") \
        and isinstance(error, str) and all(h in headers for h in OURS)
    if not ok(good, "%s: %s, our JSON error and headers" % (name, want)):
        diag("got %r %r %r" % (status, headers, body[:200]))


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


with App() as app:
    # --- 413: the whole body is sent before the answer is read ---
    for size in (4 * MB, 64 * MB):
        for chunked in (False, True):
            what = "%d MB %s body" % (size // MB, "chunked" if chunked else "Content-Length")
            t = time.monotonic()
            status, headers, body = post(app, b"x" * size, chunked=chunked)
            is_ours(status, headers, body, 413, "POST with a " + what)
            diag("%s: answered in %.2f s" % (what, time.monotonic() - t))

    # --- 431 (ours: just over 16 KiB) and 400 on framing, each with a 4 MB body behind ---
    status, headers, body = post(app, b"x" * (4 * MB), headers={"X-Big": "a" * 17000})
    is_ours(status, headers, body, 431, "17 KB of headers and a 4 MB body")
    reply = raw(app, b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" % (4 * MB), 4 * MB)
    ok(reply.startswith(b"HTTP/1.1 400 ") and b'{"error":' in reply and b"X-Request-Id:" in reply,
       "Content-Length with Transfer-Encoding and a 4 MB body: our 400 arrives (%r)"
       % reply[:40])

    # --- what the library's parser refuses arrives too (a head larger than its connection
    # memory, a bad request line, a bad Content-Length), as our answer ---
    status, headers, body = post(app, b"x" * (4 * MB), headers={"X-Big": "a" * 65536})
    is_ours(status, headers, body, 431, "a 64 KB header and a 4 MB body (the parser's 431)")
    for what, head in [
        ("a bad request line", b"POST /api/task/ HTTP/1.1 x\r\nHost: x\r\n\r\n"),
        ("Content-Length: -1", b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
    ]:
        reply = raw(app, head, 4 * MB)
        ok(reply.startswith(b"HTTP/1.1 400 ") and b'{"error":' in reply and
           b"X-Request-Id:" in reply, "%s and a 4 MB body: our 400 arrives (%r)"
           % (what, reply[:40]))

    # --- bounded in bytes: a client that never stops is cut off after LINGER_MAX_BYTES ---
    sent, error = 0, None
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", app.port), timeout=30) as s:
        s.sendall(b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000000\r\n\r\n")
        block = b"x" * MB
        try:
            while sent < 2 * LINGER_MAX_BYTES and time.monotonic() - t < 30:
                s.sendall(block)
                sent += len(block)
        except OSError as e:
            error = type(e).__name__
    ok(error and LINGER_MAX_BYTES <= sent < LINGER_MAX_BYTES + 64 * MB,
       "an endless body after a 413 is cut off after 256 MiB (%d MiB sent, %s, %.1f s)"
       % (sent // MB, error, time.monotonic() - t))

    # --- bounded in time: lingering connections that send nothing are closed ---
    time.sleep(0.5)
    base = fds(app.proc.pid)
    held = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", app.port), timeout=10)
        s.sendall(b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        held.append(s)
    answers = [s.recv(4096) for s in held]
    ok(all(a.startswith(b"HTTP/1.1 413") for a in answers), "20 announced oversized bodies: 413")
    time.sleep(0.3)
    lingering = fds(app.proc.pid) - base
    ok(lingering >= 20, "their connections linger while the clients stay (%d)" % lingering)
    deadline = time.monotonic() + 6
    while fds(app.proc.pid) > base and time.monotonic() < deadline:
        time.sleep(0.1)
    ok(fds(app.proc.pid) <= base, "and are closed after 2 s without input (%d, base %d)"
       % (fds(app.proc.pid), base))
    ok(all(s.recv(10) == b"" for s in held), "each client sees the end of the stream")
    for s in held:
        s.close()
    is_(app.request("GET", "/healthcheck/")[0], 200, "healthy afterwards")
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

# --- never holds a worker: one worker thread, eight clients trickling after their 413 ---
with App(env={"VTT_THREADS": "1"}) as app:
    stop = threading.Event()

    def trickle():
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as s:
            s.sendall(b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
            try:
                while not stop.wait(0.2):
                    s.sendall(b"x" * 100)
            except OSError:
                pass

    threads = [threading.Thread(target=trickle) for _ in range(8)]
    for th in threads:
        th.start()
    time.sleep(0.3)
    slowest, statuses = 0.0, []
    for _ in range(5):
        t = time.monotonic()
        statuses.append(app.request("GET", "/api/task/", timeout=5)[0])
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.1)
    stop.set()
    for th in threads:
        th.join(10)
    ok(statuses == [200] * 5 and slowest < 1.0,
       "Threads=1 with 8 lingering senders: GETs served (%r, slowest %.2f s)"
       % (statuses, slowest))
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

done()
