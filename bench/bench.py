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
  bench/bench.py --db-delay-us 500   the PostgreSQL scenarios with the database 0.5 ms away (each
                                     way): the app and pgbench both reach it through
                                     build/bench/delay_proxy; writes docs/BENCHMARKS-remote-db.md
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
import delayproxy  # noqa: E402
from pgcluster import PgCluster  # noqa: E402

BIN = os.environ.get("TCA_BIN") or os.path.join(ROOT, "build", "TechChallengeApp")
DELAY_PROXY = os.environ.get("TCA_DELAY_PROXY") or os.path.join(ROOT, "build", "bench",
                                                                 "delay_proxy")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
WRK_THREADS = 2
STARTUP_ROUNDS = 20  # measure_startup: rounds of (trivial program, app on each store)

# name: (title, path, wrk script, dataset, pgbench script, nginx file)
SCENARIOS = {
    "list3": ("GET list, 3 tasks", "/api/task/", "get.lua", "d3", "list.sql", "list3.json"),
    "list1000": ("GET list, 1,000 tasks", "/api/task/", "get.lua", "d1000", "list.sql",
                 "list1000.json"),
    "post": ("POST a task", "/api/task/", "post.lua", "dpost", "insert.sql", None),
    "mixed": ("mixed 90% GET list / 10% PUT", "/api/task/", "mixed.lua", "d3", "mixed.sql", None),
    "get1": ("GET one task", "/api/task/2/", "get.lua", "d3", "get.sql", "one.json"),
    "put": ("PUT a task (its own values)", "/api/task/", "put.lua", "dput", "update.sql", None),
    "delete": ("DELETE a task", "/api/task/", "delete.lua", "ddel", "delete.sql", None),
    "static": ("static index (GET /)", "/", "get.lua", "d3", None, "index.html"),
}
DATASETS = ("d3", "d1000", "dpost", "dput", "ddel")
PG_SCENARIOS = [s for s in SCENARIOS if SCENARIOS[s][4]]
STORES = ("pg", "sqlite")
STORE_NAMES = {"pg": "PostgreSQL", "sqlite": "embedded (SQLite)"}

# 1,000 tasks: varied titles (10 to 74 bytes), priorities 0..9, every third one complete.
LETTERS = "abcdefgh" * 8
FILL_SQL = ("INSERT INTO tasks (completed, priority, title) SELECT i %% 3 = 0, i %% 10, "
            "'Task ' || i || ': ' || substr('%s', 1, 8 * (1 + i %% 8)) FROM %s")
PG_SERIES = "generate_series(4, 1000) AS g(i)"
SQLITE_SERIES = ("(WITH RECURSIVE s(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM s "
                 "WHERE i < 1000) SELECT i FROM s)")

# dput: 1,000 tasks the PUT scenario writes with their own values. ddel: ids 1..N, refilled
# before every DELETE run, N enough for DELETE_RATE_MAX deletes a second.
REFILL_SQL = {
    "pg": ["TRUNCATE tasks RESTART IDENTITY",
           "INSERT INTO tasks (completed, priority, title) SELECT false, 1, 'bench task' "
           "FROM generate_series(1, %d)", "VACUUM ANALYZE tasks"],
    "sqlite": ["DELETE FROM tasks; DELETE FROM sqlite_sequence WHERE name = 'tasks'; "
               "INSERT INTO tasks (completed, priority, title) SELECT 0, 1, 'bench task' FROM "
               "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) "
               "SELECT i FROM s)"],
}
DELETE_RATE_MAX = 40000


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


def mapped_objects(pid):
    """The number of distinct shared objects (*.so*) mapped into process pid."""
    with open("/proc/%d/maps" % pid) as f:
        return len({fields[5] for fields in (line.split() for line in f)
                    if len(fields) >= 6 and ".so" in os.path.basename(fields[5])})


