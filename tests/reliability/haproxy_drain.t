#!/usr/bin/env python3
"""SIGTERM under load behind haproxy (make stack: PostgreSQL, two instances, haproxy in the
ALB's role): wrk sends GETs and POSTs through haproxy while instance 1 gets SIGTERM. Not one
request fails (haproxy retries a request that meets a connection the instance has just closed
as idle), an idle kept-alive connection is closed at once, and the instance exits 0 within its
drain bound (ShutdownTimeout 5 s).
(tests/container/stack.t covers the SIGKILL of one instance.)"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import BIN, ROOT, clean_env, free_port  # noqa: E402

tmp = tempfile.mkdtemp(prefix="tca-drain.")
stack_dir, port = os.path.join(tmp, "stack"), free_port()


def make(target):
    return subprocess.run(["make", "-C", ROOT, "--no-print-directory", target, "STACK_BIN=" + BIN,
                           "STACK_DIR=" + stack_dir, "STACK_PORT=%d" % port],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)


try:
    up = make("stack")
    if not ok(up.returncode == 0, "make stack"):
        diag(up.stdout)
        raise SystemExit(done())
    env = dict(line.split("=", 1) for line in open(os.path.join(stack_dir, "stack.env")).read().split())
    app1_port = int(env["APP1_PORT"])
    # Replace the stack's app1 by one of our own children, so that its exit status is ours to see.
    pid = int(open(os.path.join(stack_dir, "app1.pid")).read())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            break
    app_env = clean_env()
    app_env.update({"VTT_DBTYPE": "postgres", "VTT_DBHOST": "127.0.0.1", "VTT_DBPORT": env["PG_PORT"],
                    "VTT_DBUSER": "postgres", "VTT_DBPASSWORD": "postgres", "VTT_DBNAME": "postgres",
                    "VTT_DBSSLMODE": "disable", "VTT_SHUTDOWNTIMEOUT": "5",
                    "VTT_LISTENHOST": "127.0.0.1", "VTT_LISTENPORT": str(app1_port)})
    log = open(os.path.join(tmp, "app1.log"), "wb")
    app1 = subprocess.Popen([BIN, "serve"], env=app_env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    with open(os.path.join(stack_dir, "app1.pid"), "w") as f:
        f.write(str(app1.pid))
    import http.client  # noqa: E402
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", app1_port, timeout=2)
            c.request("GET", "/healthcheck/")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    time.sleep(2.5)  # haproxy's health check sees the new app1 up (rise 2 x 1 s)

    # A kept-alive connection straight to app1, used once before and once during the drain.
    seed = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    seed.request("POST", "/api/task/", body='{"title":"one"}')
    is_(seed.getresponse().status, 200, "a task to GET (migrate creates an empty table)")
    keep = http.client.HTTPConnection("127.0.0.1", app1_port, timeout=10)
    keep.request("GET", "/api/task/1/")
    first = keep.getresponse()
    first.read()
    ok(first.status == 200 and (first.getheader("Connection") or "") != "close",
       "before SIGTERM: a kept-alive connection stays open")

    out = {}
    wrk = threading.Thread(target=lambda: out.update(r=subprocess.run(
        ["wrk", "-t2", "-c16", "-d8s", "--latency", "-s", os.path.join(HERE, "mixed.lua"),
         "http://127.0.0.1:%d" % port], capture_output=True, text=True, timeout=60)))
    wrk.start()
    time.sleep(3)
    t0 = time.monotonic()
    app1.send_signal(signal.SIGTERM)
    keep.sock.settimeout(1)
    try:
        closed = keep.sock.recv(10) == b""
    except socket.timeout:
        closed = False
    except OSError:
        closed = True
    ok(closed, "the idle kept-alive connection is closed at once (%.2f s after SIGTERM)"
       % (time.monotonic() - t0))
    keep.close()
    code = app1.wait(15)
    took = time.monotonic() - t0
    is_(code, 0, "app1 exits 0 after SIGTERM")
    ok(took < 5 + 1, "within its drain bound of 5 s (%.2f s)" % took)
    wrk.join(60)
    r = out["r"]
    diag(r.stdout.strip())
    requests = re.search(r"(\d+) requests in", r.stdout)
    errors = re.search(r"Socket errors: .*", r.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    ok(r.returncode == 0 and requests and int(requests.group(1)) > 500,
       "wrk ran through haproxy (%s requests)" % (requests and requests.group(1)))
    if not ok(not errors and not non2xx, "0 failed requests across the SIGTERM (%s; %s)"
              % (errors and errors.group(0), non2xx and non2xx.group(0))):
        for line in open(os.path.join(stack_dir, "haproxy.log"), errors="replace"):
            if re.search(r" [45]\d\d \d+ ", line) or " 5" in line.split('"')[0][-40:]:
                diag(line.strip()[:240])
finally:
    down = make("stack-down")
    ok(down.returncode == 0, "make stack-down")
    shutil.rmtree(tmp, ignore_errors=True)
done()
