# soak.mk — make soak: 30 minutes (SOAK_SECONDS) of mixed load on PostgreSQL; RSS, descriptors,
# threads and database connections must stay flat after the warm-up (tests/reliability/soak.py).
# Long: not part of make check. Results go in docs/RELIABILITY.md.
#
#   make soak                              1800 s, a sample every 30 s
#   make soak SOAK_SECONDS=300 SOAK_INTERVAL=10

SOAK_SECONDS ?= 1800
SOAK_INTERVAL ?= 30

.PHONY: soak
soak: $(BIN)
	TCA_BIN=$(CURDIR)/$(BIN) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_INTERVAL=$(SOAK_INTERVAL) \
		python3 tests/reliability/soak.py
