#!/usr/bin/env python3
"""bench/delay_proxy.c, the delaying TCP proxy of `make bench-remote`, against a local upstream
on 127.0.0.1: bytes arrive intact and in order both ways (one connection and several at once),
every chunk is held at least the configured delay in each direction (measured; no upper bound
is asserted), a half-close travels on after the data before it, a destination that does not
read stops the proxy reading (bounded memory) and the flow resumes intact, a refused upstream
closes only that connection, bad arguments are refused, SIGTERM exits 0. Under 5 s."""
import os
import re
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from delayproxy import PROXY, build  # noqa: E402
from tap import bail, diag, done, is_, ok  # noqa: E402

IO_TIMEOUT = 5  # every socket wait is bounded: a proxy that loses bytes fails, never hangs
MAX_QUEUE = 256 << 10
READ_SIZE = 64 << 10  # delay_proxy.c's READ_SIZE


class Upstream:
    """A TCP server on 127.0.0.1 running handler(conn) in a thread per connection."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(IO_TIMEOUT)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def echo(conn):
    """Echoes until EOF, then half-closes back."""
    while True:
        data = conn.recv(1 << 16)
        if not data:
            break
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)


class Proxy:
    def __init__(self, upstream_port, *extra):
        self.proc = subprocess.Popen([PROXY, "--upstream", "127.0.0.1:%d" % upstream_port] +
                                     list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on 127.0.0.1:"):
            self.proc.kill()
            bail("the proxy did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line.rsplit(":", 1)[1])

    def connect(self):
        c = socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return c

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def stop(self):
        """SIGTERM; returns (exit code, stderr)."""
        self.proc.terminate()
        try:
            rc = self.proc.wait(IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "still running after SIGTERM"
        return rc, self.proc.stderr.read()


def recv_exactly(sock, n):
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(min(1 << 20, n - len(buf)))
        if not data:
            break
        buf += data
    return bytes(buf)


def recv_to_eof(sock):
    buf = bytearray()
    while True:
        data = sock.recv(1 << 20)
        if not data:
            return bytes(buf)
        buf += data


def pattern(n, seed):
    return bytes((i * 31 + seed) & 0xFF for i in range(256)) * (n // 256) + b"x" * (n % 256)


def test_arguments():
    for argv, want in ((["--help"], 0), ([], 2), (["--upstream", "nowhere"], 1),
                       (["--upstream", "127.0.0.1:1", "--delay-us", "-1"], 2),
                       (["--upstream", "127.0.0.1:1", "--bogus"], 2)):
        r = subprocess.run([PROXY] + argv, capture_output=True, text=True, timeout=IO_TIMEOUT)
        is_(r.returncode, want, "delay_proxy %s exits %d" % (" ".join(argv) or "(no arguments)",
                                                             want))


def test_forwarding():
    up = Upstream(echo)
    proxy = Proxy(up.port)
    data = os.urandom(1 << 20)
    c = proxy.connect()
    sender = threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR)))
    sender.start()
    got = recv_to_eof(c)
    sender.join(IO_TIMEOUT)
    c.close()
    ok(got == data, "delay 0: 1 MiB of random bytes comes back intact, then EOF (%d bytes)" %
       len(got))

    results = {}

    def client(k):
        s = proxy.connect()
        msg = pattern(200000 + k * 1000, k)
        for off in range(0, len(msg), 7000):  # many small writes, interleaved with the others
            s.sendall(msg[off:off + 7000])
        s.shutdown(socket.SHUT_WR)
        results[k] = recv_to_eof(s) == msg
        s.close()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(IO_TIMEOUT)
    is_(sorted(k for k, good in results.items() if good), list(range(8)),
        "8 connections at once: each gets its own bytes back, in order")
    rc, err = proxy.stop()
    is_(rc, 0, "SIGTERM: exit 0")
    ok("9 connections" in err and "0 closed on errors" in err, "the counters on exit: " +
       err.strip())
    up.close()


def test_delay():
    delay_us = 20000
    arrivals = []

    def stamp_and_answer(conn):
        """Records when each message arrives, answers it at once, stamping the send."""
        while True:
            data = conn.recv(16)
            if not data:
                break
            arrivals.append(time.monotonic())
            conn.sendall(b"%020.9f" % time.monotonic())
    up = Upstream(stamp_and_answer)
    proxy = Proxy(up.port, "--delay-us", str(delay_us))
    c = proxy.connect()
    one_way_up, one_way_down, rtts = [], [], []
    for _ in range(5):
        t0 = time.monotonic()
        c.sendall(b"p")
        answer = recv_exactly(c, 20)
        t1 = time.monotonic()
        rtts.append(t1 - t0)
        one_way_up.append(arrivals[-1] - t0)
        one_way_down.append(t1 - float(answer))
    c.close()
    ms = lambda xs: ", ".join("%.1f" % (x * 1000) for x in xs)  # noqa: E731
    diag("client -> upstream ms: %s; upstream -> client ms: %s; round trip ms: %s" %
         (ms(one_way_up), ms(one_way_down), ms(rtts)))
    d = delay_us / 1e6
    ok(min(one_way_up) >= d, "every message reaches the upstream at least %d ms after it was sent"
       % (delay_us // 1000))
    ok(min(one_way_down) >= d, "every answer reaches the client at least %d ms after it was sent"
       % (delay_us // 1000))
    ok(min(rtts) >= 2 * d, "every round trip takes at least %d ms" % (2 * delay_us // 1000))

    # A half-close is held as long as the data: the upstream sees EOF no sooner than the delay,
    # and can still answer after it.
    seen = {}

    def half_close(conn):
        data = recv_to_eof(conn)
        seen["eof_at"] = time.monotonic()
        conn.sendall(b"after eof:" + data)
    up2 = Upstream(half_close)
    proxy2 = Proxy(up2.port, "--delay-us", str(delay_us))
    c = proxy2.connect()
    c.sendall(b"last words")
    t0 = time.monotonic()
    c.shutdown(socket.SHUT_WR)
    got = recv_to_eof(c)
    c.close()
    is_(got, b"after eof:last words", "half-close: the upstream gets the data, then EOF, and "
        "its answer still comes back")
    ok(seen.get("eof_at", 0) - t0 >= d, "the EOF arrives at least the delay after the shutdown")
    for p in (proxy, proxy2):
        is_(p.stop()[0], 0, "SIGTERM with a delay configured: exit 0")
    up.close()
    up2.close()


def test_back_pressure():
    """An upstream that reads nothing for a while: the proxy must stop reading from the client
    (its memory stays bounded), and once the upstream reads, everything arrives in order."""
    total = 32 << 20  # more than loopback's socket buffers on both sides can hold
    start_reading = threading.Event()
    received = {}

    def slow_reader(conn):
        start_reading.wait(IO_TIMEOUT)
        received["data"] = recv_exactly(conn, total)
    up = Upstream(slow_reader)
    proxy = Proxy(up.port, "--max-queue", str(MAX_QUEUE), "--delay-us", "1000")
    rss0 = proxy.rss_kb()
    c = proxy.connect()
    c.setblocking(False)
    data = pattern(total, 7)
    sent = 0
    deadline = time.monotonic() + 2.0
    last_progress = time.monotonic()
    while sent < total and time.monotonic() < deadline and \
            time.monotonic() - last_progress < 0.2:  # stalled: nothing taken for 200 ms
        try:
            sent += c.send(data[sent:sent + (1 << 20)])
            last_progress = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)
    rss_stalled = proxy.rss_kb()
    diag("sent %d of %d bytes before the stall; proxy RSS %d kB at start, %d kB stalled" %
         (sent, total, rss0, rss_stalled))
    ok(sent < total, "a destination that does not read stops the sender (back-pressure)")
    # Unbounded, it would have read what the client offered (over 20 MB beyond the socket
    # buffers); ASan's quarantine alone adds a few MB, hence the margin.
    ok(rss_stalled - rss0 < 12 << 10, "the proxy's memory stays bounded (RSS grew %d kB)" %
       (rss_stalled - rss0))
    start_reading.set()
    c.settimeout(IO_TIMEOUT)
    c.sendall(data[sent:])
    deadline = time.monotonic() + IO_TIMEOUT
    while "data" not in received and time.monotonic() < deadline:
        time.sleep(0.01)
    c.close()
    ok(received.get("data") == data, "after the stall all %d bytes arrive, in order" % total)
    rc, err = proxy.stop()
    is_(rc, 0, "SIGTERM: exit 0")
    m = re.search(r"peak queue (\d+) bytes", err)
    peak = int(m.group(1)) if m else None
    ok(peak is not None and peak <= MAX_QUEUE + READ_SIZE,
       "no queue ever held more than --max-queue plus one read (peak %s bytes)" % peak)
    up.close()


def test_refused():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    proxy = Proxy(dead_port)
    c = proxy.connect()
    try:
        c.sendall(b"hello")
        got = c.recv(16)
    except ConnectionError:
        got = b""
    c.close()
    is_(got, b"", "upstream refused: the client's connection is closed")
    ok(proxy.proc.poll() is None, "and the proxy keeps running")
    rc, err = proxy.stop()
    is_(rc, 0, "SIGTERM: exit 0")
    ok("1 upstream connects failed" in err, "the failure is counted: " + err.strip())


def main():
    why = None if os.access(PROXY, os.X_OK) else build()
    if why:
        bail(why)
    test_arguments()
    test_forwarding()
    test_delay()
    test_back_pressure()
    test_refused()
    done()


if __name__ == "__main__":
    main()