def run_ns(pid):
    """Nanoseconds all threads of process pid have run on a CPU so far (/proc/PID/task/*/
    schedstat): finer than cpu_seconds' clock ticks, for start-up."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


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


class DelayProxy(delayproxy.DelayProxy):
    """build/bench/delay_proxy (or $TCA_DELAY_PROXY) in front of host:port, delay_us each way;
    a failure at its end is logged."""

    def __init__(self, host, port, delay_us):
        super().__init__(host, port, delay_us, path=DELAY_PROXY)

    def stop(self):
        super().stop()
        if self.proc.returncode:
            log("bench: delay_proxy exited %d: %s" % (self.proc.returncode, self.stats))


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
        self.proxy = None  # with --db-delay-us: the app and pgbench reach PostgreSQL through it
        self.proxy_overhead = {}  # (target, conc) -> list of per-round pgbench SELECT 1 runs
        self.body_len = {}

    @property
    def db_addr(self):
        """Where the app and pgbench find PostgreSQL: the cluster, or the delaying proxy."""
        if self.proxy:
            return self.proxy.host, self.proxy.port
        return self.pg.host, self.pg.port

    # ---- set-up ----

    def app_env(self, store, dataset, port, loglevel="info"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VTT_")}
        env.update({"VTT_LISTENHOST": "127.0.0.1", "VTT_LISTENPORT": str(port),
                    "VTT_LOGFORMAT": "json", "VTT_LOGLEVEL": loglevel})
        if store == "pg":
            host, port = self.db_addr
            env.update(self.pg.app_env(VTT_DBNAME=dataset, VTT_DBHOST=host,
                                       VTT_DBPORT=str(port)))
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
        if self.args.db_delay_us is not None:
            self.proxy = DelayProxy(self.pg.host, self.pg.port, self.args.db_delay_us)
            log("bench: PostgreSQL reached through delay_proxy, %d us each way" %
                self.args.db_delay_us)
        for d in DATASETS[1:]:
            self.pg.psql("CREATE DATABASE %s" % d, dbname="postgres")
        for store in self.args.stores:
            for d in DATASETS:
                self.tool(store, d, "updatedb", "-s")
        if "pg" in self.args.stores:  # (the tables exist only for the stores asked for)
            self.pg.psql(FILL_SQL % (LETTERS, PG_SERIES), dbname="d1000")
            self.pg.psql("VACUUM ANALYZE tasks", dbname="d1000")
        if "sqlite" in self.args.stores:
            subprocess.run(["sqlite3", os.path.join(self.tmp, "d1000.db"),
                            FILL_SQL % (LETTERS, SQLITE_SERIES)], check=True, timeout=60)
        for store in self.args.stores:
            self.refill(store, "dput", 1000)

        # The nginx files: the app's own response bodies, the same from either store.
        www = os.path.join(self.tmp, "www")
        os.mkdir(www)
        os.chmod(www, 0o755)
        for scen in ("list3", "list1000", "get1", "static"):
            _, path, _, dataset, _, fname = SCENARIOS[scen]
            bodies = []
            for store in self.args.stores:
                with AppProc(self, store, dataset) as app:
                    bodies.append(http_get(app.port, path)[1])
            if any(b != bodies[0] for b in bodies):
                raise RuntimeError("%s: the two stores answer different bytes" % scen)
            with open(os.path.join(www, fname), "wb") as f:
                f.write(bodies[0])
            self.body_len[scen] = len(bodies[0])
        log("bench: response sizes %s" % self.body_len)

    def refill(self, store, dataset, rows):
        """The dataset becomes tasks 1..rows, all 'bench task', priority 1, not complete."""
        for sql in REFILL_SQL[store]:
            if store == "pg":
                self.pg.psql(sql % rows if "%d" in sql else sql, dbname=dataset)
            else:
                subprocess.run(["sqlite3", os.path.join(self.tmp, dataset + ".db"), sql % rows],
                               check=True, timeout=120)

    def rows_left(self, store, dataset):
        if store == "pg":
            return int(self.pg.psql("SELECT count(*) FROM tasks", dbname=dataset))
        r = subprocess.run(["sqlite3", os.path.join(self.tmp, dataset + ".db"),
                            "SELECT count(*) FROM tasks"], check=True, capture_output=True,
                           text=True, timeout=60)
        return int(r.stdout)

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
        if self.proxy:
            self.proxy.stop()
        if self.pg:
            self.pg.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- one run of each kind ----

    def wrk(self, port, path, script, conc):
        env = dict(os.environ, BENCH_LUA=os.path.join(HERE, "wrk"),
                   BENCH_WRK_THREADS=str(WRK_THREADS))
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
        self.before_run(store, scen)
        with AppProc(self, store, dataset, loglevel) as app:
            cpu0 = cpu_seconds(app.proc.pid)
            res = self.wrk(app.port, path, script, conc)
            res["cpu_us"] = (cpu_seconds(app.proc.pid) - cpu0) * 1e6 / max(
                1, res["rps"] * self.args.seconds)
            res["rss_kb"] = proc_status(app.proc.pid, "VmHWM")
            res["errors"] += app.stop()  # a crash or an unclean exit is an error too
        res["errors"] += self.after_run(store, scen)
        return res

    def before_run(self, store, scen):
        if scen == "delete":  # every run deletes tasks that exist, from id 1 up
            self.refill(store, "ddel", DELETE_RATE_MAX * self.args.seconds)

    def after_run(self, store, scen):
        """1 (an error) if a DELETE run used up its dataset: it ran out of tasks to delete."""
        if scen == "delete" and self.rows_left(store, "ddel") == 0:
            log("bench: the DELETE run used up all %d tasks; raise DELETE_RATE_MAX" %
                (DELETE_RATE_MAX * self.args.seconds))
            return 1
        return 0

    def run_nginx(self, scen, conc):
        fname = SCENARIOS[scen][5]
        res = self.wrk(self.nginx_port, "/" + fname, "get.lua", conc)
        open(os.path.join(self.tmp, "nginx-access.log"), "w").close()  # keep the disk free
        return res

    def run_pgbench(self, scen, conc, addr=None, script=None, dataset=None, threads=WRK_THREADS):
        """pgbench with the scenario's script (or script, dataset) at addr (default: where
        the app finds the database)."""
        _, _, _, scen_dataset, scen_script, _ = SCENARIOS[scen] if scen else (None,) * 6
        script, dataset = script or scen_script, dataset or scen_dataset
        host, port = addr or self.db_addr
        work = tempfile.mkdtemp(dir=self.tmp)
        secs = self.args.seconds
        if scen:
            self.before_run("pg", scen)
        argv = [os.path.join(PG_BIN, "pgbench"), "-n", "-M", "prepared", "-c", str(conc),
                # pgbench makes its connections inside -T (about 10 ms each here, per
                # thread); its tps excludes that time, so give it room to run for secs.
                "-j", str(min(threads, conc)), "-T", str(secs + conc // 32),
                "-f", os.path.join(HERE, "pgbench", script),
                # delete.sql: client k deletes ids k+1, k+1+C, ... (variables persist per client)
                "-D", "n=0", "-D", "clients=%d" % conc,
                "-l", "--sampling-rate", "0.1", "-h", host, "-p", str(port),
                "-U", self.pg.user, dataset]
        env = dict(os.environ, PGPASSWORD=self.pg.password)
        r = subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True,
                           timeout=secs + 120)
        tps = failed = lat_avg = None
        for line in r.stdout.splitlines():
            if line.startswith("tps = ") and "without initial" in line:
                tps = float(line.split()[2])
            if line.startswith("number of failed transactions"):
                failed = int(line.split(":")[1].split()[0])
            if line.startswith("latency average = "):
                lat_avg = float(line.split()[3])
        if r.returncode != 0 or tps is None:
            raise RuntimeError("pgbench failed: %s %s" % (r.stdout, r.stderr))
        if scen:
            failed = (failed or 0) + self.after_run("pg", scen)
        lat = []
        for name in os.listdir(work):
            with open(os.path.join(work, name)) as f:
                lat.extend(int(line.split()[2]) for line in f if line.strip())
        shutil.rmtree(work, ignore_errors=True)
        lat.sort()
        pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000) if lat else \
            (lambda q: float("nan"))
        return {"rps": tps, "p50": pct(0.50), "p99": pct(0.99), "errors": failed or 0,
                "lat_avg": lat_avg}

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
                if SCENARIOS[scen][5] and self.args.nginx and \
                        (scen in ("list3", "static") or not self.args.quick):
                    out.append(("nginx", None, scen, conc, None))
        return out

    def measure_proxy(self):
        """What the proxy itself costs, in the same run: pgbench `SELECT 1` (prepared) straight
        to PostgreSQL, through a second proxy with no delay, and through the bench's proxy;
        at c=1 (the added round trip) and at each concurrency of the run (throughput)."""
        proxy0 = DelayProxy(self.pg.host, self.pg.port, 0)
        targets = [("direct", (self.pg.host, self.pg.port)), ("proxy0", (proxy0.host, proxy0.port)),
                   ("proxyN", (self.proxy.host, self.proxy.port))]
        try:
            for rnd in range(self.args.runs):
                for conc in [1] + self.args.conc:
                    for name, addr in targets:
                        res = self.run_pgbench(None, conc, addr=addr, script="select1.sql",
                                               dataset="d3")
                        res["round"] = rnd
                        self.proxy_overhead.setdefault((name, conc), []).append(res)
                        log("  round %d pgbench SELECT 1 %-6s c=%-3d %9.0f tps, latency average "
                            "%.3f ms" % (rnd + 1, name, conc, res["rps"], res["lat_avg"]))
        finally:
            proxy0.stop()
        self.extra["proxy0_stats"] = proxy0.stats

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

    def startup_tools(self):
        """build/bench-startup (bench/startup.c) and build/bench-trivial, the reference: a
        dynamically linked `int main(void) { return 0; }`."""
        tools = {"startup": os.path.join(ROOT, "build", "bench-startup"),
                 "trivial": os.path.join(ROOT, "build", "bench-trivial")}
        src = os.path.join(HERE, "startup.c")
        if not os.path.exists(tools["startup"]) or \
                os.path.getmtime(tools["startup"]) < os.path.getmtime(src):
            subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-o", tools["startup"], src],
                           check=True)
        if not os.path.exists(tools["trivial"]):
            subprocess.run(["gcc", "-O2", "-x", "c", "-o", tools["trivial"], "-"],
                           input=b"int main(void) { return 0; }\n", check=True)
        return tools

    def trivial_once(self):
        """bench/startup.c: exec -> exit of the trivial program; returns (ms, CPU ms)."""
        tools = self.startup_tools()
        r = subprocess.run([tools["startup"], "-", "-", tools["trivial"]], capture_output=True,
                           text=True, timeout=60, check=True)
        fields = r.stdout.split()
        return float(fields[0]), float(fields[2])

    def startup_once(self, store, binary=BIN):
        """bench/startup.c: exec -> first 200 on GET /api/task/; returns (ms, idle RSS kB,
        shared objects mapped, CPU ms used by then)."""
        helper = self.startup_tools()["startup"]
        port = free_port()
        env = self.app_env(store, "d3", port)
        out_path = os.path.join(self.tmp, "startup.out")
        with open(out_path, "w") as out, open(os.path.join(self.tmp, "app.log"), "w") as logf:
            subprocess.run([helper, str(port), "/api/task/", binary, "serve"], env=env,
                           cwd=self.tmp, stdout=out, stderr=logf, timeout=60)
        with open(out_path) as f:
            fields = f.read().split()
        pid = int(fields[-1])
        cpu_ms = run_ns(pid) / 1e6
        time.sleep(0.2)
        rss = proc_status(pid, "VmRSS")
        libs = mapped_objects(pid)
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
        return float(fields[0]), rss, libs, cpu_ms

    def measure_startup(self, n=None):
        """exec -> first 200 on GET /api/task/ for each store, idle RSS, shared objects mapped,
        binary size; each round also times the trivial program (exec -> exit), the reference."""
        times = {"trivial": []}
        for rnd in range(n or STARTUP_ROUNDS):
            times["trivial"].append(self.trivial_once()[0])
            for store in self.args.stores:
                ms, kb, libs, _ = self.startup_once(store)
                times.setdefault(store, []).append(ms)
                self.extra.setdefault("rss_idle_" + store, []).append(kb)
                self.extra["libs_" + store] = libs
        self.extra["startup_trivial"] = statistics.median(times["trivial"])
        for store in self.args.stores:
            self.extra["startup_" + store] = (statistics.median(times[store]), max(times[store]))
            self.extra["startup_x_" + store] = statistics.median(
                a / t for a, t in zip(times[store], times["trivial"]))
            self.extra["rss_idle_" + store] = statistics.median(self.extra["rss_idle_" + store])
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
        # A variant may name another binary (bench/ab.py base:TCA_BIN=/old/TechChallengeApp).
        self.proc = subprocess.Popen([self.env.get("TCA_BIN") or BIN, "serve"], env=self.env,
                                     cwd=self.bench.tmp,
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
    cols = 12 if a.nginx else 10  # without nginx (the remote set), no empty nginx columns
    head = head if a.nginx else head.rsplit(" nginx req/s", 1)[0]
    lines += [head, "|" + "---|" * cols]
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
                    row = "| %s | %s | %d | %s | %s | %s | %d | %.1f | %s | %s |" % (
                        STORE_NAMES[store], name, conc, fmt(med(app, "rps"), ".0f"),
                        fmt(med(app, "p50"), ".2f"), fmt(med(app, "p99"), ".2f"),
                        sum(r["errors"] for r in app), rss,
                        fmt(med(pgb, "rps") if pgb else None, ".0f"),
                        fmt(ratio(app, pgb), ".2f"))
                    if a.nginx:
                        row += " %s | %s |" % (fmt(med(ngx, "rps") if ngx else None, ".0f"),
                                               fmt(ratio(app, ngx), ".2f"))
                    lines.append(row)
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

    # PostgreSQL against pgbench running the same SQL, at every concurrency.
    for scen, label in (("list3", "GET list, 3 tasks"), ("get1", "GET one task"),
                        ("post", "POST"), ("mixed", "mixed 90% GET list / 10% PUT")):
        for conc in b.args.conc:
            x, _ = r("pg", scen, conc, "pgbench")
            if x is not None:
                check("%s, PostgreSQL, c=%d >= 1.0x pgbench" % (label, conc), x >= 1.0, "%.2fx" % x)
    # The 1,000-task list against nginx serving the same bytes.
    for store in b.args.stores:
        x, _ = r(store, "list1000", 64, "nginx")
        if x is not None:
            check("GET list 1,000 tasks, %s, c=64 >= 1.0x nginx (same bytes)" % STORE_NAMES[store],
                  x >= 1.0, "%.2fx" % x)
    # Embedded lists and single tasks: a tail no longer than nginx's in the same run.
    for scen, label in (("list3", "GET list"), ("get1", "GET one")):
        app = R.get(("app", "sqlite", scen, 64, "info"))
        ngx = R.get(("nginx", None, scen, 64, None))
        if app and ngx:
            p99, n99 = med(app, "p99"), med(ngx, "p99")
            check("embedded %s, c=64: p99 <= nginx's p99" % label, p99 <= n99,
                  "%.2f ms against %.2f ms" % (p99, n99))
    for conc in b.args.conc:
        x, _ = r("sqlite", "static", conc, "nginx")
        if x is not None:
            check("static index, c=%d >= 0.8x nginx" % conc, x >= 0.8, "%.2fx" % x)
    rss = [max(rr["rss_kb"] or 0 for rr in runs) for k, runs in R.items() if k[0] == "app"]
    if rss:
        check("peak RSS <= 15 MB in every scenario, c=256 included", max(rss) <= 15 * 1024,
              "peak %.1f MB" % (max(rss) / 1024))
    e = b.extra
    if "startup_sqlite" in e:  # ADR 0025: the reference is measured in the same rounds
        x = e["startup_x_sqlite"]
        check("exec -> first 200, embedded store <= 8x a trivial C program's exec -> exit", x <= 8,
              "%.1fx (median %.1f ms, max %.1f; the trivial program %.1f ms)"
              % ((x,) + e["startup_sqlite"] + (e["startup_trivial"],)))
    if "startup_pg" in e:
        out.append("- no target, recorded: exec -> first 200, PostgreSQL (loads libpq, then one "
                   "connection over loopback, trust auth): %.1fx the trivial program (median "
                   "%.1f ms, max %.1f)" % ((e["startup_x_pg"],) + e["startup_pg"]))
    errs = sum(rr["errors"] for k, runs in R.items() if k[0] == "app" for rr in runs)
    check("no errors in any run", errs == 0, "%d" % errs)
    return out


def targets_remote(b):
    """With the database a round trip away: every PostgreSQL scenario at every concurrency at
    least as fast as pgbench running the same SQL through the same proxy."""
    out = []
    for scen in b.args.scenarios:
        for conc in b.args.conc:
            x = ratio(b.results.get(("app", "pg", scen, conc, "info")),
                      b.results.get(("pgbench", None, scen, conc, None)))
            if x is not None:
                out.append("- %s %s, c=%d >= 1.0x pgbench: %.2fx" % (
                    "met" if x >= 1.0 else "**not met**", SCENARIOS[scen][0], conc, x))
    errs = sum(rr["errors"] for k, runs in b.results.items() if k[0] == "app" for rr in runs)
    out.append("- %s no errors in any run: %d" % ("met" if errs == 0 else "**not met**", errs))
    return out


def proxy_report(b):
    """The proxy's own cost, measured in the same run (Bench.measure_proxy)."""
    P = b.proxy_overhead
    if not P:
        return []
    d = b.args.db_delay_us
    lines = ["pgbench `SELECT 1` (prepared, `-j min(2, c)`): straight to PostgreSQL, through a "
             "second delay_proxy with no delay, and through the bench's delay_proxy (%d µs each "
             "way). Medians; ratios are medians of per-round ratios." % d, "",
             "| c | direct tps | proxy 0 µs tps | × direct | proxy %d µs tps | × direct | "
             "latency average ms: direct / 0 µs / %d µs |" % (d, d), "|---|---|---|---|---|---|---|"]
    for conc in [1] + b.args.conc:
        direct, p0, pn = (P.get((n, conc)) for n in ("direct", "proxy0", "proxyN"))
        if not (direct and p0 and pn):
            continue
        lines.append("| %d | %.0f | %.0f | %.2f | %.0f | %.2f | %.3f / %.3f / %.3f |" % (
            conc, med(direct, "rps"), med(p0, "rps"), ratio(p0, direct), med(pn, "rps"),
            ratio(pn, direct), med(direct, "lat_avg"), med(p0, "lat_avg"), med(pn, "lat_avg")))
    one = [P.get((n, 1)) for n in ("direct", "proxy0", "proxyN")]
    if all(one):
        base = med(one[0], "lat_avg")
        lines += ["", "One client, one statement at a time: the proxy adds %.3f ms per round trip "
                  "with no delay and %.3f ms with %d µs each way (the delay alone would be %.3f)."
                  % (med(one[1], "lat_avg") - base, med(one[2], "lat_avg") - base, d,
                     2 * d / 1000)]
    for label, stats in (("no delay", b.extra.get("proxy0_stats")),
                         ("the bench's", b.proxy.stats if b.proxy else None)):
        if stats:
            lines.append("- closing counters, %s proxy: `%s`" % (label, stats.splitlines()[-1]))
    return lines


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
    colors = {("pg", "list3"): 1, ("sqlite", "list3"): 2, ("pg", "list1000"): 3,
              ("pg", "post"): 4, (None, "list3"): 1, (None, "list1000"): 3, (None, "post"): 4}
    if b.proxy:  # the remote set: each PostgreSQL scenario against its pgbench, one colour each
        series, colors = [], {}
        for i, scen in enumerate(s for s in a.scenarios if SCENARIOS[s][4]):
            series += [("app", "pg", scen, "ours, " + SCENARIOS[scen][0]),
                       ("pgbench", None, scen, "pgbench, " + SCENARIOS[scen][0])]
            colors[("pg", scen)] = colors[(None, scen)] = i + 1
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
          'set multiplot layout 1,2 title "TechChallengeApp vs references%s (median of %d runs)"' % (
              ", database %d us away" % a.db_delay_us if b.proxy else "", a.runs),
          'set logscale x 2', 'set xtics (%s)' % ", ".join(str(c) for c in a.conc),
          'set xrange [%g:%g]' % (min(a.conc) / 1.3, max(a.conc) * 1.3),
          'set xlabel "concurrent connections"', 'set key outside bottom center maxrows 4 font ",9"',
          'set grid', 'set logscale y', 'set ylabel "requests/s"', 'set title "throughput"']

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
    tgt = targets_remote(b) if b.proxy else targets(b)
    e = b.extra
    startup = []
    for store in a.stores:
        if "startup_" + store in e:
            startup.append("- %s: exec → first 200 median %.1f ms (max %.1f of %d), %.1f× the "
                           "trivial program; idle RSS %.1f MB; %d shared objects mapped"
                           % ((STORE_NAMES[store],) + e["startup_" + store] +
                              (STARTUP_ROUNDS, e["startup_x_" + store],
                               e["rss_idle_" + store] / 1024, e["libs_" + store])))
    if "startup_trivial" in e:
        startup.append("- reference: a trivial dynamically linked C program (`int main(void) "
                       "{ return 0; }`), exec → exit median %.1f ms, in the same rounds"
                       % e["startup_trivial"])
    if "size" in e:
        startup.append("- binary: %d bytes (%d stripped); the UI is embedded in it" %
                       (e["size"], e["size_stripped"]))
    print("\n".join(table))
    print()
    print("\n".join(startup))
    print("\n".join(tgt))
    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" %
          (b.load_before + b.load_after))

    proxy = proxy_report(b)
    if proxy:
        print("\n".join(proxy))

    os.makedirs(a.outdir, exist_ok=True)
    png_name = "benchmarks%s.png" % a.suffix
    has_png = plot(b, os.path.join(a.outdir, png_name))
    raw = os.path.join(ROOT, "build", "bench-results%s.json" % a.suffix)
    with open(raw, "w") as f:
        json.dump({"args": {k: v for k, v in vars(a).items() if k != "skip"},
                   "extra": e, "body_len": b.body_len,
                   "load": [b.load_before, b.load_after],
                   "proxy_overhead": [{"target": k[0], "conc": k[1], "runs": v}
                                      for k, v in b.proxy_overhead.items()],
                   "results": [{"job": list(k), "runs": v} for k, v in b.results.items()]}, f,
                  indent=1)
    md = [a.header, "",
          "Generated by `%s` on %s. Medians of %d rounds of %d-second runs; every scenario and "
          "its references run back to back in each round (interleaved), and the ratio is the "
          "median of the per-round ratios." % (a.command,
                                              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                              a.runs, a.seconds)]
    if a.note:
        md += ["", "**%s**" % a.note]
    md += ["", "## Machine", ""] + machine() + [
          "- load average (1/5/15 min) before: %.2f %.2f %.2f, after: %.2f %.2f %.2f — the "
          "machine is shared with other work; compare ratios, not absolute numbers" %
          (b.load_before + b.load_after),
          "- response sizes: %s" % ", ".join("%s %d bytes" % kv for kv in b.body_len.items()),
          "", a.targets_title, ""] + tgt + ["", "## Results", ""] + table
    if proxy:
        md += ["", "## What the proxy itself costs", ""] + proxy
    md += ["", "## Start-up, memory, size", ""] + startup
    if has_png:
        md += ["", "## Throughput and p99 against concurrency", "", "![plot](%s)" % png_name]
    md += ["", "## How to reproduce", "", a.reproduce]
    path = os.path.join(a.outdir, a.md_name)
    with open(path, "w") as f:
        f.write("\n".join(md) + "\n")
    log("bench: wrote %s" % path)


