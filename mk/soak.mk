# soak.mk — make soak: 30 minutes (SOAK_SECONDS) of every kind of request on PostgreSQL (or the
# embedded store: SOAK_STORE=sqlite); RSS, descriptors, threads, database connections and the
# table's size must stay flat after the warm-up (tests/reliability/soak.py).
# Long: not part of make check. Results go in docs/RELIABILITY.md.
#
#   make soak                              1800 s, a sample every 30 s
#   make soak SOAK_SECONDS=300 SOAK_INTERVAL=10
#   make soak SOAK_STORE=sqlite            the embedded store

SOAK_SECONDS ?= 1800
SOAK_INTERVAL ?= 30
SOAK_STORE ?= pg

.PHONY: soak
soak: $(BIN)
	TCA_BIN=$(CURDIR)/$(BIN) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_INTERVAL=$(SOAK_INTERVAL) \
		SOAK_STORE=$(SOAK_STORE) python3 tests/reliability/soak.py
