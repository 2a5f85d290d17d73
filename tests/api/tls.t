#!/usr/bin/env python3
"""HTTPS on the listener, with real TLS clients: certificates made by openssl in a temp dir (a
root CA, an intermediate, servers' certificates signed by it); the API over HTTPS with
Python's ssl and curl, both verifying the chain; TLS 1.2 and 1.3 accepted, TLS 1.0 and 1.1 and
CBC or RSA-key-exchange ciphers refused (openssl s_client, with an openssl s_server control
that shows the client itself can speak TLS 1.1); ALPN http/1.1; plain HTTP to the TLS port
closed at once; the certificate re-read on SIGHUP while an open keep-alive connection keeps
working (and a bad new certificate keeps the old one); TlsSelfSigned; healthcheck over TLS;
configuration mistakes refused before anything listens. badinput_tls.t and slow_tls.t (in
tests/reliability) run the bad-input and slow-client suites over TLS."""
import ctypes
import hashlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import ROOT, App, TLSStream, client_context, free_port, refused, run  # noqa: E402


def openssl(*args, input=None):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, input=input, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr.decode()))
    return r.stdout


class Certs:
    """A root CA, an intermediate CA, and server certificates for localhost/127.0.0.1."""

    def __init__(self, d):
        self.d = d
        self.ca = self.path("ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.path("ca.key"), "-out", self.ca, "-days", "2",
                "-subj", "/CN=tls.t root CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.intermediate = self.sign("int", "tls.t intermediate CA", self.ca, self.path("ca.key"),
                                      "basicConstraints=critical,CA:TRUE\n"
                                      "keyUsage=critical,keyCertSign,cRLSign\n")

    def path(self, name):
        return os.path.join(self.d, name)

    def key(self, name, kind):
        out = self.path(name + ".key")
        if kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", out)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out)
        return out

    def sign(self, name, cn, ca, ca_key, ext, kind="ec"):
        key = self.key(name, kind)
        csr, ext_file, out = self.path(name + ".csr"), self.path(name + ".ext"), self.path(name + ".pem")
        openssl("req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr)
        with open(ext_file, "w") as f:
            f.write(ext)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                "-days", "2", "-extfile", ext_file, "-out", out)
        return out

    def server(self, name, kind="ec"):
        """(chain file: server certificate then the intermediate, key file, SHA-256 of the DER)."""
        cert = self.sign(name, "localhost", self.intermediate, self.path("int.key"),
                         "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                         "keyUsage=critical,digitalSignature,keyEncipherment\n", kind)
        chain = self.path(name + "-chain.pem")
        with open(chain, "w") as f:
            f.write(open(cert).read() + open(self.intermediate).read())
        der = openssl("x509", "-in", cert, "-outform", "DER")
        return chain, self.path(name + ".key"), hashlib.sha256(der).hexdigest()


def peer_fingerprint(port, context=None):
    """SHA-256 of the certificate a new TLS connection to port is shown."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return hashlib.sha256(TLSStream(s, context).peer_certificate()).hexdigest()


def s_client(port, *args):
    """openssl s_client against port; returns (handshake done, the negotiated protocol, output)."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "localhost"] + list(args), input=b"", capture_output=True,
                       timeout=20)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    # The session's "Protocol  : TLSv1.1" line when printed (not for TLS 1.3), else the version
    # in "New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256" (which is the cipher's, for TLS 1.1).
    proto = ""
    for line in out.splitlines():
        if line.startswith("New, ") and ", Cipher is " in line and not proto:
            proto = line.split(",")[1].strip()
        if line.strip().startswith("Protocol  :"):
            proto = line.split(":", 1)[1].strip()
    done_ = r.returncode == 0 and "Cipher is (NONE)" not in out and proto.startswith("TLS")
    return done_, proto, out


