#!/usr/bin/env python3
"""ab.py — compare settings of the app on one scenario, interleaved, median of N (for ADRs).

  bench/ab.py --scenario list3 --store pg --conc 64 --runs 5 \\
      base: opt:VTT_THREADS=8 [--ref pgbench|nginx]

Each variant is NAME[@STORE]:[KEY=VALUE,...] (environment for the app); @STORE (pg or sqlite)
runs that variant on another store than --store, e.g. `emb@sqlite:` for the embedded ceiling
of a PostgreSQL scenario in the same rounds. --db-delay-us 500 puts the database 0.5 ms away
(bench.py's delay_proxy, for the app and pgbench alike). Each round runs every variant
(and the reference, if any) once, back to back; prints medians and each variant's median ratio
to the first variant (and to the reference). TCA_BIN=PATH in a variant runs another binary
(e.g. a build of main as the first variant: before/after in one interleaved run).
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", default="list3")
    p.add_argument("--store", default="pg")
    p.add_argument("--conc", type=int, default=64)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=int, default=3)
    p.add_argument("--ref", choices=["pgbench", "nginx"])
    p.add_argument("--db-delay-us", type=int,
                   help="PostgreSQL reached through build/bench/delay_proxy, this far each way")
    p.add_argument("variants", nargs="+")
    a = p.parse_args()
    variants = []
    for v in a.variants:
        name, _, kvs = v.partition(":")
        name, _, store = name.partition("@")
        variants.append((name, store or a.store,
                         dict(kv.split("=", 1) for kv in kvs.split(",") if kv)))
    stores = sorted({store for _, store, _ in variants})
    args = argparse.Namespace(seconds=a.seconds, app_env={}, quick=True, db_delay_us=a.db_delay_us,
                              stores=stores)
    b = bench.Bench(args)
    res = {}
    try:
        b.setup_data()
        if a.ref == "nginx":
            b.start_nginx()
        for rnd in range(a.runs):
            for name, store, env in variants + ([(a.ref, None, None)] if a.ref else []):
                if env is None:
                    r = (b.run_pgbench if a.ref == "pgbench" else b.run_nginx)(a.scenario, a.conc)
                else:
                    args.app_env = env
                    r = b.run_app(store, a.scenario, a.conc)
                r["round"] = rnd
                res.setdefault(name, []).append(r)
                print("round %d %-10s %8.0f req/s p50 %6.2f p99 %7.2f ms err %d rss %s cpu/req "
                      "%s us" % (rnd + 1, name, r["rps"], r["p50"], r["p99"], r["errors"],
                                 r.get("rss_kb"), r.get("cpu_us") and "%.1f" % r["cpu_us"]),
                      flush=True)
    finally:
        b.cleanup()
    first = res[variants[0][0]]
    print("load average %.2f %.2f %.2f" % os.getloadavg())
    for name in list(res):
        runs = res[name]
        cpu = bench.med(runs, "cpu_us")
        line = "%-10s median %8.0f req/s p50 %6.2f p99 %7.2f ms errors %d%s; x%s %.2f" % (
            name, bench.med(runs, "rps"), bench.med(runs, "p50"), bench.med(runs, "p99"),
            sum(r["errors"] for r in runs), "; app CPU %.1f us/req" % cpu if cpu else "",
            variants[0][0], bench.ratio(runs, first))
        if a.ref and name != a.ref:
            line += "; x%s %.2f" % (a.ref, bench.ratio(runs, res[a.ref]))
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
