# bench.mk — benchmarks (not tests: nothing here asserts a timing).
#
#   make bench         every scenario at c=16/64/256 against pgbench and nginx, median of 3 runs;
#                      writes docs/BENCHMARKS.md and docs/benchmarks.png (about 20 minutes)
#   make bench-quick   a subset at c=64, 2 runs of 3 s (about 2-3 minutes); writes build/bench/
#   make bench BENCH_ARGS='--runs 5 --conc 64'
#
# Bench-only Debian packages (wrk, nginx, gnuplot) are in bench/apt-bench.txt, installed by
# bench/bootstrap.sh, so that `make test` and CI never need them.

BENCH_ARGS ?=
.PHONY: bench bench-quick

bench: $(BIN)
	@bench/bootstrap.sh
	python3 bench/bench.py $(BENCH_ARGS)

bench-quick: $(BIN)
	@bench/bootstrap.sh
	python3 bench/bench.py --quick $(BENCH_ARGS)