HEADER = """# Benchmarks

TechChallengeApp against what it stands on, side by side: pgbench running the app's own SQL and
nginx serving the app's own response bytes, at the same concurrency, in the same run. The
decisions these numbers drove are ADRs 0006 (this harness), 0007 (concurrent GET lists share one
query), 0008 (buffered access log), 0009 (start-up and memory), 0010 (concurrent POSTs share
one INSERT and one commit) and 0012 (concurrent GETs of one task share one query); ADR 0011 says why the targets marked "not met" are, with numbers,
and what design would reach them. The PostgreSQL scenarios with the database 0.5 ms away are in
[BENCHMARKS-remote-db.md](BENCHMARKS-remote-db.md) (`make bench-remote`, ADR 0024)."""
REPRODUCE = """`make bench` (about 25 minutes; installs wrk, nginx and gnuplot through
`bench/bootstrap.sh`, starts a throwaway PostgreSQL cluster with fsync on and its own datasets,
and writes this file and the plot). `make bench-quick` runs a subset at c=64 in about
2–3 minutes and writes `build/bench/`. Options: `bench/bench.py --help`.

What runs: a fresh `TechChallengeApp serve` per run (default settings, `LogFormat=json`,
`LogLevel=info`: the access log, one line per request, goes to a file), `wrk -t2 -cN` with the
scripts in `bench/wrk/`, `pgbench -M prepared -jN -cN` with the scripts in `bench/pgbench/` (the
app's own SQL; pgbench reads text results, the app binary ones), and nginx (2 workers, access
log on, keep-alive unlimited) serving files holding the app's own response bodies. Datasets:
`d3` (the three seed tasks; the mixed scenario PUTs them with their own values, so the list
stays the same), `d1000` (1,000 tasks), `dpost` (grows with every POST), `dput` (1,000 tasks
the PUT scenario writes with their own values), `ddel` (ids 1..N, refilled before every DELETE
run, each DELETE hits a task that exists)."""

