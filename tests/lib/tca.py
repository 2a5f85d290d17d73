"""tca.py — run the real TechChallengeApp binary for tests and talk HTTP to it.

    with App(env={"VTT_DBTYPE": "sqlite"}) as app:   # temp dir, free port, updatedb, serve
        status, headers, body = app.request("GET", "/api/task/")

The binary is $TCA_BIN (make check sets it), else build/TechChallengeApp. Every app runs in its
own temp dir on 127.0.0.1 with a free port; its stderr (the log) is kept in app.log_path.

App(tls=True) — or every App of a process run with TCA_TLS=1, which is how a whole test file is
run again over HTTPS (tests/reliability/*_tls.t) — serves HTTPS with a self-signed certificate
(TlsSelfSigned) unless env names TlsCertFile/TlsKeyFile; app.request, app.raw and
app.connect then speak TLS (without verifying the certificate).
"""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TCA_BIN") or os.path.join(ROOT, "build", "TechChallengeApp")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_readers_writers(readers, writers, stop, deadline_s):
    """Starts the reader and writer threads; once every writer is done, or deadline_s has
    passed (stop is set then too), sets stop and waits for the readers."""
    timer = threading.Timer(deadline_s, stop.set)
    timer.start()
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    timer.cancel()


class KeepAliveClient:
    """One keep-alive connection to an App; a failed request re-opens it and raises."""

    def __init__(self, app):
        self.app = app
        self.conn = app.connection()

    def request(self, method, path, body=None):
        """(status, body bytes); body, if given, is sent as JSON."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = self.app.connection()
            raise


def wait_until(cond, limit):
    """Seconds until cond() is true, or None after limit seconds (polled every 50 ms; an
    OSError from cond, such as a refused connection, counts as not yet)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            if cond():
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.05)
    return None


