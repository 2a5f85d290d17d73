#!/usr/bin/env python3
"""bench.py — `make bench` and `make bench-quick`: TechChallengeApp against the ceilings of what
it stands on, measured side by side in one run.

Every scenario runs against the app and against its reference in the same round, rounds repeat
(configurations interleaved, so slow drifts of a shared machine hit all of them alike), and the
table shows medians: req/s, p50/p99 latency, errors, peak RSS, and the median of the per-round
ratios app/reference.

  app, PostgreSQL   a fresh `TechChallengeApp serve` per run on a throwaway cluster
  app, embedded     the same on a SQLite file
  pgbench           the same SQL, prepared (-M prepared), same concurrency, 2 threads (as wrk)
  nginx             a file with the same bytes as the app's response, 2 workers, access log on

Load comes from wrk (2 threads) on 127.0.0.1; the load generator, the server and PostgreSQL
share the machine's cores. Every loop is bounded: runs x scenarios x concurrencies, each run
--seconds long with a hard timeout.

  bench/bench.py                     full run, writes docs/BENCHMARKS.md and docs/benchmarks.png
  bench/bench.py --quick             a subset at c=64 (about 2-3 minutes), writes build/bench/
  bench/bench.py --runs 5 --seconds 8 --conc 64
"""
import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from pgcluster import PgCluster  # noqa: E402

BIN = os.environ.get("TCA_BIN") or os.path.join(ROOT, "build", "TechChallengeApp")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
WRK_THREADS = 2

# name: (title, path, wrk script, dataset, pgbench script, nginx file)
SCENARIOS = {
    "list3": ("GET list, 3 tasks", "/api/task/", "get.lua", "d3", "list.sql", "list3.json"),
    "list1000": ("GET list, 1,000 tasks", "/api/task/", "get.lua", "d1000", "list.sql",
                 "list1000.json"),
    "post": ("POST a task", "/api/task/", "post.lua", "dpost", "insert.sql", None),
    "mixed": ("mixed 90% GET list / 10% PUT", "/api/task/", "mixed.lua", "d3", "mixed.sql", None),
    "get1": ("GET one task", "/api/task/2/", "get.lua", "d3", "get.sql", "one.json"),
    "static": ("static index (GET /)", "/", "get.lua", "d3", None, "index.html"),
}
STORES = ("pg", "sqlite")
STORE_NAMES = {"pg": "PostgreSQL", "sqlite": "embedded (SQLite)"}

# 1,000 tasks: varied titles (10 to 74 bytes), priorities 0..9, every third one complete.
LETTERS = "abcdefgh" * 8
FILL_SQL = ("INSERT INTO tasks (completed, priority, title) SELECT i %% 3 = 0, i %% 10, "
            "'Task ' || i || ': ' || substr('%s', 1, 8 * (1 + i %% 8)) FROM %s")
