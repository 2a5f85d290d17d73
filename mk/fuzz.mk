# fuzz.mk — libFuzzer targets (clang-14; Debian packages in deps/apt-fuzz.txt).
#
#   make fuzz-toml                 fuzz the conf.toml parser for FUZZ_SECONDS (default 60)
#   make fuzz-toml FUZZ_SECONDS=600
#
# New inputs go to build-fuzz/corpus/toml (the seed corpus in tests/fuzz/corpus/toml stays as
# committed); a crash is written to build-fuzz/ as crash-*: copy it to tests/fuzz/regression/toml/
# so the normal suite replays it (tests/unit/test_fuzz_replay.c).

FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TOML_SRC := tests/fuzz/fuzz_toml.c src/config/toml.c src/util/buf.c src/util/xalloc.c

.PHONY: fuzz-toml

$(FUZZ_BUILD)/fuzz_toml: $(FUZZ_TOML_SRC) src/config/toml.h src/util/buf.h src/util/xalloc.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_TOML_SRC)

fuzz-toml: $(FUZZ_BUILD)/fuzz_toml
	@mkdir -p $(FUZZ_BUILD)/corpus/toml
	cd $(FUZZ_BUILD) && ./fuzz_toml -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=$(CURDIR)/tests/fuzz/toml.dict -print_final_stats=1 \
		corpus/toml $(CURDIR)/tests/fuzz/corpus/toml $(CURDIR)/tests/fuzz/regression/toml