def server_nodelay(pid, client):
    """TCP_NODELAY on the server's end of the connection client, read from a duplicate of the
    server's descriptor (pidfd_getfd); None if that end is not found."""
    libc = ctypes.CDLL(None, use_errno=True)
    want = client.getsockname()
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
            if fd < 0:
                continue
            with socket.socket(fileno=fd) as dup:
                try:
                    if dup.type == socket.SOCK_STREAM and dup.getpeername() == want:
                        return dup.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                except OSError:
                    pass
    finally:
        os.close(pidfd)
    return None


def wait_log(app, text, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in app.read_log():
            return True
        time.sleep(0.05)
    return False


tmp = tempfile.TemporaryDirectory(prefix="tca-tls-")
certs = Certs(tmp.name)
chain_a, key_a, fp_a = certs.server("a")
chain_b, key_b, fp_b = certs.server("b", kind="rsa")
verify = client_context(certs.ca)

# --- the API over HTTPS, verified against the root CA (so the intermediate is served) ---
serving_cert, serving_key = certs.path("serving.pem"), certs.path("serving.key")
with open(serving_cert, "w") as f:
    f.write(open(chain_a).read())
with open(serving_key, "w") as f:
    f.write(open(key_a).read())
tls_env = {"VTT_TLSCERTFILE": serving_cert, "VTT_TLSKEYFILE": serving_key}
with App(env=tls_env, tls=True, cafile=certs.ca) as app:
    like(app.read_log(), "HTTPS with the certificate subject 'CN=localhost'",
         "the start-up log names the certificate")
    status, _, tasks = app.json("GET", "/api/task/")
    is_((status, [t["title"] for t in tasks]), (200, ["1st Task", "2nd Task", "3rd Task"]),
        "Python ssl, chain verified: GET /api/task/")
    status, _, created = app.json("POST", "/api/task/", {"title": "over TLS", "priority": 3})
    is_((status, created.get("title")), (200, "over TLS"), "POST /api/task/ over TLS")
    is_(app.request("DELETE", "/api/task/%d/" % created["id"])[0], 204, "DELETE over TLS")
    # A large response (the Swagger UI bundle) arrives intact through TLS records.
    with open(os.path.join(ROOT, "assets", "swagger", "swagger-ui-bundle.js"), "rb") as f:
        bundle = f.read()
    status, _, body = app.request("GET", "/swagger/swagger-ui-bundle.js")
    ok(status == 200 and body == bundle, "a %d-byte asset arrives intact over TLS" % len(bundle))

    curl = ["curl", "-sS", "--max-time", "10", "--cacert", certs.ca, "--resolve",
            "localhost:%d:127.0.0.1" % app.port]
    url = "https://localhost:%d" % app.port
    r = subprocess.run(curl + ["-w", "\n%{http_code} %{http_version}", url + "/api/task/"],
                       capture_output=True, text=True, timeout=30)
    ok(r.returncode == 0 and r.stdout.endswith("\n200 1.1") and '"1st Task"' in r.stdout,
       "curl --cacert: GET /api/task/ over HTTPS, HTTP/1.1")
    r = subprocess.run(curl + ["-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                               "-d", '{"title":"from curl"}', url + "/api/task/"],
                       capture_output=True, text=True, timeout=30)
    ok(r.returncode == 0 and r.stdout.endswith("\n200") and '"from curl"' in r.stdout,
       "curl: POST over HTTPS")
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "--resolve",
                        "localhost:%d:127.0.0.1" % app.port, url + "/healthcheck/"],
                       capture_output=True, text=True, timeout=30)
    is_(r.returncode, 60, "curl without the CA refuses the certificate (it does verify)")

    # --- protocol versions, ciphers, ALPN ---
    for args, want in [(["-tls1_3"], "TLSv1.3"), (["-tls1_2"], "TLSv1.2")]:
        good, proto, out = s_client(app.port, *args)
        if not ok(good and proto == want, "openssl s_client %s: %s" % (args[0], proto or "failed")):
            diag(out[-600:])
    good, proto, out = s_client(app.port, "-alpn", "h2,http/1.1")
    ok(good and "ALPN protocol: http/1.1" in out, "ALPN: h2,http/1.1 offered, http/1.1 selected")
    # Without TCP_NODELAY the TLS 1.3 handshake's last flight waits for a delayed ACK (~40 ms).
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as s:
        TLSStream(s)
        is_(server_nodelay(app.proc.pid, s), True,
            "the server's end of a TLS connection has TCP_NODELAY from the start")
    for args, what in [
        (["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], "TLS 1.1"),
        (["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"], "TLS 1.0"),
        (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384"],
         "TLS 1.2 with only CBC ciphers"),
    ]:
        good, proto, out = s_client(app.port, *args)
        if not ok(not good, "%s refused by the server" % what):
            diag(out[-600:])

    # The control: the same client command against openssl's own server allowing TLS 1.1 does
    # connect, so the refusals above come from our server, not from the client's own policy.
    control_port = free_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % control_port,
                               "-cert", chain_a, "-key", key_a, "-tls1_1",
                               "-cipher", "DEFAULT@SECLEVEL=0", "-quiet"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", control_port)) == 0:
                    break
            time.sleep(0.05)
        good, proto, out = s_client(control_port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        if not ok(good and proto == "TLSv1.1",
                  "control: the same TLS 1.1 client connects to openssl s_server -tls1_1"):
            diag(out[-600:])
    finally:
        server.kill()
        server.wait()

    # --- plain HTTP to the TLS port: the connection is closed, no hang, no HTTP answer ---
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as s:
        s.sendall(b"GET /api/task/ HTTP/1.1\r\nHost: x\r\n\r\n")
        reply, closed = b"", False
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    closed = True
                    break
                reply += chunk
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
    took = time.monotonic() - start
    ok(closed and took < 3 and b"HTTP/1." not in reply and b"1st Task" not in reply,
       "plain HTTP to the TLS port: closed after %.2f s, no HTTP answer (%r)" % (took, reply[:40]))
    is_(app.request("GET", "/healthcheck/")[0], 200, "still serving HTTPS afterwards")

    # --- healthcheck over TLS ---
    hc_env = dict(tls_env, VTT_LISTENPORT=str(app.port))
    r = run(["healthcheck"], env=hc_env, cwd=app.dir)
    is_((r.returncode, r.stdout), (0, "healthy\n"), "healthcheck over TLS: exit 0")
    r = run(["healthcheck"], env={"VTT_LISTENPORT": str(app.port)}, cwd=app.dir)
    is_(r.returncode, 1, "healthcheck in plain HTTP against the TLS port: exit 1")

    # --- SIGHUP: the new certificate for new connections, open ones keep working ---
    is_(peer_fingerprint(app.port, verify), fp_a, "certificate A is served")
    kept = http.client.HTTPSConnection("127.0.0.1", app.port, timeout=10, context=verify)
    kept.request("GET", "/healthcheck/")
    resp = kept.getresponse()
    resp.read()
    is_(resp.status, 200, "a keep-alive connection is open, on certificate A")
    for src, dst in [(chain_b, serving_cert), (key_b, serving_key)]:
        with open(dst + ".new", "w") as f:
            f.write(open(src).read())
        os.replace(dst + ".new", dst)
    app.proc.send_signal(signal.SIGHUP)
    ok(wait_log(app, "TLS certificate reloaded"), "SIGHUP: the reload is logged")
    is_(peer_fingerprint(app.port, verify), fp_b, "after SIGHUP new connections get certificate B")
    kept.request("GET", "/api/task/")
    resp = kept.getresponse()
    body = resp.read()
    ok(resp.status == 200 and b"1st Task" in body,
       "the connection opened before the reload still works")
    is_(hashlib.sha256(kept.sock.getpeercert(binary_form=True)).hexdigest(), fp_a,
        "... and is still on certificate A")
    kept.close()
    # With an RSA certificate: RSA key exchange (no forward secrecy) refused, ECDHE-RSA fine.
    good, proto, out = s_client(app.port, "-tls1_2", "-cipher",
                                "AES128-GCM-SHA256:AES256-GCM-SHA384")
    ok(not good, "TLS 1.2 with only RSA key exchange refused by the server")
    good, proto, out = s_client(app.port, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    ok(good and proto == "TLSv1.2", "TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 with the RSA certificate")

    # Reloads while handshakes run on every worker thread: each handshake completes, with A or
    # B (the pair is swapped file by file, so some reloads see a mismatch and keep the old).
    results, stop = [], threading.Event()

    def handshakes():
        while not stop.is_set() and len(results) < 5000:
            try:
                results.append(peer_fingerprint(app.port, verify))
            except (OSError, ssl.SSLError) as e:
                results.append("error: %r" % e)

    workers = [threading.Thread(target=handshakes) for _ in range(4)]
    for w in workers:
        w.start()
    reloads_before = app.read_log().count("TLS certificate reloaded")
    for i in range(16):
        pair = (chain_a, key_a) if i % 2 == 0 else (chain_b, key_b)
        for src, dst in zip(pair, (serving_cert, serving_key)):
            with open(dst + ".new", "w") as f:
                f.write(open(src).read())
            os.replace(dst + ".new", dst)
        app.proc.send_signal(signal.SIGHUP)
        time.sleep(0.15)
    stop.set()
    for w in workers:
        w.join(30)
    errors = [r for r in results if r not in (fp_a, fp_b)]
    reloads = app.read_log().count("TLS certificate reloaded") - reloads_before
    diag("%d handshakes during 16 SIGHUPs (%d reloads took effect)" % (len(results), reloads))
    ok(len(results) >= 20 and not errors and fp_a in results and fp_b in results,
       "every handshake during reloads succeeds, with certificate A or B (%d, errors %r)"
       % (len(results), errors[:3]))
    ok(app.proc.poll() is None and app.request("GET", "/healthcheck/")[0] == 200,
       "serving after the reloads")
    deadline = time.monotonic() + 10  # the last SIGHUP may still be being handled
    while peer_fingerprint(app.port, verify) != fp_b and time.monotonic() < deadline:
        time.sleep(0.05)
    is_(peer_fingerprint(app.port, verify), fp_b, "the last pair (B) is served")

    # A bad certificate on reload: logged, the current one stays.
    for text, what in [(open(key_a).read(), "a key that does not match"),
                       ("not a key\n", "a file that is not PEM")]:
        with open(serving_key, "w") as f:
            f.write(text)
        before = app.read_log().count("keeping the current TLS certificate")
        app.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while app.read_log().count("keeping the current TLS certificate") == before and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        ok(app.read_log().count("keeping the current TLS certificate") > before,
           "SIGHUP with %s: error logged" % what)
        ok(app.proc.poll() is None and peer_fingerprint(app.port, verify) == fp_b,
           "SIGHUP with %s: still serving certificate B" % what)
    like(app.read_log(), "TlsKeyFile '%s': does not match the certificate" % serving_key,
         "the reload error names the key file")
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

r = run(["healthcheck"], env=dict(tls_env, VTT_LISTENPORT=str(free_port())))
ok(r.returncode == 1 and "unhealthy" in r.stderr, "healthcheck over TLS, nothing listening: exit 1")

# --- the keys in conf.toml; files win over TlsSelfSigned ---
conf = '"TlsCertFile" = "%s"\n"TlsKeyFile" = "%s"\n"TlsSelfSigned" = "true"\n' % (chain_a, key_a)
with App(conf_toml=conf, tls=True, cafile=certs.ca) as app:
    is_(peer_fingerprint(app.port, verify), fp_a,
        "TlsCertFile/TlsKeyFile from conf.toml; the files win over TlsSelfSigned")

# --- TlsSelfSigned: a certificate made at start, a new one on SIGHUP ---
with App(env={"VTT_TLSSELFSIGNED": "true"}, tls=True) as app:
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as s:
        der = TLSStream(s).peer_certificate()
    pem = ssl.DER_cert_to_PEM_cert(der)
    text = openssl("x509", "-noout", "-text", input=pem.encode()).decode()
    ok("ASN1 OID: prime256v1" in text and "DNS:localhost" in text and "CA:FALSE" in text and
       "TLS Web Server Authentication" in text,
       "self-signed: ECDSA P-256, SAN localhost, not a CA, for TLS servers")
    issuer = openssl("x509", "-noout", "-issuer", "-subject", input=pem.encode()).decode()
    lines = issuer.split("\n")
    ok(lines[0].split("=", 1)[1] == lines[1].split("=", 1)[1], "self-signed: issuer is subject")
    r = run(["healthcheck"], env={"VTT_TLSSELFSIGNED": "true", "VTT_LISTENPORT": str(app.port)})
    is_(r.returncode, 0, "healthcheck against the self-signed certificate: exit 0")
    first = hashlib.sha256(der).hexdigest()
    app.proc.send_signal(signal.SIGHUP)
    ok(wait_log(app, "TLS certificate reloaded"), "SIGHUP reloads")
    ok(peer_fingerprint(app.port) != first, "SIGHUP: a new self-signed certificate")
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

# --- configuration mistakes: one line naming the key and the path, nothing listens ---
only = certs.path("only-int-then-leaf.pem")
with open(only, "w") as f:
    f.write(open(certs.intermediate).read() + open(certs.path("a.pem")).read())
encrypted = certs.path("encrypted.key")
openssl("pkey", "-in", key_a, "-aes256", "-passout", "pass:secret", "-out", encrypted)
not_pem = certs.path("not.pem")
with open(not_pem, "w") as f:
    f.write("hello\n")
for env, want in [
    ({"VTT_TLSCERTFILE": chain_a}, "TlsCertFile '%s' is set but TlsKeyFile is not" % chain_a),
    ({"VTT_TLSKEYFILE": key_a}, "TlsKeyFile '%s' is set but TlsCertFile is not" % key_a),
    ({"VTT_TLSCERTFILE": "/nonexistent/cert.pem", "VTT_TLSKEYFILE": key_a},
     "TlsCertFile '/nonexistent/cert.pem': No such file or directory"),
    ({"VTT_TLSCERTFILE": chain_a, "VTT_TLSKEYFILE": "/nonexistent/key.pem"},
     "TlsKeyFile '/nonexistent/key.pem': No such file or directory"),
    ({"VTT_TLSCERTFILE": tmp.name, "VTT_TLSKEYFILE": key_a},
     "TlsCertFile '%s': Is a directory" % tmp.name),
    ({"VTT_TLSCERTFILE": not_pem, "VTT_TLSKEYFILE": key_a},
     "TlsCertFile '%s': no PEM certificate" % not_pem),
    ({"VTT_TLSCERTFILE": key_a, "VTT_TLSKEYFILE": key_a},
     "TlsCertFile '%s': no PEM certificate" % key_a),
    ({"VTT_TLSCERTFILE": chain_a, "VTT_TLSKEYFILE": chain_a},
     "TlsKeyFile '%s': no unencrypted PEM private key" % chain_a),
    ({"VTT_TLSCERTFILE": chain_a, "VTT_TLSKEYFILE": encrypted},
     "TlsKeyFile '%s': no unencrypted PEM private key" % encrypted),
    ({"VTT_TLSCERTFILE": chain_a, "VTT_TLSKEYFILE": key_b},
     "TlsKeyFile '%s': does not match the certificate in TlsCertFile '%s'" % (key_b, chain_a)),
    ({"VTT_TLSCERTFILE": only, "VTT_TLSKEYFILE": key_a},
     "TlsCertFile '%s': the certificates are out of order" % only),
    ({"VTT_TLSSELFSIGNED": "maybe"}, "TlsSelfSigned"),
]:
    good, r = refused(env, want=want)
    if not ok(good, "refused before listening: %s" % want):
        diag("exit %s, stderr %r" % (getattr(r, "returncode", "timeout"),
                                     getattr(r, "stderr", "")))

tmp.cleanup()
done()
