#!/usr/bin/env python3
"""cpu_budget.py — where the CPU time of one request goes: server, load generator, PostgreSQL.

  bench/cpu_budget.py [--scenarios get1,list3] [--conc 16] [--runs 3] [--seconds 4]

For each scenario, in every round and back to back: the app on PostgreSQL, the app on the
embedded store (both driven by wrk), pgbench running the same SQL and nginx serving the same
bytes (driven by wrk) — bench.py's set-up and runs. For each it prints req/s and the CPU time a
request cost each party, in microseconds: the server (the app, or nginx's workers), the client
(wrk or pgbench) and PostgreSQL (its processes, backends that ended during the run included).
Medians of the rounds. The load generator, the server and PostgreSQL share the machine's cores,
so a request's total is what caps the throughput: at best cores / total requests a second.
A bench, not a test: nothing is asserted. ADR 0011 uses it for the c=16 rows.
"""
import argparse
import glob
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

PARTIES = ("server", "client", "postgres")


def cpu_of(comm, reaped=False):
    """CPU seconds of every process named comm; with reaped, also of their children that
    ended and were waited for (the postmaster's backends)."""
    total = 0
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/comm") as f:
                if f.read().strip() != comm:
                    continue
            with open(d + "/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        if reaped:
            total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu():
    """CPU seconds of this script's ended children (wrk, pgbench)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(b, who, scen, conc):
    """One run; returns req/s and each party's CPU microseconds a request."""
    app_cpu = 0.0
    pg0, ngx0, cli0 = cpu_of("postgres", True), cpu_of("nginx"), children_cpu()
    if who.startswith("app-"):
        _, path, script, dataset, _, _ = bench.SCENARIOS[scen]
        with bench.AppProc(b, who[4:], dataset) as app:
            pg0, cli0 = cpu_of("postgres", True), children_cpu()
            app0 = bench.cpu_seconds(app.proc.pid)
            r = b.wrk(app.port, path, script, conc)
            app_cpu = bench.cpu_seconds(app.proc.pid) - app0
            pg1, cli1 = cpu_of("postgres", True), children_cpu()
        seconds = b.args.seconds
    elif who == "pgbench":
        r = b.run_pgbench(scen, conc)
        time.sleep(0.5)  # pgbench's backends end after it does; let the postmaster reap them
        pg1, cli1 = cpu_of("postgres", True), children_cpu()
        seconds = b.args.seconds + conc // 32  # bench.py's -T for pgbench
    else:
        r = b.run_nginx(scen, conc)
        pg1, cli1 = pg0, children_cpu()
        app_cpu = cpu_of("nginx") - ngx0
        seconds = b.args.seconds
    n = r["rps"] * seconds
    row = {"rps": r["rps"], "server": app_cpu * 1e6 / n, "client": (cli1 - cli0) * 1e6 / n,
           "postgres": (pg1 - pg0) * 1e6 / n}
    row["total"] = sum(row[p] for p in PARTIES)
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenarios", default="get1,list3")
    p.add_argument("--conc", type=int, default=16)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=int, default=4)
    a = p.parse_args()
    scens = a.scenarios.split(",")
    args = argparse.Namespace(seconds=a.seconds, app_env={}, quick=True, db_delay_us=None,
                                    stores=["pg", "sqlite"])
    b = bench.Bench(args)
    res = {}
    try:
        b.setup_data()
        b.start_nginx()
        for rnd in range(a.runs):
            for scen in scens:
                for who in ("app-pg", "app-sqlite", "pgbench", "nginx"):
                    row = measure(b, who, scen, a.conc)
                    res.setdefault((scen, who), []).append(row)
                    print("round %d %-6s %-10s %8.0f req/s; CPU us a request: %s" % (
                        rnd + 1, scen, who, row["rps"],
                        ", ".join("%s %.1f" % (k, row[k]) for k in PARTIES + ("total",))),
                        flush=True)
    finally:
        b.cleanup()
    print("load average %.2f %.2f %.2f" % os.getloadavg())
    print("| scenario | c | who | req/s | server | client | PostgreSQL | total |")
    print("|---|---|---|---|---|---|---|---|")
    for (scen, who), rows in res.items():
        m = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print("| %s | %d | %s | %.0f | %.1f | %.1f | %.1f | %.1f |" % (
            scen, a.conc, who, m["rps"], m["server"], m["client"], m["postgres"], m["total"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
