#!/usr/bin/env python3
"""soak.py — make soak: mixed load (wrk: 90% GET one task, 10% POST) against the real binary on
a throwaway PostgreSQL cluster for SOAK_SECONDS (default 1800), sampling the server's RSS,
descriptors, threads and database connections (pg_stat_activity) every SOAK_INTERVAL seconds
(default 30). After the warm-up (the first fifth, at least one interval) each must be flat: RSS
within 10% + 4 MB of its first post-warm-up sample, descriptors, threads and connections within
+-2. Prints a table and TAP; exit status 0 when flat."""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, ok  # noqa: E402
from tca import App, run  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "1800"))
INTERVAL = int(os.environ.get("SOAK_INTERVAL", "30"))


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return int(out["VmRSS"].split()[0]), int(out["Threads"])


with PgCluster() as pg:
    env = pg.app_env(VTT_LOGLEVEL="warn")
    ok(run(["migrate"], env=env).returncode == 0, "migrate")
    with App(env=env, seed=False) as app:
        status, _, _ = app.json("POST", "/api/task/", {"title": "soak"})
        ok(status == 200, "the app serves (POST 200)")
        wrk = subprocess.Popen(["wrk", "-t2", "-c32", "-d%ds" % SECONDS, "--latency", "-s",
                                os.path.join(HERE, "mixed.lua"), "http://127.0.0.1:%d" % app.port],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        samples, start = [], time.monotonic()
        print("#  time_s   rss_kb  fds  threads  db_conns  tasks", flush=True)
        while wrk.poll() is None and time.monotonic() - start < SECONDS + 60:
            time.sleep(min(INTERVAL, max(1, SECONDS - (time.monotonic() - start))))
            if wrk.poll() is not None or app.proc.poll() is not None:
                break
            rss, threads = proc_status(app.proc.pid)
            fds = len(os.listdir("/proc/%d/fd" % app.proc.pid))
            conns = int(pg.psql("SELECT count(*) FROM pg_stat_activity "
                                "WHERE application_name = 'TechChallengeApp'"))
            tasks = int(pg.psql("SELECT count(*) FROM tasks"))
            t = time.monotonic() - start
            samples.append((t, rss, fds, threads, conns))
            print("# %7.0f %8d %4d %8d %9d %6d" % (t, rss, fds, threads, conns, tasks), flush=True)
        out = wrk.communicate(timeout=120)[0]
        diag(out.strip())
        ok(app.proc.poll() is None, "the server is still running")
        warm = max(1, len(samples) // 5)
        after = samples[warm:]
        ok(len(after) >= 2, "%d samples after a warm-up of %d" % (len(after), warm))
        if after:
            base = after[0]
            rss_max = max(s[1] for s in after)
            ok(rss_max <= base[1] * 1.10 + 4096, "RSS flat: %d..%d kB" %
               (min(s[1] for s in after), rss_max))
            for i, name in ((2, "descriptors"), (3, "threads"), (4, "database connections")):
                lo, hi = min(s[i] for s in after), max(s[i] for s in after)
                ok(hi - lo <= 2, "%s flat: %d..%d" % (name, lo, hi))
        errors = re.search(r"Socket errors: .*", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        ok(not errors and not non2xx, "no failed requests (%s; %s)" %
           (errors and errors.group(0), non2xx and non2xx.group(0)))
        ok(app.stop() == 0, "SIGTERM: exit 0")
done()
