#!/usr/bin/env python3
"""Stopping is quick: with an idle keep-alive connection open (a browser tab), SIGTERM or
SIGINT exits 0 within a second; a request in progress is finished (with Connection: close)
before the exit, and so is the first request of a connection accepted just before the signal
(a proxy's new connection); while draining, readiness says 503 and liveness 200; the listener
closes at once; a second SIGTERM/SIGINT exits at once.
(tests/reliability/haproxy_drain.t has the same under load behind haproxy.)"""
import http.client
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

BODY = b'{"title":"late"}'
PARTIAL = b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY[:9]
REST = BODY[9:]


def read_to_close(s):
    """Everything s receives until the server closes it; then closes s."""
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    return reply


def wait_exit(app, seconds):
    t = time.monotonic()
    try:
        code = app.proc.wait(seconds)
    except Exception:  # noqa: BLE001 - TimeoutExpired: still running
        code = None
    return code, time.monotonic() - t


for sig in (signal.SIGTERM, signal.SIGINT):
    name = signal.Signals(sig).name
    with App() as app:
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
        conn.request("GET", "/api/task/")
        resp = conn.getresponse()
        resp.read()
        ok(resp.status == 200 and resp.getheader("Connection") != "close",
           "%s: a kept-alive connection is open and idle" % name)
        app.proc.send_signal(sig)
        code, took = wait_exit(app, 5)
        ok(code == 0 and took < 1.0, "%s with an idle keep-alive connection: exit 0 within 1 s "
           "(%s, %.2f s)" % (name, code, took))
        conn.sock.settimeout(1)
        try:
            eof = conn.sock.recv(10) == b""
        except socket.timeout:
            eof = False
        except OSError:
            eof = True
        ok(eof, "%s: the idle connection was closed" % name)
        conn.close()

# --- a request in progress finishes, with Connection: close; new connections are refused ---
with App() as app:
    s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    s.sendall(PARTIAL)
    time.sleep(0.2)
    app.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    ok(app.proc.poll() is None, "SIGTERM with a request in progress: still running")
    with socket.socket() as probe:
        refused = probe.connect_ex(("127.0.0.1", app.port)) != 0
    ok(refused, "the listener is closed at once")
    s.sendall(REST)
    reply = read_to_close(s)
    ok(reply.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close\r\n" in reply and
       b'"title":"late"' in reply, "the request is finished: 200 with Connection: close (%r)"
       % reply[:30])
    code, took = wait_exit(app, 5)
    ok(code == 0 and took < 1.0, "then exit 0 within 1 s (%s, %.2f s)" % (code, took))

# --- a connection accepted just before the signal gets its first request answered ---
with App() as app:
    s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    time.sleep(0.1)
    app.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    s.sendall(b"GET /api/task/ HTTP/1.1\r\nHost: x\r\n\r\n")
    reply = s.recv(65536)
    s.close()
    ok(reply.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close\r\n" in reply,
       "a new connection's first request, sent 0.2 s after SIGTERM: 200, Connection: close (%r)"
       % reply[:30])
    code, took = wait_exit(app, 5)
    ok(code == 0 and took < 1.0, "then exit 0 within 1 s (%s, %.2f s)" % (code, took))

# --- while draining, readiness says 503 (the instance leaves the balancer), liveness 200 ---
with App() as app:
    ready = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    live = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    time.sleep(0.1)
    app.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    replies = []
    for s, path in ((ready, "/healthcheck/"), (live, "/livez/")):
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
        replies.append(read_to_close(s))
    ok(replies[0].startswith(b"HTTP/1.1 503 ") and replies[0].endswith(b"Error: shutting down")
       and b"\r\nConnection: close\r\n" in replies[0],
       "GET /healthcheck/ while draining: 503 'Error: shutting down', Connection: close (%r)"
       % replies[0][:30])
    ok(replies[1].startswith(b"HTTP/1.1 200 ") and replies[1].endswith(b"OK"),
       "GET /livez/ while draining: 200 OK (%r)" % replies[1][:30])
    code, took = wait_exit(app, 5)
    ok(code == 0 and took < 1.0, "then exit 0 within 1 s (%s, %.2f s)" % (code, took))

# --- a second signal exits at once ---
for sig in (signal.SIGINT, signal.SIGTERM):
    name = signal.Signals(sig).name
    with App() as app:
        s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
        s.sendall(PARTIAL)
        time.sleep(0.2)
        app.proc.send_signal(sig)
        time.sleep(0.3)
        alive = app.proc.poll() is None
        app.proc.send_signal(sig)
        code, took = wait_exit(app, 5)
        ok(alive and code == 1 and took < 1.0, "a second %s during the drain exits at once "
           "(status %s after %.2f s)" % (name, code, took))
        ok("received again" in app.read_log(), "and says so in the log")
        s.close()

done()
