#!/usr/bin/env python3
"""startup.py — exec -> first 200 of builds of the app against a trivial C program, interleaved,
median of N (for ADRs; `make bench` measures the current build the same way).

  bench/startup.py --runs 40 [--stores sqlite,pg] [NAME=BINARY[:KEY=VALUE,...] ...]

Without binaries: build/TechChallengeApp; KEY=VALUE pairs are environment for that variant
(e.g. base=build/TechChallengeApp one=build/TechChallengeApp:VTT_DBPOOLSIZE=1). Each round times the trivial program (a dynamically
linked `int main(void) { return 0; }`, exec -> exit) and then each binary on each store
(bench/startup.c: exec -> the first 200 on GET /api/task/, the three seed tasks; PostgreSQL is a
throwaway cluster, trust auth over loopback as in `make bench`). Prints per binary and store the
median and the median of the per-round ratios to the trivial program; the CPU time used by then
(all threads, /proc/PID/task/*/schedstat; the trivial program's from wait4), which a busy machine
disturbs far less than wall time; idle RSS (after 0.2 s) and the number of shared objects mapped
(/proc/PID/maps); then the load average.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--stores", type=lambda s: s.split(","), default=["sqlite", "pg"])
    p.add_argument("binaries", nargs="*", help="NAME=PATH")
    a = p.parse_args()
    bins = []
    for x in a.binaries or ["app=" + bench.BIN]:
        name, _, rest = x.partition("=")
        path, _, kvs = rest.partition(":")
        bins.append((name, path, dict(kv.split("=", 1) for kv in kvs.split(",") if kv)))
    args = argparse.Namespace(app_env={}, db_delay_us=None, stores=a.stores)
    b = bench.Bench(args)
    times, cpu, rss, libs = {}, {}, {}, {}
    try:
        if "pg" in a.stores:
            b.pg = bench.PgBench(dbname="d3")
            b.pg.start()
        for store in a.stores:
            b.tool(store, "d3", "updatedb", "-s")
        load_before = os.getloadavg()
        for rnd in range(a.runs):
            ms, cpu_ms = b.trivial_once()
            times.setdefault("trivial", []).append(ms)
            cpu.setdefault("trivial", []).append(cpu_ms)
            for name, path, env in bins:
                args.app_env = env
                for store in a.stores:
                    ms, kb, n, cpu_ms = b.startup_once(store, path)
                    times.setdefault((name, store), []).append(ms)
                    cpu.setdefault((name, store), []).append(cpu_ms)
                    rss.setdefault((name, store), []).append(kb)
                    libs[(name, store)] = n
            print("round %d: trivial %.2f ms, %s" % (
                rnd + 1, times["trivial"][-1], ", ".join(
                    "%s/%s %.2f ms" % (name, store, times[(name, store)][-1])
                    for name, _, _ in bins for store in a.stores)), flush=True)
    finally:
        b.cleanup()
    def ratio(key, ref):
        return statistics.median(v / r for v, r in zip(key, ref))

    trivial, trivial_cpu = times["trivial"], cpu["trivial"]
    print("trivial program: exec -> exit median %.2f ms (min %.2f); CPU %.2f ms" % (
        statistics.median(trivial), min(trivial), statistics.median(trivial_cpu)))
    for name, _, _ in bins:
        for store in a.stores:
            t, c = times[(name, store)], cpu[(name, store)]
            print("%-10s %-6s exec -> first 200 median %6.2f ms (min %6.2f) = %5.2fx trivial; "
                  "CPU %6.2f ms = %5.2fx trivial; idle RSS %.1f MB; %d shared objects" % (
                      name, store, statistics.median(t), min(t), ratio(t, trivial),
                      statistics.median(c), ratio(c, trivial_cpu),
                      statistics.median(rss[(name, store)]) / 1024, libs[(name, store)]))
    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" %
          (load_before + os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
