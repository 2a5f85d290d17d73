#!/usr/bin/env python3
"""The local replica of the cloud shape (make stack): PostgreSQL, `migrate`, two app instances
and haproxy in front (the ALB's role). Checks requests through haproxy reach both instances and
share one database, then SIGKILLs one instance and checks that requests keep succeeding (haproxy
retries a refused connection on the other instance and its health check takes the dead one out),
then make stack-down. Prints TAP."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TCA_BIN", os.path.join(REPO, "build", "TechChallengeApp"))

n = 0
failed = 0


def ok(cond, desc):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, desc), flush=True)
    return cond


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None):
    """One request on a new connection; (status, body) or (None, error text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        return None, repr(e)
    finally:
        conn.close()


def haproxy_servers(stack_dir):
    """{server name: (status, total sessions)} from haproxy's stats socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(os.path.join(stack_dir, "haproxy.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    lines = data.decode().splitlines()
    fields = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(fields, line.split(",")))
        if row.get("pxname") == "app" and row.get("svname") in ("app1", "app2"):
            out[row["svname"]] = (row["status"], int(row["stot"] or 0))
        if row.get("pxname") == "app" and row.get("svname") == "app1":
            out["_app1_redispatched"] = int(row.get("wredis") or 0)
            out["_app1_retried"] = int(row.get("wretr") or 0)
    return out


def make(target, stack_dir, port):
    return subprocess.run(
        ["make", "-C", REPO, "--no-print-directory", target, "STACK_BIN=" + BIN,
         "STACK_DIR=" + stack_dir, "STACK_PORT=%d" % port],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)


def main():
    tmp = tempfile.mkdtemp(prefix="tca-stack-t.")
    stack_dir = os.path.join(tmp, "stack")
    port = free_port()
    try:
        run(stack_dir, port)
    finally:
        down = make("stack-down", stack_dir, port)
        ok(down.returncode == 0, "make stack-down")
        env_gone = not os.path.exists(os.path.join(stack_dir, "stack.env"))
        status, _ = request(port, "GET", "/healthcheck/")
        ok(env_gone and status is None, "after stack-down nothing answers on the haproxy port")
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


def run(stack_dir, port):
    up = make("stack", stack_dir, port)
    if not ok(up.returncode == 0, "make stack (haproxy on 127.0.0.1:%d)" % port):
        diag(up.stdout)
        for name in ("initdb.log", "migrate.log", "app1.log", "app2.log", "haproxy.log"):
            path = os.path.join(stack_dir, name)
            if os.path.exists(path):
                diag("--- " + name)
                diag(open(path).read()[-2000:])
        return
    env = dict(line.split("=", 1) for line in open(os.path.join(stack_dir, "stack.env")).read().split())
    app1, app2 = int(env["APP1_PORT"]), int(env["APP2_PORT"])

    status, body = request(port, "GET", "/healthcheck/")
    ok(status == 200 and body == "OK", "GET /healthcheck/ through haproxy: %s %s" % (status, body))

    deadline = time.time() + 15
    servers = {}
    while time.time() < deadline:
        servers = haproxy_servers(stack_dir)
        if servers.get("app1", ("",))[0] == "UP" and servers.get("app2", ("",))[0] == "UP":
            break
        time.sleep(0.5)
    ok(servers.get("app1", ("",))[0] == "UP" and servers.get("app2", ("",))[0] == "UP", "haproxy health checks see both instances UP: %s" % servers)

    status, body = request(port, "POST", "/api/task/", json.dumps({"title": "through haproxy", "priority": 5}))
    try:
        task = json.loads(body)
    except ValueError:
        task = {}
    ok(status == 200 and task.get("title") == "through haproxy", "POST /api/task/ through haproxy: %s %s" % (status, body))
    seen = []
    for p in (app1, app2):
        st, b = request(p, "GET", "/api/task/")
        seen.append(st == 200 and any(t.get("id") == task.get("id") for t in json.loads(b or "[]")))
    ok(all(seen), "both instances serve the task from the one database")

    before = haproxy_servers(stack_dir)
    results = [request(port, "GET", "/api/task/")[0] for _ in range(10)]
    after = haproxy_servers(stack_dir)
    spread = {k: after[k][1] - before[k][1] for k in ("app1", "app2")}
    ok(results == [200] * 10 and all(v > 0 for v in spread.values()),
       "10 GETs through haproxy all 200, spread over both instances %s" % spread)

    pid = int(open(os.path.join(stack_dir, "app1.pid")).read())
    os.kill(pid, signal.SIGKILL)
    diag("SIGKILLed app1 (pid %d)" % pid)

    get_fail = post_fail = gets = posts = 0
    errors = []
    deadline = time.time() + 60
    for i in range(300):
        if time.time() > deadline:
            break
        if i % 10 == 9:
            posts += 1
            st, b = request(port, "POST", "/api/task/", json.dumps({"title": "after kill %d" % i}))
            if st != 200:
                post_fail += 1
                errors.append((st, b[:100]))
        else:
            gets += 1
            st, b = request(port, "GET", "/api/task/")
            if st != 200:
                get_fail += 1
                errors.append((st, b[:100]))
        time.sleep(0.01)  # spread the loop over the time haproxy takes to mark app1 down
    diag("after the kill: %d GETs, %d failed; %d POSTs, %d failed" % (gets, get_fail, posts, post_fail))
    if errors:
        diag("first errors: %s" % errors[:5])
    ok(gets >= 200 and get_fail == 0, "GETs keep succeeding with one instance killed (%d/%d)" % (gets - get_fail, gets))
    ok(posts >= 20 and post_fail == 0, "POSTs keep succeeding with one instance killed (%d/%d)" % (posts - post_fail, posts))

    deadline = time.time() + 15
    while time.time() < deadline:
        servers = haproxy_servers(stack_dir)
        if servers.get("app1", ("",))[0].startswith("DOWN"):
            break
        time.sleep(0.5)
    ok(servers.get("app1", ("",))[0].startswith("DOWN") and servers.get("app2", ("",))[0] == "UP",
       "haproxy's health check marks app1 DOWN, app2 stays UP: %s" % servers)
    ok(servers.get("_app1_redispatched", 0) > 0,
       "the kill was felt: haproxy retried %d and redispatched %d requests from app1 to app2"
       % (servers.get("_app1_retried", 0), servers.get("_app1_redispatched", 0)))


if __name__ == "__main__":
    sys.exit(main())
