#!/usr/bin/env python3
"""The command line and the operator's view: version/help, config errors (clear message,
non-zero exit, no socket opened), conf.toml and VTT_* precedence, healthcheck, signals."""
import os
import re
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, free_port, refused, run  # noqa: E402

r = run(["--version"])
ok(r.returncode == 0 and re.fullmatch(r"TechChallengeApp version 0\.12\.0 \(git ([0-9a-f]{7,40}|unknown)\)\n",
                                      r.stdout), "--version: the original's words, then the git revision")
ok(r.stdout.split()[:3] == ["TechChallengeApp", "version", "0.12.0"],
   "--version: a script reading the third word still gets X.Y.Z")
r = run(["--help"])
ok(r.returncode == 0 and "serve" in r.stdout and "updatedb" in r.stdout and "migrate" in r.stdout
   and "healthcheck" in r.stdout, "--help lists the commands")
is_(run(["help"]).returncode, 0, "help")
is_(run([]).returncode, 0, "no command prints help")
r = run(["frobnicate"])
ok(r.returncode != 0 and "unknown command 'frobnicate'" in r.stderr, "unknown command: exit != 0")
r = run(["updatedb", "--bogus"], env={"VTT_DBTYPE": "sqlite"})
ok(r.returncode != 0 and "--bogus" in r.stderr, "unknown updatedb option refused")
for command in ("serve", "migrate", "config"):
    # Refused before the configuration is read: a broken conf.toml does not hide the usage error.
    r = run([command, "extra"], env={"VTT_LISTENPORT": "http"})
    ok(r.returncode == 2 and r.stderr == "TechChallengeApp: %s takes no arguments (got 'extra')\n"
       % command, "%s refuses an argument, with exit 2 and one line" % command)


for env, conf, want, what in [
    ({}, '"DbPort" = \n', "conf.toml:1:", "unparseable conf.toml names file and line"),
    ({"VTT_DBTYPE": "mysql"}, None, "DbType", "unknown DbType"),
    ({"VTT_LISTENPORT": "70000"}, None, "ListenPort", "port out of range"),
    ({"VTT_LISTENPORT": "http"}, None, "ListenPort", "port not a number"),
    ({"VTT_DBPASSWORD_FILE": "/nonexistent/secret"}, None, "/nonexistent/secret",
     "unreadable password file"),
    ({"VTT_DBPOOLSIZE": "0"}, None, "DbPoolSize", "pool size 0"),
]:
    good, r = refused(env, conf, want=want)
    if not ok(good, "bad config refused before listening: " + what):
        diag("exit %s, stderr %r" % (getattr(r, "returncode", "timeout"), r.stderr))

r = run(["--config", "/nonexistent/conf.toml", "serve"])
ok(r.returncode != 0 and "/nonexistent/conf.toml" in r.stderr, "--config to a missing file")

# Port in use: clear message, exit non-zero.
with socket.socket() as busy:
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    good, r = refused({"VTT_LISTENPORT": str(busy.getsockname()[1])}, want="in use")
    # `refused` checks nothing else listens; here something does, so check by hand.
    ok(r.returncode != 0 and "cannot listen on 127.0.0.1:%d" % busy.getsockname()[1] in r.stderr
       and "Address already in use" in r.stderr, "port in use: clear message, exit != 0")

# A leftover BoltDB file (not SQLite) is named clearly.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "tasks.db")
    with open(path, "wb") as f:
        f.write(os.urandom(8192))
    r = run(["serve"], env={"VTT_DBTYPE": "boltdb", "VTT_DBPATH": path,
                            "VTT_LISTENPORT": str(free_port())}, cwd=d, timeout=10)
    ok(r.returncode != 0 and "not a SQLite database" in r.stderr, "a non-SQLite file is named")

# conf.toml as the original writes it, overridden by VTT_*; boltdb selects the embedded store.
conf = '"DbType" = "boltdb"\n"ListenHost" = "127.0.0.1"\n"ListenPort" = "1"\n"DbName" = "fromfile"\n'
with App(env={"VTT_DBNAME": "  fromenv  ", "VTT_DBTYPE": ""}, conf_toml=conf) as app:
    status, _, dbg = app.json("GET", "/debug")
    is_((status, dbg["DB"].get("DbName"), dbg["DB"].get("DbType"), dbg.get("Store")),
        (200, "fromenv", "boltdb", "sqlite"),
        "conf.toml read, VTT_* wins and is trimmed, boltdb means the embedded store")

    # healthcheck command
    env = {"VTT_LISTENPORT": str(app.port), "VTT_LISTENHOST": "0.0.0.0", "VTT_DBTYPE": "sqlite"}
    r = run(["healthcheck"], env=env, cwd=app.dir)
    is_(r.returncode, 0, "healthcheck exits 0 against a healthy server (0.0.0.0 -> loopback)")
    r = run(["healthcheck"], env=dict(env, VTT_LISTENPORT=str(free_port())), cwd=app.dir)
    ok(r.returncode == 1 and "unhealthy" in r.stderr, "healthcheck exits 1 when nothing listens")

    # SIGHUP is logged and ignored.
    app.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    ok(app.proc.poll() is None and app.request("GET", "/healthcheck/")[0] == 200,
       "SIGHUP does not stop the server")
    like(app.read_log(), "SIGHUP", "SIGHUP is logged")
    is_(app.stop(signal.SIGINT), 0, "SIGINT: exit 0")

# Graceful drain: a request in flight when SIGTERM arrives still gets its answer.
with App() as app:
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"POST /api/task/ HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n{\"title\":")
    time.sleep(0.2)
    app.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    ok(app.proc.poll() is None, "still draining while a request is in flight")
    s.sendall(b"\"late\"}")
    reply = s.recv(65536)
    s.close()
    ok(reply.startswith(b"HTTP/1.1 200") and b"Connection: close" in reply,
       "the in-flight request is answered, with Connection: close")
    is_(app.proc.wait(10), 0, "then exit 0")

done()