def run(args, env=None, cwd=None, timeout=30):
    """Runs the binary with args; returns CompletedProcess with text stdout/stderr."""
    full_env = clean_env()
    full_env.update(env or {})
    return subprocess.run([BIN] + list(args), env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def refused(env, conf=None, args=("serve",), want=""):
    """Runs args (serve) with a bad setting in env or conf (conf.toml text or bytes). Returns
    (good, result): good when it exited non-zero before listening, with one or two lines on
    stderr that contain want. A server that started instead is killed by run()'s timeout and
    is not good (result is then the TimeoutExpired)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        if conf is not None:
            with open(os.path.join(d, "conf.toml"), "wb") as f:
                f.write(conf.encode() if isinstance(conf, str) else conf)
        full = {"VTT_DBTYPE": "sqlite", "VTT_DBPATH": os.path.join(d, "t.db"),
                "VTT_LISTENPORT": str(port)}
        full.update(env)
        try:
            r = run(list(args), env=full, cwd=d, timeout=10)
        except subprocess.TimeoutExpired as e:
            return False, e
        with socket.socket() as s:
            listening = s.connect_ex(("127.0.0.1", port)) == 0
        good = r.returncode != 0 and want in r.stderr and not listening and \
            0 < len(r.stderr.strip().splitlines()) <= 2
        return good, r


TLS = os.environ.get("TCA_TLS") == "1"


def client_context(cafile=None):
    """An ssl client context: verifying against cafile, or (None) verifying nothing."""
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TLSStream:
    """A TLS client connection on a connected socket, through ssl.MemoryBIO, with the socket
    methods the tests use (sendall, recv, shutdown, settimeout, close). Unlike ssl.SSLSocket it
    can half-close: shutdown(SHUT_WR) sends close_notify and a FIN, and recv keeps reading
    the server's answer. recv returns b"" at the end of the stream, with or without the
    server's close_notify."""

    def __init__(self, sock, context=None, server_hostname=None):
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = (context or client_context()).wrap_bio(
            self.incoming, self.outgoing, server_side=False, server_hostname=server_hostname)
        self._run(self.obj.do_handshake)

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _run(self, op, *args):
        for _ in range(1000000):  # each round reads from the socket, which has a timeout
            try:
                result = op(*args)
                self._flush()
                return result
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if data:
                    self.incoming.write(data)
                else:
                    self.incoming.write_eof()
        raise RuntimeError("TLS operation did not finish")

    def sendall(self, data):
        view = memoryview(data)
        while view:
            n = self._run(self.obj.write, view)
            view = view[n:]

    def recv(self, n):
        try:
            return self._run(self.obj.read, n)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def shutdown(self, how):
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            try:
                self.obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
            self._flush()
        self.sock.shutdown(how)

    def peer_certificate(self):
        """The server's certificate, DER."""
        return self.obj.getpeercert(binary_form=True)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def setblocking(self, flag):
        self.sock.setblocking(flag)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def clean_env():
    """The environment without any VTT_* setting leaking in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTT_")}
    env["VTT_LOGFORMAT"] = "json"
    return env


class App:
    def __init__(self, env=None, seed=True, conf_toml=None, args=("serve",), cwd=None, tls=None,
                 cafile=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="tca-")
        self.dir = self.tmp.name
        self.cwd = cwd or self.dir  # the working directory of updatedb and the server
        self.port = free_port()
        self.env = {"VTT_DBTYPE": "sqlite", "VTT_DBPATH": os.path.join(self.dir, "tasks.db"),
                    "VTT_LISTENHOST": "127.0.0.1", "VTT_LISTENPORT": str(self.port)}
        self.tls = TLS if tls is None else tls
        if self.tls and "VTT_TLSCERTFILE" not in (env or {}):
            self.env["VTT_TLSSELFSIGNED"] = "true"
        self.ssl_context = client_context(cafile) if self.tls else None
        self.env.update(env or {})
        self.seed = seed
        self.conf_toml = conf_toml
        self.args = list(args)
        self.proc = None
        self.log_path = os.path.join(self.dir, "app.log")
        self.exit_code = None

    def __enter__(self):
        if self.conf_toml is not None:
            with open(os.path.join(self.dir, "conf.toml"), "w") as f:
                f.write(self.conf_toml)
        if self.seed:
            r = run(["updatedb"], env=self.env, cwd=self.cwd)
            if r.returncode != 0:
                raise RuntimeError("updatedb failed: %s%s" % (r.stdout, r.stderr))
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.tmp.cleanup()

    def start(self, wait=True):
        env = clean_env()
        env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN] + self.args, env=env, cwd=self.cwd,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_listening()
            if self.tls and "HTTPS with the certificate" not in self.read_log():
                raise RuntimeError("the server does not say it serves HTTPS:\n" + self.read_log())

    def wait_listening(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s" % (self.proc.returncode,
                                                                   self.read_log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server not listening after %ss:\n%s" % (timeout, self.read_log()))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the server and returns its exit code (None if it was not running)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc and self.proc.returncode
        self.proc.send_signal(sig)
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.exit_code = self.proc.wait()
        self.log.close()
        return self.exit_code

    def stop_status(self, sig=signal.SIGTERM, timeout=30):
        """stop(), and with an exit code other than 0 the log's last lines (a sanitizer's report,
        the drain's last words) as TAP comments, so a failed "exit 0" check says why."""
        code = self.stop(sig, timeout)
        if code != 0:
            for line in self.read_log()[-4000:].splitlines():
                print("#   log: " + line)
        return code

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_records(self):
        """The JSON log lines as dicts (lines that are not JSON are returned as strings)."""
        out = []
        for line in self.read_log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append(line)
        return out

    def url(self, path="/"):
        return "%s://127.0.0.1:%d%s" % ("https" if self.tls else "http", self.port, path)

    def connection(self, timeout=10):
        """An http.client connection to the app (HTTPS when it serves TLS), not yet opened."""
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def wrap(self, sock):
        """sock, connected to the app, as the tests talk on it: a TLSStream when it serves TLS."""
        return TLSStream(sock, self.ssl_context) if self.tls else sock

    def connect(self, timeout=5):
        """A new connection for raw bytes: a socket, or a TLSStream when the app serves TLS."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            return self.wrap(sock)
        except BaseException:
            sock.close()
            raise

    def request(self, method, path, body=None, headers=None, timeout=10):
        """One request on a fresh connection: (status, headers as dict lower-case, bytes)."""
        conn = self.connection(timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def metric(self, name, labels=()):
        """The sum of the /metrics samples of name whose labels include every `key="value"` of
        labels (e.g. ['op="create"'])."""
        _, _, body = self.request("GET", "/metrics")
        total = 0
        for line in body.decode().splitlines():
            if line.startswith(name + "{") and all(label in line for label in labels):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data
        return status, hdrs, doc

    def raw(self, data, timeout=5, read_all=True):
        """Sends raw bytes on a new connection and returns what comes back until close or
        timeout."""
        with self.connect(timeout) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if not read_all:
                        break
            except (socket.timeout, ConnectionResetError):
                pass
            return b"".join(chunks)
