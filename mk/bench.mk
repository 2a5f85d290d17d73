# bench.mk — benchmarks (not tests: nothing here asserts a timing).
#
#   make bench         every scenario at c=16/64/256 against pgbench and nginx, median of 3 runs;
#                      writes docs/BENCHMARKS.md and docs/benchmarks.png (about 25 minutes)
#   make bench-quick   a subset at c=64, 2 runs of 3 s (about 2-3 minutes); writes build/bench/
#   make bench-remote  the PostgreSQL scenarios with the database 0.5 ms away (each way) behind
#                      build/bench/delay_proxy, app and pgbench alike, and the proxy's own
#                      cost; writes docs/BENCHMARKS-remote-db.md (about 20 minutes)
#   make bench BENCH_ARGS='--runs 5 --conc 64'
#
# Bench-only Debian packages (wrk, nginx, gnuplot) are in bench/apt-bench.txt, installed by
# bench/bootstrap.sh, so that `make test` and CI never need them.

BENCH_ARGS ?=
BENCH_DB_DELAY_US ?= 500
DELAY_PROXY := $(BUILD)/bench/delay_proxy
.PHONY: bench bench-quick bench-remote lint-bench

bench: $(BIN) $(DELAY_PROXY)
	@bench/bootstrap.sh
	python3 bench/bench.py $(BENCH_ARGS)

bench-quick: $(BIN) $(DELAY_PROXY)
	@bench/bootstrap.sh
	python3 bench/bench.py --quick $(BENCH_ARGS)

bench-remote: $(BIN) $(DELAY_PROXY)
	@bench/bootstrap.sh
	python3 bench/bench.py --db-delay-us $(BENCH_DB_DELAY_US) $(BENCH_ARGS)

# The delaying TCP proxy: libc only, the project's warnings, not part of the app.
$(DELAY_PROXY): bench/delay_proxy.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -D_GNU_SOURCE $(WARN) $(OPT) $(SAN) $(CFLAGS) -MMD -MP $(ALL_LDFLAGS) -o $@ $<

# Its test (tests/bench/delay_proxy.t) runs in the suite, and its source is linted with the app's.
check: $(DELAY_PROXY)
C_FILES += bench/delay_proxy.c
lint: lint-bench
lint-bench:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ bench/delay_proxy.c
	clang-tidy --quiet bench/delay_proxy.c -- -D_GNU_SOURCE -std=c11 2>/dev/null