HEADER_REMOTE = """# Benchmarks with the database a round trip away

On localhost a round trip to PostgreSQL costs microseconds; in production (an RDS primary,
often in another availability zone) it costs 0.5–1 ms, and that is where a server that keeps
few statements in flight loses most. `make bench-remote` puts `build/bench/delay_proxy`
(`bench/delay_proxy.c`: a one-thread epoll TCP proxy that holds every chunk of bytes a fixed
time in each direction) between PostgreSQL and **both** the app and pgbench, so each ratio
compares the app with pgbench running the same SQL at the same distance. The proxy's own cost
is measured in the same run and shown below the results. The same scenarios on localhost, with
nginx as well, are in [BENCHMARKS.md](BENCHMARKS.md)."""
REPRODUCE_REMOTE = """`make bench-remote` (the same harness as `make bench`: throwaway
PostgreSQL cluster with fsync on, a fresh app per run, `wrk -t2`, `pgbench -M prepared -j2`;
`BENCH_DB_DELAY_US=500` by default, `BENCH_ARGS` for more, e.g.
`make bench-remote BENCH_ARGS='--runs 2 --seconds 3 --conc 16,64'`). The app's `DbHost`/`DbPort`
and pgbench's `-h`/`-p` point at the proxy; set-up (`psql` over the Unix socket) does not go
through it. A TCP connect to the proxy is answered at once, so a new connection costs one round
trip less than across a real network; the app and pgbench keep their connections for the whole
run, so only their start-up sees that. Datasets as in `make bench`, and `dput` (1,000 tasks the
PUT scenario writes with their own values) and `ddel` (ids 1..N, refilled before every DELETE
run; wrk's threads and pgbench's clients each take their own ids in turn, so every DELETE hits a
task that exists)."""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int)
    p.add_argument("--seconds", type=int)
    p.add_argument("--conc", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--scenarios", type=lambda s: s.split(","))
    p.add_argument("--stores", type=lambda s: s.split(","))
    p.add_argument("--no-log-cost", dest="log_cost", action="store_false")
    p.add_argument("--no-nginx", dest="nginx", action="store_false")
    p.add_argument("--outdir")
    p.add_argument("--note", help="a line of text for the top of the report")
    p.add_argument("--env", action="append", default=[],
                   help="KEY=VALUE for the app (e.g. VTT_THREADS=8)")
    p.add_argument("--db-delay-us", type=int,
                   help="reach PostgreSQL through build/bench/delay_proxy with this one-way "
                        "delay (app and pgbench alike): the PostgreSQL scenarios, written to "
                        "BENCHMARKS-remote-db.md")
    a = p.parse_args()
    explicit_outdir = a.outdir is not None
    a.command, a.suffix, a.md_name = "make bench", "", "BENCHMARKS.md"
    a.header, a.reproduce, a.targets_title = HEADER, REPRODUCE, "## Targets"
    if a.db_delay_us is not None:
        if a.quick:
            sys.exit("bench: --db-delay-us and --quick do not go together")
        if a.db_delay_us < 0:
            sys.exit("bench: --db-delay-us wants 0 or more")
        a.stores = a.stores or ["pg"]
        a.scenarios = a.scenarios or ["list3", "get1", "post", "mixed", "put", "delete"]
        if "sqlite" in a.stores or any(not SCENARIOS[s][4] for s in a.scenarios):
            sys.exit("bench: --db-delay-us runs PostgreSQL scenarios only (%s)" %
                     ",".join(PG_SCENARIOS))
        a.nginx = a.log_cost = False
        a.command, a.suffix, a.md_name = ("make bench-remote", "-remote-db",
                                          "BENCHMARKS-remote-db.md")
        a.header, a.reproduce = HEADER_REMOTE, REPRODUCE_REMOTE
        a.targets_title = "## Targets: every scenario >= 1.0x pgbench, database %d µs away" % \
            a.db_delay_us
        if not os.access(DELAY_PROXY, os.X_OK):
            sys.exit("bench: no %s; run make %s first" % (DELAY_PROXY, DELAY_PROXY))
    a.stores = a.stores or list(STORES)
    if a.quick:
        a.runs = a.runs or 2
        a.seconds = a.seconds or 3
        a.conc = a.conc or [64]
        a.scenarios = a.scenarios or ["list3", "list1000", "post", "static"]
        a.skip = {("sqlite", "list1000"), ("sqlite", "post")}
        a.outdir = a.outdir or os.path.join(ROOT, "build", "bench")
        a.command, a.suffix, a.md_name = "make bench-quick", "-quick", "BENCHMARKS-quick.md"
    else:
        a.runs = a.runs or 3
        a.seconds = a.seconds or 4
        a.conc = a.conc or [16, 64, 256]
        a.scenarios = a.scenarios or list(SCENARIOS)
        a.skip = set()
        a.outdir = a.outdir or os.path.join(ROOT, "docs")
    if not explicit_outdir and a.outdir == os.path.join(ROOT, "docs") and (a.runs < 3 or a.env):
        a.outdir = os.path.join(ROOT, "build", "bench")  # docs only get the standard run
    a.app_env = dict(kv.split("=", 1) for kv in a.env)
    if not os.access(BIN, os.X_OK):
        sys.exit("bench: no %s; run make first" % BIN)
    b = Bench(a)
    try:
        b.setup_data()
        if a.nginx:
            b.start_nginx()
        b.measure_startup()
        if b.proxy:
            b.measure_proxy()
        b.run()
        if b.proxy:
            b.proxy.stop()  # its closing counters go in the report
        write_outputs(b)
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
