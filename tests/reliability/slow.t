#!/usr/bin/env python3
"""Slow and idle clients: slowloris (headers dribbled) and slow-body attacks with slowhttptest,
then 10,000 idle connections. During each, a normal client keeps being served quickly; after
each, the server's descriptors return to where they were. Each phase is bounded in time.
slow_tls.t runs all of it again over HTTPS (TCA_TLS=1, see tests/lib/tca.py)."""
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import App  # noqa: E402

ATTACK_SECONDS = 12


class Prober(threading.Thread):
    """GETs the task list every 0.2 s on a fresh connection; records failures and the slowest."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stop, self.count, self.failed, self.slowest = app, threading.Event(), 0, [], 0.0
        self.peak_fds = 0

    def run(self):
        while not self.stop.is_set() and self.count < 1000:
            t = time.monotonic()
            try:
                status = self.app.request("GET", "/api/task/", timeout=5)[0]
            except OSError as e:
                status = type(e).__name__
            self.slowest = max(self.slowest, time.monotonic() - t)
            self.count += 1
            if status != 200:
                self.failed.append(status)
            self.peak_fds = max(self.peak_fds, fds(self.app.proc.pid))
            self.stop.wait(0.2)


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_kinds(pid):
    """The server's descriptors by kind ("socket", "anon_inode:[eventpoll]", a file's path), for
    a diagnostic when they do not come back."""
    kinds = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        kind = target.split(":[")[0] if target.startswith("socket:") else target
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def socket_states(port):
    """TCP states of the connections to the server's port, from ss (its summary for a
    diagnostic)."""
    r = subprocess.run(["ss", "-tanH", "sport", "= :%d" % port], capture_output=True, text=True)
    states = {}
    for line in r.stdout.splitlines():
        state = line.split()[0] if line.split() else "?"
        states[state] = states.get(state, 0) + 1
    return states


def wait_fds(pid, limit, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        n = fds(pid)
        if n <= limit:
            return n
        time.sleep(0.25)
    return fds(pid)


def attack(app, name, args):
    app.request("GET", "/healthcheck/")  # fully started (all worker threads) before the baseline
    base = fds(app.proc.pid)
    prober = Prober(app)
    prober.start()
    cmd = ["slowhttptest", "-c", "1000", "-i", "5", "-r", "200", "-l", str(ATTACK_SECONDS),
           "-u", app.url("/api/task/"), "-p", "3"] + args
    start = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=ATTACK_SECONDS + 60)
    elapsed = time.monotonic() - start
    prober.stop.set()
    prober.join(10)
    out = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    summary = [" ".join(line.split()) for line in out.splitlines()
               if "connected" in line or "service available" in line or "exit status" in line]
    diag("%s: %s" % (name, "; ".join(summary[-4:])))
    ok(r.returncode == 0 and elapsed < ATTACK_SECONDS + 30,
       "%s: slowhttptest ran for %.0f s (bounded)" % (name, elapsed))
    ok(prober.count >= 10 and not prober.failed,
       "%s: a normal client was served throughout (%d requests, failures %r, slowest %.2f s)"
       % (name, prober.count, prober.failed[:5], prober.slowest))
    ok(prober.slowest < 2.0, "%s: no normal request took 2 s or more (%.2f s)"
       % (name, prober.slowest))
    diag("%s: server descriptors %d before, %d at the peak of the attack"
         % (name, base, prober.peak_fds))
    # Over TLS every attacking connection costs a handshake on both sides (slowhttptest shares
    # the CPUs), so fewer are open at the peak; 150 still shows the attack was real.
    held = 150 if app.tls else 300
    ok(prober.peak_fds > base + held, "%s: the attack did hold connections open (more than %d)"
       % (name, held))
    return base


# The attackers' connections are gone when slowhttptest exits; the server closes its side when
# it reads their end, and at the latest at its idle timeout (75 s). Usually within a second; in
# 2 of 5 CI runs of 2026-12-01/02 not within 20 s (not reproduced in a dozen runs here, alone or
# under load): the wait is the idle timeout's bound, and a slow one says what was left.
CLOSE_WAIT_SECONDS = 80


def wait_closed(app, base, name):
    t = time.monotonic()
    after = wait_fds(app.proc.pid, base + 5, CLOSE_WAIT_SECONDS)
    took = time.monotonic() - t
    diag("%s: descriptors back to %d (base %d) after %.1f s" % (name, after, base, took))
    if took > 20:
        diag("%s: slow to close: server descriptors %r; TCP states on its port %r"
             % (name, fd_kinds(app.proc.pid), socket_states(app.port)))
    return after


with App(env={"VTT_THREADS": "4"}) as app:
    base = attack(app, "slowloris", ["-H", "-t", "GET", "-x", "24"])
    # So that the second attack's baseline is not the first one's leftovers.
    wait_closed(app, base, "slowloris")
    attack(app, "slow body", ["-B", "-t", "POST", "-s", "8192", "-x", "10"])
    after = wait_closed(app, base, "slow body")
    ok(after <= base + 5, "descriptors back to the baseline after the attacks, within the idle "
       "timeout (%d, base %d)" % (after, base))

    # --- 10,000 idle connections (the test raises its own limit; the server raises its own) ---
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 10000 + 500
    if hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            pass
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    ok(limit >= want, "the test may hold %d descriptors" % limit)
    base = fds(app.proc.pid)
    socks, sel = [], selectors.DefaultSelector()
    start = time.monotonic()
    try:
        for i in range(10000):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", app.port))
            socks.append(s)
        # Wait until the server has accepted them all (bounded).
        peak = base
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            peak = fds(app.proc.pid)
            if peak >= base + 10000:
                break
            time.sleep(0.25)
        diag("10,000 connections opened in %.1f s; server descriptors %d -> %d"
             % (time.monotonic() - start, base, peak))
        ok(peak >= base + 9900, "the server holds (nearly) all 10,000 idle connections (%d)"
           % (peak - base))
        t = time.monotonic()
        status = app.request("GET", "/api/task/", timeout=10)[0]
        took = time.monotonic() - t
        ok(status == 200 and took < 2, "with 10,000 idle connections a request is served (%s, "
           "%.2f s)" % (status, took))
        is_(app.request("GET", "/metrics", timeout=10)[0], 200, "and /metrics answers")
        # A request on one of the idle connections works too.
        s = socks[4321]
        s.setblocking(True)
        s.settimeout(10)
        s = app.wrap(s)
        s.sendall(b"GET /healthcheck/ HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(s.recv(4096).startswith(b"HTTP/1.1 200"), "an idle connection can still be used")
    finally:
        for s in socks:
            s.close()
    after = wait_fds(app.proc.pid, base + 5, 30)
    ok(after <= base + 5, "all closed: descriptors back to %d (base %d)" % (after, base))
    is_(app.request("GET", "/healthcheck/")[0], 200, "healthy afterwards")
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

done()
