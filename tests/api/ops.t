#!/usr/bin/env python3
"""What operators use besides the API: `config` (every key with its value and its source,
secrets masked) and the same on the start-up log line; liveness (/livez, `healthcheck --live`)
apart from readiness; `healthcheck` refusing unknown arguments; /swagger without its slash;
DbPoolSize above SQLite's reader cap said in the log."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import done, is_, like, ok  # noqa: E402
from tca import App, free_port, run  # noqa: E402

CANARY = "canary-ops-Pw-5e1d"

# --- config: values and sources ---
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "conf.toml"), "w") as f:
        f.write('# a comment\n"DbHost" = "db.internal"\nlistenport = 8080\n"DbPassword" = "%s"\n'
                % CANARY)
    pwfile = os.path.join(d, "pw")
    with open(pwfile, "w") as f:
        f.write(CANARY + "-file\n")
    r = run(["config"], env={"VTT_DBNAME": "fromenv", "VTT_DBPASSWORD_FILE": pwfile}, cwd=d)
    is_(r.returncode, 0, "config exits 0")
    rows = {}
    for line in r.stdout.splitlines():
        if line.startswith("#"):
            continue
        key_value, _, source = line.partition(" # ")
        key, _, value = key_value.partition(" = ")
        rows[key.strip('"')] = (value.strip().strip('"'), source)
    is_(rows.get("DbHost"), ("db.internal", "conf.toml:2"), "a value from conf.toml names its line")
    is_(rows.get("ListenPort"), ("8080", "conf.toml:3"), "keys match case-insensitively")
    is_(rows.get("DbName"), ("fromenv", "VTT_DBNAME"), "a value from the environment names it")
    is_(rows.get("DbPort"), ("5432", "default"), "a default says so")
    is_(rows.get("DbPassword"), ("********", "VTT_DBPASSWORD_FILE"),
        "the password is masked and its file named as the source")
    is_(rows.get("DbUser"), ("********", "default"), "DbUser masked, as in /debug")
    is_(len(rows), 24, "every key is listed")
    ok(CANARY not in r.stdout + r.stderr, "the password appears nowhere")
    like(r.stdout.splitlines()[0], "# TechChallengeApp 0.12.0 (git ", "a header names the build")
    other = os.path.join(d, "other.toml")
    with open(other, "w") as f:
        f.write('\n\n"DbName" = "elsewhere"\n')
    r = run(["--config", other, "config"], cwd=d)
    like(r.stdout, '"DbName" = "elsewhere"', "--config PATH: its values")
    like(r.stdout, "# %s:3\n" % other, "--config PATH: the source names that file and line")
    r = run(["config", "extra"], cwd=d)
    ok(r.returncode == 2 and "config takes no arguments" in r.stderr, "config refuses arguments")

# --- the start-up log line, liveness, healthcheck arguments, /swagger ---
with App(env={"VTT_DBPASSWORD": CANARY, "VTT_DBPOOLSIZE": "100"}) as app:
    lines = [r for r in app.log_records() if isinstance(r, dict)
             and r.get("msg", "").startswith("starting TechChallengeApp 0.12.0 (")]
    is_(len(lines), 1, "one start-up line")
    like(lines[0]["msg"] if lines else "", ", store sqlite, configuration: DbUser=******** "
         "(default), DbPassword=", "carries the configuration")
    msg = lines[0]["msg"] if lines else ""
    like(msg, "DbPassword=******** (VTT_DBPASSWORD)", "with the password masked, and its source")
    like(msg, "DbPort=5432 (default)", "with defaults")
    like(msg, "DbPoolSize=100 (VTT_DBPOOLSIZE)", "with the environment's values")
    ok(CANARY not in app.read_log(), "the password is not in the log")
    like(app.read_log(), "DbPoolSize 100 is more than the 64 readers the embedded store opens: "
         "using 64", "DbPoolSize above SQLite's cap is said at start-up")

    for path in ("/livez", "/livez/"):
        status, headers, body = app.request("GET", path)
        is_((status, headers.get("content-type"), body),
            (200, "text/plain; charset=utf-8", b"OK"), "GET %s: 200 OK, text/plain" % path)
    status, headers, _ = app.request("POST", "/livez/")
    is_((status, headers.get("allow")), (405, "GET, HEAD"), "POST /livez/: 405 with Allow")
    like(app.request("GET", "/metrics")[2].decode(), 'route="/livez/",method="GET",status="200"',
         "/livez/ has its own route label in /metrics")

    env = {"VTT_LISTENPORT": str(app.port), "VTT_DBTYPE": "sqlite"}
    r = run(["healthcheck", "--live"], env=env, cwd=app.dir)
    is_((r.returncode, r.stdout), (0, "healthy\n"), "healthcheck --live: exit 0")
    r = run(["healthcheck", "--live"], env=dict(env, VTT_LISTENPORT=str(free_port())),
            cwd=app.dir)
    ok(r.returncode == 1 and "unhealthy" in r.stderr, "healthcheck --live: exit 1 when nothing "
       "listens")
    for args in (["--bogus"], ["extra"], ["--live", "x"]):
        r = run(["healthcheck"] + args, env=env, cwd=app.dir)
        ok(r.returncode == 2 and "usage: healthcheck [--live]" in r.stderr,
           "healthcheck %s: usage error, exit 2" % " ".join(args))

    for method in ("GET", "HEAD"):
        status, headers, body = app.request(method, "/swagger")
        is_((status, headers.get("location"), body), (301, "/swagger/", b""),
            "%s /swagger redirects to /swagger/" % method)
    status, headers, body = app.request("GET", "/swagger/")
    ok(status == 200 and headers.get("content-type", "").startswith("text/html"),
       "/swagger/ serves the page")
    is_(app.request("GET", "/css")[0], 404, "a directory without an index page stays 404")
    is_(app.request("GET", "/nope")[0], 404, "an unknown path stays 404")

done()
