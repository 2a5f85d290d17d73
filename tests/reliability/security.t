#!/usr/bin/env python3
"""Security: headers on every kind of response (200, 204, 304, 400, 404, 405, 413, 503), no
wildcard CORS, TRACE refused; a canary password never shows in the log (at debug level), in
/debug, in /metrics or in any response, with a working and with a failing PostgreSQL
connection; the app runs with a plain database role (no superuser: the grants of
docs/security.md); SQL injection strings are stored verbatim on PostgreSQL."""
import os
import secrets
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, is_, ok  # noqa: E402
from tca import App, run  # noqa: E402

WANT = {"content-security-policy": "default-src 'self'", "x-content-type-options": "nosniff",
        "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def headers_ok(name, status, hdrs, want_status):
    good = status == want_status and all(v in hdrs.get(k, "") for k, v in WANT.items()) and \
        hdrs.get("access-control-allow-origin") in (None,) and "x-request-id" in hdrs
    if not ok(good, "%s: %s with the security headers, no CORS" % (name, status)):
        diag("got %s %r" % (status, hdrs))


def all_kinds(app, unavailable):
    ev = {"Origin": "http://evil.example"}
    status, hdrs, _ = app.request("GET", "/api/task/", headers=ev)
    headers_ok("GET list", status, hdrs, unavailable or 200)
    status, hdrs, _ = app.request("GET", "/", headers=ev)
    headers_ok("GET /", status, hdrs, 200)
    status, hdrs, _ = app.request("GET", "/", headers={"If-None-Match": hdrs.get("etag", "x")})
    headers_ok("GET / If-None-Match", status, hdrs, 304)
    status, hdrs, _ = app.request("OPTIONS", "/api/task/", headers=dict(ev, **{
        "Access-Control-Request-Method": "DELETE"}))
    headers_ok("OPTIONS preflight", status, hdrs, 204)
    status, hdrs, _ = app.request("GET", "/nope")
    headers_ok("404", status, hdrs, 404)
    status, hdrs, _ = app.request("TRACE", "/")
    headers_ok("TRACE", status, hdrs, 405)
    status, hdrs, _ = app.request("POST", "/api/task/", b"{" + b" " * 20000 + b"}")
    headers_ok("413", status, hdrs, 413)
    status, hdrs, _ = app.request("GET", "/api/task/abc/")
    headers_ok("400", status, hdrs, 400)


with App() as app:
    all_kinds(app, None)
    status, hdrs, _ = app.request("DELETE", "/api/task/1/")
    headers_ok("DELETE", status, hdrs, 204)
    is_(app.stop_status(), 0, "SIGTERM: exit 0")

with PgCluster() as pg:
    canary = "Canary-" + secrets.token_hex(8)
    owner_pw = "owner-" + secrets.token_hex(8)
    # The migration role: owns the table (CREATE INDEX needs ownership), no superuser.
    pg.psql("CREATE ROLE tca_owner LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE"
            % owner_pw, dbname="postgres")
    pg.psql("GRANT CONNECT ON DATABASE %s TO tca_owner" % pg.dbname)
    pg.psql("GRANT USAGE, CREATE ON SCHEMA public TO tca_owner")
    r = run(["migrate"], env=pg.app_env(VTT_DBUSER="tca_owner", VTT_DBPASSWORD=owner_pw))
    if not ok(r.returncode == 0, "migrate as a plain owner role (USAGE, CREATE on the schema)"):
        diag(r.stdout + r.stderr)
    # The serving role: data access only.
    pg.psql("CREATE ROLE tca_app LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE "
            "NOREPLICATION" % canary, dbname="postgres")
    for grant in ["GRANT CONNECT ON DATABASE %s TO tca_app" % pg.dbname,
                  "GRANT USAGE ON SCHEMA public TO tca_app",
                  "GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO tca_app",
                  "GRANT USAGE ON SEQUENCE tasks_id_seq TO tca_app"]:
        pg.psql(grant)
    env = pg.app_env(VTT_DBUSER="tca_app", VTT_DBPASSWORD=canary, VTT_LOGLEVEL="debug")
    r = run(["migrate"], env=env)
    ok(r.returncode != 0 and "must be owner" in r.stderr and canary not in r.stdout + r.stderr,
       "migrate as the serving role is refused (%s), password not shown"
       % r.stderr.strip()[-60:])
    is_(pg.psql("SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles "
                "WHERE rolname IN ('tca_app', 'tca_owner')"), "f\nf", "neither role is a superuser")

    bodies = []
    with App(env=env, seed=False) as app:
        is_(app.request("GET", "/healthcheck/")[0], 200, "serve as the plain role: healthy")
        for title in ["'); DROP TABLE tasks;--", "1' OR '1'='1", "$1", "\\x00 \\' E'\\\\'",
                      "'; SELECT pg_sleep(10);--", "%s%n", "Robert'); DROP TABLE students;--"]:
            status, _, task = app.json("POST", "/api/task/", {"title": title})
            got = app.json("GET", "/api/task/%d/" % task["id"])[2] if status == 200 else None
            ok(status == 200 and got["title"] == title, "stored verbatim on PostgreSQL: %r" % title)
        is_(app.json("PATCH", "/api/task/1/", {"complete": True})[0], 200, "update as the role")
        is_(app.request("DELETE", "/api/task/2/")[0], 204, "delete as the role")
        all_kinds(app, None)
        for path in ("/debug", "/metrics", "/api/task/", "/nope"):
            bodies.append(app.request("GET", path)[2])
        pg.crash()
        all_kinds(app, 503)
        status, hdrs, body = app.request("GET", "/healthcheck/")
        headers_ok("health while the database is down", status, hdrs, 503)
        for path in ("/debug", "/metrics", "/api/task/"):
            bodies.append(app.request("GET", path)[2])
        pg.resume()
        log = app.read_log()
    ok("level\":\"debug" in log, "the log was at debug level")
    ok(canary not in log and not any(canary.encode() in b for b in bodies),
       "working role: the password is in no log line (debug), /debug, /metrics or body")

    wrong = "Canary-" + secrets.token_hex(8)
    bodies = []
    with App(env=dict(env, VTT_DBPASSWORD=wrong), seed=False) as app:
        is_(app.request("GET", "/healthcheck/")[0], 503, "wrong password: health 503")
        for path in ("/debug", "/metrics", "/api/task/", "/api/task/1/"):
            bodies.append(app.request("GET", path)[2])
        bodies.append(app.request("POST", "/api/task/", {"title": "x"})[2])
        log = app.read_log()
    ok("password authentication failed" in log, "failing connection: the log says why")
    ok(wrong not in log and canary not in log and not any(wrong.encode() in b for b in bodies),
       "failing connection: the password is in no log line (debug), /debug, /metrics or body")
done()
