#!/usr/bin/env python3
"""An external PostgreSQL with TLS verification (DbSslMode verify-full), as the worked example of
docs/postgresql.md runs it: a test cluster with ssl=on and a server certificate for `localhost`
signed by a CA made here with openssl; `migrate` as the owner role, then the GRANTs, then `serve`
as the app role with VTT_DBSSLMODE=verify-full and VTT_DBSSLROOTCERT naming the CA file; a POST
and a GET over a connection that pg_stat_ssl shows encrypted. Then what verification refuses: a
CA that did not sign the server's certificate, a host name the certificate does not name, and no
CA file at all (libpq's default ~/.postgresql/root.crt, absent here)."""
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, run  # noqa: E402


def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr))


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=%s" % name, "-keyout", name + ".key",
            "-out", name + ".crt", cwd=d)


if not shutil.which("openssl"):
    print("1..1\nnot ok 1 - openssl on PATH (deps/apt-pg.txt)")
    sys.exit(1)

certs = tempfile.mkdtemp(prefix="tca-certs.")
try:
    make_ca(certs, "test-ca")
    make_ca(certs, "other-ca")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=certs)
    with open(os.path.join(certs, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "test-ca.crt", "-CAkey", "test-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.crt",
            cwd=certs)
    ca = os.path.join(certs, "test-ca.crt")
    other_ca = os.path.join(certs, "other-ca.crt")

    with PgCluster() as pg:
        # The server's key and certificate, readable by the cluster's owner only.
        for name in ("server.crt", "server.key"):
            dst = os.path.join(pg.dir, name)
            shutil.copy(os.path.join(certs, name), dst)
            os.chmod(dst, 0o600)
            if pg.runas:
                pw = pwd.getpwnam(pg.runas)
                os.chown(dst, pw.pw_uid, pw.pw_gid)
        pg.psql("ALTER SYSTEM SET ssl = on", dbname="postgres")
        pg.psql("ALTER SYSTEM SET ssl_cert_file = '%s/server.crt'" % pg.dir, dbname="postgres")
        pg.psql("ALTER SYSTEM SET ssl_key_file = '%s/server.key'" % pg.dir, dbname="postgres")
        pg.psql("SELECT pg_reload_conf()", dbname="postgres")
        is_(pg.psql("SHOW ssl", dbname="postgres"), "on", "the cluster serves TLS (ssl = on)")

        # The two roles of docs/security.md.
        owner_pw = "owner-" + secrets.token_hex(8)
        app_pw = "app-" + secrets.token_hex(8)
        pg.psql("CREATE ROLE tca_owner LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE"
                % owner_pw, dbname="postgres")
        pg.psql("CREATE ROLE tca_app LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION" % app_pw, dbname="postgres")
        pg.psql("GRANT CONNECT ON DATABASE %s TO tca_owner, tca_app" % pg.dbname)
        pg.psql("GRANT USAGE, CREATE ON SCHEMA public TO tca_owner")

        tls = {"VTT_DBHOST": "localhost", "VTT_DBSSLMODE": "verify-full",
               "VTT_DBSSLROOTCERT": ca}
        owner_env = pg.app_env(VTT_DBUSER="tca_owner", VTT_DBPASSWORD=owner_pw, **tls)
        r = run(["migrate"], env=owner_env)
        if not ok(r.returncode == 0, "migrate as tca_owner over verify-full"):
            diag(r.stdout + r.stderr)
        for grant in ["GRANT USAGE ON SCHEMA public TO tca_app",
                      "GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO tca_app",
                      "GRANT USAGE ON SEQUENCE tasks_id_seq TO tca_app"]:
            pg.psql(grant)

        app_env = pg.app_env(VTT_DBUSER="tca_app", VTT_DBPASSWORD=app_pw, **tls)
        with App(env=app_env, seed=False) as app:
            status, _, body = app.json("POST", "/api/task/", {"title": "over TLS", "priority": 3})
            if not ok(status == 200 and body.get("title") == "over TLS",
                      "serve as tca_app over verify-full: POST 200"):
                diag("%s %r\n%s" % (status, body, app.read_log()))
            status, _, body = app.json("GET", "/api/task/")
            ok(status == 200 and [t["title"] for t in body] == ["over TLS"],
               "GET lists the task")
            status, _, _ = app.request("GET", "/healthcheck/")
            is_(status, 200, "healthcheck 200")
            is_(pg.psql("SELECT bool_and(s.ssl) AND count(*) > 0 FROM pg_stat_ssl s "
                        "JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'tca_app'"),
                "t", "every connection of tca_app is encrypted (pg_stat_ssl)")
        r = run(["migrate"], env=app_env)
        like(r.stderr, "must be owner", "migrate as tca_app is refused (not the owner)")

        # What verification refuses.
        wrong = dict(owner_env, VTT_DBSSLROOTCERT=other_ca)
        r = run(["migrate"], env=wrong)
        ok(r.returncode != 0 and "certificate verify failed" in r.stderr,
           "a CA that did not sign the server certificate: migrate exits %d, '%s'"
           % (r.returncode, r.stderr.strip()[-90:]))
        with App(env=dict(app_env, VTT_DBSSLROOTCERT=other_ca), seed=False) as app:
            status, _, _ = app.request("GET", "/healthcheck/")
            is_(status, 503, "serve with the wrong CA: /healthcheck/ 503")
            status, _, body = app.json("GET", "/api/task/")
            is_(status, 503, "serve with the wrong CA: GET /api/task/ 503")
            like(app.read_log(), "certificate verify failed", "the log names the cause")
            ok(app_pw not in app.read_log(), "the password is not in the log")

        r = run(["migrate"], env=dict(owner_env, VTT_DBHOST="127.0.0.1"))
        ok(r.returncode != 0 and "does not match host name" in r.stderr,
           "a host name the certificate does not name: refused, '%s'"
           % r.stderr.strip()[-90:])

        home = tempfile.mkdtemp(prefix="tca-home.")
        try:
            r = run(["migrate"], env=dict(owner_env, VTT_DBSSLROOTCERT="", HOME=home))
            ok(r.returncode != 0 and "root certificate file" in r.stderr,
               "no DbSslRootCert and no ~/.postgresql/root.crt: refused, '%s'"
               % r.stderr.strip()[-90:])
        finally:
            shutil.rmtree(home, ignore_errors=True)
finally:
    shutil.rmtree(certs, ignore_errors=True)
done()