PG_SERIES = "generate_series(4, 1000) AS g(i)"
SQLITE_SERIES = ("(WITH RECURSIVE s(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM s "
                 "WHERE i < 1000) SELECT i FROM s)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    """A field of /proc/PID/status in kB (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_get(port, path, timeout=5.0):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read()


class PgBench(PgCluster):
    """The test cluster, with room for pgbench -c 256 next to the app's pool, and fsync on as in
    production (the tests turn it off for speed). TCP connections from 127.0.0.1 are trusted:
    pgbench makes its connections inside its timed run, and SCRAM costs tens of ms per
    connection on a busy machine (2.6 s for 64 connections seen here)."""

    def start(self):
        super().start()
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self._ctl(["reload"])
        return self

    def _ctl_start(self):
        opts = ("-k %s -p %d -c listen_addresses=127.0.0.1 -c max_connections=400 "
                "-c shared_buffers=128MB" % (self.dir, self.port))
        r = self._as_owner([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.log_path,
                            "-w", "-t", "60", "-o", opts, "start"], timeout=90)
        return r.returncode == 0


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="tca-bench.")
        os.chmod(self.tmp, 0o755)  # nginx workers run as nobody
        self.pg = None
        self.nginx = None
        self.nginx_port = None
        self.results = {}  # key -> list of per-round dicts
        self.extra = {}

    # ---- set-up ----

    def app_env(self, store, dataset, port, loglevel="info"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VTT_")}
        env.update({"VTT_LISTENHOST": "127.0.0.1", "VTT_LISTENPORT": str(port),
                    "VTT_LOGFORMAT": "json", "VTT_LOGLEVEL": loglevel})
        if store == "pg":
            env.update(self.pg.app_env(VTT_DBNAME=dataset))
        else:
            env.update({"VTT_DBTYPE": "sqlite",
                        "VTT_DBPATH": os.path.join(self.tmp, dataset + ".db")})
        env.update(self.args.app_env)
        return env

    def tool(self, store, dataset, *argv):
        r = subprocess.run([BIN] + list(argv), env=self.app_env(store, dataset, 0),
                           cwd=self.tmp, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("%s %s failed: %s%s" % (BIN, " ".join(argv), r.stdout, r.stderr))

    def setup_data(self):
        log("bench: PostgreSQL cluster and datasets")
        self.pg = PgBench(dbname="d3")
        self.pg.start()
        for d in ("d1000", "dpost"):
            self.pg.psql("CREATE DATABASE %s" % d, dbname="postgres")
        for store in STORES:
            for d in ("d3", "d1000", "dpost"):
                self.tool(store, d, "updatedb", "-s")
        self.pg.psql(FILL_SQL % (LETTERS, PG_SERIES), dbname="d1000")
        self.pg.psql("VACUUM ANALYZE tasks", dbname="d1000")
        subprocess.run(["sqlite3", os.path.join(self.tmp, "d1000.db"),
                        FILL_SQL % (LETTERS, SQLITE_SERIES)], check=True, timeout=60)

        # The nginx files: the app's own response bodies, the same from either store.
        www = os.path.join(self.tmp, "www")
        os.mkdir(www)
        os.chmod(www, 0o755)
        self.body_len = {}
        for scen in ("list3", "list1000", "get1", "static"):
            _, path, _, dataset, _, fname = SCENARIOS[scen]
            bodies = []
            for store in STORES:
                with AppProc(self, store, dataset) as app:
                    bodies.append(http_get(app.port, path)[1])
            if bodies[0] != bodies[1]:
                raise RuntimeError("%s: the two stores answer different bytes" % scen)
            with open(os.path.join(www, fname), "wb") as f:
                f.write(bodies[0])
            self.body_len[scen] = len(bodies[0])
        log("bench: response sizes %s" % self.body_len)

    def start_nginx(self):
        self.nginx_port = free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""
worker_processes 2;
daemon off;
pid %(t)s/nginx.pid;
error_log %(t)s/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log %(t)s/nginx-access.log;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 100000000;
    types { application/json json; text/html html; }
    server {
        listen 127.0.0.1:%(p)d;
        root %(t)s/www;
    }
}
""" % {"t": self.tmp, "p": self.nginx_port})
        self.nginx = subprocess.Popen(["nginx", "-p", self.tmp, "-c", conf, "-e",
                                       os.path.join(self.tmp, "nginx-error.log")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if http_get(self.nginx_port, "/list3.json")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def cleanup(self):
        if self.nginx:
            self.nginx.terminate()
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        if self.pg:
            self.pg.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- one run of each kind ----

    def wrk(self, port, path, script, conc):
        env = dict(os.environ, BENCH_LUA=os.path.join(HERE, "wrk"))
        secs = self.args.seconds
        argv = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % conc, "-d%ds" % secs, "--timeout", "5s",
                "-s", os.path.join(HERE, "wrk", script), "http://127.0.0.1:%d%s" % (port, path)]
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=secs + 60)
        for line in r.stdout.splitlines():
            if line.startswith("BENCH "):
                d = json.loads(line[6:])
                return {"rps": d["requests"] / (d["duration_us"] / 1e6),
                        "p50": d["p50_us"] / 1000, "p99": d["p99_us"] / 1000,
                        "errors": d["errors"]}
        raise RuntimeError("wrk said: %s %s" % (r.stdout, r.stderr))

    def run_app(self, store, scen, conc, loglevel="info"):
        _, path, script, dataset, _, _ = SCENARIOS[scen]
        with AppProc(self, store, dataset, loglevel) as app:
            cpu0 = cpu_seconds(app.proc.pid)
            res = self.wrk(app.port, path, script, conc)
            res["cpu_us"] = (cpu_seconds(app.proc.pid) - cpu0) * 1e6 / max(
                1, res["rps"] * self.args.seconds)
            res["rss_kb"] = proc_status(app.proc.pid, "VmHWM")
            res["errors"] += app.stop()  # a crash or an unclean exit is an error too
        return res

    def run_nginx(self, scen, conc):
        fname = SCENARIOS[scen][5]
        res = self.wrk(self.nginx_port, "/" + fname, "get.lua", conc)
        open(os.path.join(self.tmp, "nginx-access.log"), "w").close()  # keep the disk free
        return res

    def run_pgbench(self, scen, conc):
        _, _, _, dataset, script, _ = SCENARIOS[scen]
        work = tempfile.mkdtemp(dir=self.tmp)
        secs = self.args.seconds
        argv = [os.path.join(PG_BIN, "pgbench"), "-n", "-M", "prepared", "-c", str(conc),
                # pgbench makes its connections inside -T (about 10 ms each here, per
                # thread); its tps excludes that time, so give it room to run for secs.
                "-j", str(WRK_THREADS), "-T", str(secs + conc // 32), "-f", os.path.join(HERE, "pgbench",
                                                                            script),
                "-l", "--sampling-rate", "0.1", "-h", self.pg.host, "-p", str(self.pg.port),
                "-U", self.pg.user, dataset]
        env = dict(os.environ, PGPASSWORD=self.pg.password)
        r = subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True,
                           timeout=secs + 120)
        tps = failed = None
        for line in r.stdout.splitlines():
            if line.startswith("tps = ") and "without initial" in line:
                tps = float(line.split()[2])
            if line.startswith("number of failed transactions"):
                failed = int(line.split(":")[1].split()[0])
        if r.returncode != 0 or tps is None:
            raise RuntimeError("pgbench failed: %s %s" % (r.stdout, r.stderr))
        lat = []
        for name in os.listdir(work):
            with open(os.path.join(work, name)) as f:
                lat.extend(int(line.split()[2]) for line in f if line.strip())
        shutil.rmtree(work, ignore_errors=True)
        lat.sort()
        pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000) if lat else \
            (lambda q: float("nan"))
        return {"rps": tps, "p50": pct(0.50), "p99": pct(0.99), "errors": failed or 0}

    # ---- the plan ----

    def jobs(self):
        """One round: for each scenario and concurrency, the app on each store, then the
        references, back to back."""
        out = []
        for scen in self.args.scenarios:
            for conc in self.args.conc:
                stores = ["sqlite"] if scen == "static" else self.args.stores
                for store in stores:
                    if (store, scen) in self.args.skip:
                        continue
                    out.append(("app", store, scen, conc, "info"))
                    if scen == "list3" and conc == 64 and self.args.log_cost:
                        out.append(("app", store, scen, conc, "warn"))
                if SCENARIOS[scen][4] and "pg" in stores and ("pg", scen) not in self.args.skip:
                    out.append(("pgbench", None, scen, conc, None))
                if SCENARIOS[scen][5] and (scen in ("list3", "static") or not self.args.quick):
                    out.append(("nginx", None, scen, conc, None))
        return out

    def run(self):
        jobs = self.jobs()
        log("bench: %d runs per round, %d rounds of %d s runs" % (len(jobs), self.args.runs,
                                                                  self.args.seconds))
        self.load_before = os.getloadavg()
        for rnd in range(self.args.runs):
            for job in jobs:
                kind, store, scen, conc, variant = job
                if kind == "app":
                    res = self.run_app(store, scen, conc, variant)
                elif kind == "pgbench":
                    res = self.run_pgbench(scen, conc)
                else:
                    res = self.run_nginx(scen, conc)
                res["round"] = rnd
                self.results.setdefault(job, []).append(res)
                log("  round %d %-7s %-6s %-8s c=%-3d %-4s %9.0f req/s p50 %6.2f p99 %7.2f ms "
                    "err %d%s" % (rnd + 1, kind, store or "", scen, conc, variant or "",
                                  res["rps"], res["p50"], res["p99"], res["errors"],
                                  " rss %d kB" % res["rss_kb"] if res.get("rss_kb") else ""))
        self.load_after = os.getloadavg()

    def startup_once(self, store):
        """bench/startup.c: exec -> first 200 on GET /api/task/; returns (ms, idle RSS kB)."""
        helper = os.path.join(ROOT, "build", "bench-startup")
        src = os.path.join(HERE, "startup.c")
        if not os.path.exists(helper) or os.path.getmtime(helper) < os.path.getmtime(src):
            subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-o", helper, src],
                           check=True)
        port = free_port()
        env = self.app_env(store, "d3", port)
        out_path = os.path.join(self.tmp, "startup.out")
        with open(out_path, "w") as out, open(os.path.join(self.tmp, "app.log"), "w") as logf:
            subprocess.run([helper, str(port), "/api/task/", BIN, "serve"], env=env,
                           cwd=self.tmp, stdout=out, stderr=logf, timeout=60)
        with open(out_path) as f:
            fields = f.read().split()
        pid = int(fields[-1])
        time.sleep(0.2)
        rss = proc_status(pid, "VmRSS")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            try:  # reap it if it is our child's orphan adopted by us; else just wait
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.01)
        if fields[0] == "timeout":
            raise RuntimeError("the app did not answer 200 within 15 s")
        return float(fields[0]), rss

    def measure_startup(self, n=10):
        """exec -> first 200 on GET /api/task/, idle RSS, binary size."""
        for store in self.args.stores:
            times, rss = [], []
            for _ in range(n):
                ms, kb = self.startup_once(store)
                times.append(ms)
                rss.append(kb)
            self.extra["startup_" + store] = (statistics.median(times), max(times))
            self.extra["rss_idle_" + store] = statistics.median(rss)
        stripped = os.path.join(self.tmp, "stripped")
        shutil.copy(BIN, stripped)
        subprocess.run(["strip", stripped], check=True)
        self.extra["size"] = os.path.getsize(BIN)
        self.extra["size_stripped"] = os.path.getsize(stripped)


class AppProc:
    """A fresh `TechChallengeApp serve`, ready once GET /healthcheck/ says 200 (not the list: the
    POST dataset grows to tens of thousands of tasks, and reading them would inflate peak RSS)."""

    def __init__(self, bench, store, dataset, loglevel="info"):
        self.bench = bench
        self.port = free_port()
        self.env = bench.app_env(store, dataset, self.port, loglevel)
        self.log_path = os.path.join(bench.tmp, "app.log")
        self.proc = None

    def __enter__(self):
        logf = open(self.log_path, "wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env, cwd=self.bench.tmp,
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()
        req = b"GET /healthcheck/ HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
        deadline = t0 + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.sendall(req)
                    if s.recv(16).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the app did not start; log:\n" + self.log_tail())
            time.sleep(0.0002)
        self.startup_ms = (time.perf_counter() - t0) * 1000
        return self

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self):
        """SIGTERM; returns 1 if the app did not exit 0 (counted as an error), else 0."""
        if not self.proc or self.proc.returncode is not None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if rc != 0:
            log("bench: the app exited %d; log:\n%s" % (rc, self.log_tail()))
        return 0 if rc == 0 else 1

    def __exit__(self, *exc):
        self.stop()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


# ---- report ----

def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def ratio(app_runs, ref_runs):
    """Median of the per-round ratios (app and reference measured back to back)."""
    if not app_runs or not ref_runs:
        return None
    refs = {r["round"]: r["rps"] for r in ref_runs}
    rs = [a["rps"] / refs[a["round"]] for a in app_runs if refs.get(a["round"])]
    return statistics.median(rs) if rs else None


def fmt(v, spec, none="—"):
    return none if v is None else format(v, spec)


def report(b):
    a = b.args
    R = b.results
    lines = []
    head = ("| store | scenario | c | req/s | p50 ms | p99 ms | errors | peak RSS MB | "
            "pgbench tps | × pgbench | nginx req/s | × nginx |")
    lines += [head, "|" + "---|" * 12]
    for scen in a.scenarios:
        stores = ["sqlite"] if scen == "static" else a.stores
        for store in stores:
            for conc in a.conc:
                for variant in ("info", "warn"):
                    app = R.get(("app", store, scen, conc, variant))
                    if not app:
                        continue
                    pgb = R.get(("pgbench", None, scen, conc, None)) if store == "pg" else None
                    ngx = R.get(("nginx", None, scen, conc, None))
                    rss = max((r["rss_kb"] or 0) for r in app) / 1024
                    name = SCENARIOS[scen][0] + (" (LogLevel=warn)" if variant == "warn" else "")
                    lines.append("| %s | %s | %d | %s | %s | %s | %d | %.1f | %s | %s | %s | %s |" % (
                        STORE_NAMES[store], name, conc, fmt(med(app, "rps"), ".0f"),
                        fmt(med(app, "p50"), ".2f"), fmt(med(app, "p99"), ".2f"),
                        sum(r["errors"] for r in app), rss,
                        fmt(med(pgb, "rps") if pgb else None, ".0f"),
                        fmt(ratio(app, pgb), ".2f"),
                        fmt(med(ngx, "rps") if ngx else None, ".0f"),
                        fmt(ratio(app, ngx), ".2f")))
    refs = ["", "References (same runs): p50/p99 ms and errors", "",
            "| reference | scenario | c | req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|---|"]
    for kind in ("pgbench", "nginx"):
        for scen in a.scenarios:
            for conc in a.conc:
                runs = R.get((kind, None, scen, conc, None))
                if runs:
                    refs.append("| %s | %s | %d | %.0f | %.2f | %.2f | %d |" % (
                        kind, SCENARIOS[scen][0], conc, med(runs, "rps"), med(runs, "p50"),
                        med(runs, "p99"), sum(r["errors"] for r in runs)))
    return lines + refs


def targets(b):
    R = b.results
    out = []

    def check(label, ok, detail):
        out.append("- %s %s: %s" % ("met" if ok else "**not met**", label, detail))

    def r(store, scen, conc, ref):
        app = R.get(("app", store, scen, conc, "info"))
        refr = R.get((ref, None, scen, conc, None))
        return ratio(app, refr), app

    x, _ = r("pg", "list3", 64, "pgbench")
    if x is not None:
        check("GET list, PostgreSQL, 3 tasks, c=64 >= 0.6x pgbench (aim 1.0x)", x >= 0.6, "%.2fx" % x)
    for conc in b.args.conc:
        x, _ = r("pg", "post", conc, "pgbench")
        if x is not None:
            check("POST, PostgreSQL, c=%d >= 0.6x pgbench INSERT" % conc, x >= 0.6, "%.2fx" % x)
    for conc in b.args.conc:
        x, _ = r("pg", "list1000", conc, "pgbench")
        if x is not None:
            check("GET list 1,000 tasks, c=%d >= 1.0x pgbench" % conc, x >= 1.0, "%.2fx" % x)
    x, app = r("sqlite", "list3", 64, "nginx")
    if x is not None:
        p99 = med(app, "p99")
        check("embedded GET list, c=64 >= 0.8x nginx, p99 <= 5 ms", x >= 0.8 and p99 <= 5,
              "%.2fx, p99 %.2f ms" % (x, p99))
    for conc in b.args.conc:
        x, _ = r("sqlite", "static", conc, "nginx")
        if x is not None:
            check("static index, c=%d >= 0.8x nginx" % conc, x >= 0.8, "%.2fx" % x)
    rss = [max(rr["rss_kb"] or 0 for rr in runs) for k, runs in R.items()
           if k[0] == "app" and k[3] == 256]
    if rss:
        check("RSS <= 15 MB at c=256", max(rss) <= 15 * 1024, "peak %.1f MB" % (max(rss) / 1024))
    for store in b.args.stores:
        s = b.extra.get("startup_" + store)
        if s:
            check("exec -> first 200 <= 5 ms (%s)" % STORE_NAMES[store], s[0] <= 5,
                  "median %.1f ms, max %.1f ms" % s)
    errs = sum(rr["errors"] for k, runs in R.items() if k[0] == "app" for rr in runs)
    check("no errors in any run", errs == 0, "%d" % errs)
    return out


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return ["- CPU: %d × %s; kernel %s" % (os.cpu_count(), model, platform.release()),
            "- %s; %s; %s" % (version(["wrk", "-v"]).split(" Copyright")[0],
                              version(["nginx", "-v"]),
                              version([os.path.join(PG_BIN, "pgbench"), "--version"]))]


def plot(b, png):
    a = b.args
    if len(a.conc) < 2 or not shutil.which("gnuplot"):
        return False
    series = [("app", "pg", "list3", "ours, PostgreSQL, list 3"),
              ("pgbench", None, "list3", "pgbench, list 3"),
              ("app", "sqlite", "list3", "ours, embedded, list 3"),
              ("nginx", None, "list3", "nginx, same bytes as list 3"),
              ("app", "pg", "list1000", "ours, PostgreSQL, list 1,000"),
              ("pgbench", None, "list1000", "pgbench, list 1,000"),
              ("app", "pg", "post", "ours, PostgreSQL, POST"),
              ("pgbench", None, "post", "pgbench, INSERT")]
    series = [s for s in series if any(b.results.get((s[0], s[1], s[2], c, "info" if s[0] == "app" else None)) for c in a.conc)]
    dat = os.path.join(b.tmp, "plot.dat")
    with open(dat, "w") as f:
        for conc in a.conc:
            row = [str(conc)]
            for kind, store, scen, _ in series:
                runs = b.results.get((kind, store, scen, conc, "info" if kind == "app" else None))
                row += ["%.1f %.3f" % (med(runs, "rps"), med(runs, "p99"))] if runs else ["NaN NaN"]
            f.write(" ".join(row) + "\n")
    gp = ['set terminal pngcairo size 1400,560 font "sans,10"' if _has_cairo() else
          'set terminal png size 1400,560', 'set output "%s"' % png,
          'set multiplot layout 1,2 title "TechChallengeApp vs references (median of %d runs)"' % a.runs,
          'set logscale x 2', 'set xtics (%s)' % ", ".join(str(c) for c in a.conc),
          'set xrange [%g:%g]' % (min(a.conc) / 1.3, max(a.conc) * 1.3),
          'set xlabel "concurrent connections"', 'set key outside bottom center maxrows 4 font ",9"',
          'set grid', 'set logscale y', 'set ylabel "requests/s"', 'set title "throughput"']
    colors = {("pg", "list3"): 1, ("sqlite", "list3"): 2, ("pg", "list1000"): 3,
              ("pg", "post"): 4, (None, "list3"): 1, (None, "list1000"): 3, (None, "post"): 4}

    def style(s):  # a reference is dashed, in the colour of what it is the ceiling of
        color = colors[(s[1], s[2])] if s[0] != "nginx" else 2
        return "lc %d dt %d" % (color, 1 if s[0] == "app" else 2)
    cols = ", ".join('"%s" using 1:%d with linespoints lw 2 %s title "%s"' % (
        dat, 2 + 2 * i, style(s), s[3]) for i, s in enumerate(series))
    gp.append("plot " + cols)
    gp += ['set ylabel "p99 latency, ms"', 'set title "p99 latency"']
    cols = ", ".join('"%s" using 1:%d with linespoints lw 2 %s title "%s"' % (
        dat, 3 + 2 * i, style(s), s[3]) for i, s in enumerate(series))
    gp.append("plot " + cols)
    gp.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        log("gnuplot: " + r.stderr)
    return r.returncode == 0


def _has_cairo():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in r.stdout + r.stderr


def write_outputs(b):
    a = b.args
    table = report(b)
    tgt = targets(b)
    e = b.extra
    startup = []
    for store in a.stores:
        if "startup_" + store in e:
            startup.append("- %s: exec → first 200 median %.1f ms (max %.1f of 10); idle RSS %.1f MB"
                           % ((STORE_NAMES[store],) + e["startup_" + store] +
                              (e["rss_idle_" + store] / 1024,)))
    if "size" in e:
        startup.append("- binary: %d bytes (%d stripped); the UI is embedded in it" %
                       (e["size"], e["size_stripped"]))
    print("\n".join(table))
    print()
    print("\n".join(startup))
    print("\n".join(tgt))
    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" %
          (b.load_before + b.load_after))

    os.makedirs(a.outdir, exist_ok=True)
    png_name = "benchmarks.png" if not a.quick else "benchmarks-quick.png"
    has_png = plot(b, os.path.join(a.outdir, png_name))
    raw = os.path.join(ROOT, "build", "bench-results%s.json" % ("-quick" if a.quick else ""))
    with open(raw, "w") as f:
        json.dump({"args": {k: v for k, v in vars(a).items() if k != "skip"},
                   "extra": e, "body_len": b.body_len,
                   "load": [b.load_before, b.load_after],
                   "results": [{"job": list(k), "runs": v} for k, v in b.results.items()]}, f,
                  indent=1)
    md = [a.header, "",
          "Generated by `%s` on %s. Medians of %d rounds of %d-second runs; every scenario and "
          "its references run back to back in each round (interleaved), and the ratio is the "
          "median of the per-round ratios." % ("make bench-quick" if a.quick else "make bench",
                                              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                              a.runs, a.seconds),
          "", "## Machine", ""] + machine() + [
          "- load average (1/5/15 min) before: %.2f %.2f %.2f, after: %.2f %.2f %.2f — the "
          "machine is shared with other work; compare ratios, not absolute numbers" %
          (b.load_before + b.load_after),
          "- response sizes: %s" % ", ".join("%s %d bytes" % kv for kv in b.body_len.items()),
          "", "## Targets", ""] + tgt + ["", "## Results", ""] + table + [
          "", "## Start-up, memory, size", ""] + startup
    if has_png:
        md += ["", "## Throughput and p99 against concurrency", "", "![plot](%s)" % png_name]
    md += ["", "## How to reproduce", "", a.reproduce]
    path = os.path.join(a.outdir, "BENCHMARKS.md" if not a.quick else "BENCHMARKS-quick.md")
    with open(path, "w") as f:
        f.write("\n".join(md) + "\n")
    log("bench: wrote %s" % path)


HEADER = """# Benchmarks

TechChallengeApp against what it stands on, side by side: pgbench running the app's own SQL and
nginx serving the app's own response bytes, at the same concurrency, in the same run. The
decisions these numbers drove are ADRs 0006 (this harness), 0007 (concurrent GET lists share one
query), 0008 (buffered access log), 0009 (start-up and memory), 0010 (concurrent POSTs share
one INSERT and one commit) and 0012 (concurrent GETs of one task share one query); ADR 0011 says why the targets marked "not met" are, with numbers,
and what design would reach them."""
REPRODUCE = """`make bench` (about 20 minutes; installs wrk, nginx and gnuplot through
`bench/bootstrap.sh`, starts a throwaway PostgreSQL cluster with fsync on and its own datasets,
and writes this file and the plot). `make bench-quick` runs a subset at c=64 in about
2–3 minutes and writes `build/bench/`. Options: `bench/bench.py --help`.

What runs: a fresh `TechChallengeApp serve` per run (default settings, `LogFormat=json`,
`LogLevel=info`: the access log, one line per request, goes to a file), `wrk -t2 -cN` with the
scripts in `bench/wrk/`, `pgbench -M prepared -jN -cN` with the scripts in `bench/pgbench/` (the
app's own SQL; pgbench reads text results, the app binary ones), and nginx (2 workers, access
log on, keep-alive unlimited) serving files holding the app's own response bodies. Datasets:
`d3` (the three seed tasks; the mixed scenario PUTs them with their own values, so the list
stays the same), `d1000` (1,000 tasks), `dpost` (grows with every POST)."""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int)
    p.add_argument("--seconds", type=int)
    p.add_argument("--conc", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--scenarios", type=lambda s: s.split(","))
    p.add_argument("--stores", type=lambda s: s.split(","), default=list(STORES))
    p.add_argument("--no-log-cost", dest="log_cost", action="store_false")
    p.add_argument("--outdir")
    p.add_argument("--env", action="append", default=[],
                   help="KEY=VALUE for the app (e.g. VTT_THREADS=8)")
    a = p.parse_args()
    if a.quick:
        a.runs = a.runs or 2
        a.seconds = a.seconds or 3
        a.conc = a.conc or [64]
        a.scenarios = a.scenarios or ["list3", "list1000", "post", "static"]
        a.skip = {("sqlite", "list1000"), ("sqlite", "post")}
        a.outdir = a.outdir or os.path.join(ROOT, "build", "bench")
    else:
        a.runs = a.runs or 3
        a.seconds = a.seconds or 4
        a.conc = a.conc or [16, 64, 256]
        a.scenarios = a.scenarios or list(SCENARIOS)
        a.skip = set()
        a.outdir = a.outdir or os.path.join(ROOT, "docs")
    if a.outdir == os.path.join(ROOT, "docs") and (a.runs < 3 or a.env):
        a.outdir = os.path.join(ROOT, "build", "bench")  # docs only get the standard run
    a.app_env = dict(kv.split("=", 1) for kv in a.env)
    a.header, a.reproduce = HEADER, REPRODUCE
    if not os.access(BIN, os.X_OK):
        sys.exit("bench: no %s; run make first" % BIN)
    b = Bench(a)
    try:
        b.setup_data()
        b.start_nginx()
        b.measure_startup()
        b.run()
        write_outputs(b)
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
