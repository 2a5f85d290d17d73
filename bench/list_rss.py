#!/usr/bin/env python3
"""list_rss.py — peak memory of many concurrent GET lists of a large table (embedded store).

  bench/list_rss.py [--tasks 10000,40000] [--conc 256] [--seconds 5] \\
      before:/tmp/old/TechChallengeApp after:build/TechChallengeApp

For each table size, a SQLite file with that many tasks (titles of 10 to 74 bytes, as bench.py's
1,000-task set); for each NAME:BINARY, a fresh `serve` on it, then wrk with --conc connections
asking GET /api/task/ for --seconds. Prints the response size, requests served, and the server's
RSS at rest and its peak (VmHWM) — a bench, not a test: nothing is asserted. ADR 0026.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

FILL = ("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) "
        "INSERT INTO tasks (completed, priority, title) SELECT i %% 3 = 0, i %% 10, "
        "'Task ' || i || ': ' || substr('%s', 1, 8 * (1 + i %% 8)) FROM s")


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def serve(binary, db, tmp):
    port = bench.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTT_")}
    env.update({"VTT_DBTYPE": "sqlite", "VTT_DBPATH": db, "VTT_LISTENHOST": "127.0.0.1",
                "VTT_LISTENPORT": str(port), "VTT_LOGLEVEL": "warn"})
    proc = subprocess.Popen([binary, "serve"], env=env, cwd=tmp, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthcheck/ HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/1.1 200"):
                    return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("%s did not start" % binary)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", default="10000,40000")
    p.add_argument("--conc", type=int, default=256)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("variants", nargs="+", help="NAME:BINARY")
    a = p.parse_args()
    variants = [v.split(":", 1) for v in a.variants]
    tmp = tempfile.mkdtemp(prefix="tca-rss-")
    try:
        print("| tasks | variant | body KB | requests | errors | RSS at rest MB | peak RSS MB |")
        print("|---|---|---|---|---|---|---|")
        for n in (int(x) for x in a.tasks.split(",")):
            db = os.path.join(tmp, "t%d.db" % n)
            env = dict(os.environ, VTT_DBTYPE="sqlite", VTT_DBPATH=db)
            subprocess.run([variants[-1][1], "updatedb", "-s"], env=env, cwd=tmp, check=True,
                           capture_output=True, timeout=60)
            subprocess.run(["sqlite3", db, "DELETE FROM tasks; " + FILL % (n, "abcdefgh" * 8)],
                           check=True, timeout=120)
            for name, binary in variants:
                proc, port = serve(binary, db, tmp)
                try:
                    body = bench.http_get(port, "/api/task/")[1]
                    rest = status_kb(proc.pid, "VmRSS")
                    r = subprocess.run(["wrk", "-t", "2", "-c", str(a.conc), "-d",
                                        "%ds" % a.seconds, "--timeout", "30s",
                                        "http://127.0.0.1:%d/api/task/" % port],
                                       capture_output=True, text=True, timeout=a.seconds + 60)
                    reqs = errors = "?"
                    for line in r.stdout.splitlines():
                        if "requests in" in line:
                            reqs = line.split()[0]
                        if "Non-2xx" in line or "Socket errors" in line:
                            errors = line.strip()
                    peak = status_kb(proc.pid, "VmHWM")
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
                print("| %d | %s | %d | %s | %s | %.1f | %.1f |" % (
                    n, name, len(body) // 1024, reqs, errors if errors != "?" else 0,
                    rest / 1024, peak / 1024), flush=True)
        print("load average %.2f %.2f %.2f" % os.getloadavg())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
