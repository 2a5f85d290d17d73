# fuzz.mk — libFuzzer targets (clang-14; Debian packages in deps/apt-fuzz.txt).
#
#   make fuzz                      every target below, FUZZ_SECONDS each (default 60)
#   make fuzz-toml                 the conf.toml parser (src/config/toml.c)
#   make fuzz-task                 the JSON decoding of tasks (task_decode, task_encode)
#   make fuzz-router               the router on the real route table
#   make fuzz-http                 raw bytes to the real server over TCP (libmicrohttpd, router,
#                                  handlers, SQLite store), all in one process
#   make fuzz-task FUZZ_SECONDS=600
#
# New inputs go to build-fuzz/corpus/<target> (the seed corpus in tests/fuzz/corpus/<target>
# stays as committed); a crash is written to build-fuzz/ as crash-*: copy it to
# tests/fuzz/regression/<target>/ so the normal suite replays it (tests/unit/test_fuzz_replay.c
# for toml, tests/unit/test_fuzz_corpora.c for the others, built with gcc, no libFuzzer).
# To keep useful new inputs: make fuzz-merge-<target> (minimises into tests/fuzz/corpus/<target>).

FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TOML_SRC := tests/fuzz/fuzz_toml.c src/config/toml.c src/util/buf.c src/util/errbuf.c \
                 src/util/xalloc.c
FUZZ_TARGETS := toml task router http

.PHONY: fuzz $(FUZZ_TARGETS:%=fuzz-%) $(FUZZ_TARGETS:%=fuzz-merge-%)

$(FUZZ_BUILD)/fuzz_toml: $(FUZZ_TOML_SRC) src/config/toml.h src/util/buf.h src/util/xalloc.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_TOML_SRC)

# The other targets link the whole application library, compiled with the fuzzer's
# instrumentation (-fsanitize=fuzzer-no-link), plus the embedded assets.
FUZZ_APP_OBJ := $(APP_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/assets_data.o
FUZZ_OBJ_FLAGS := $(filter-out -fsanitize=fuzzer%,$(FUZZ_FLAGS)) -fsanitize=fuzzer-no-link

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_OBJ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/gen/assets_data.o: $(BUILD)/gen/assets_data.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_OBJ_FLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libapp.a: $(FUZZ_APP_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libapp.a
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_FLAGS) -pthread -o $@ $< $(FUZZ_BUILD)/libapp.a $(LIBS)

# Per target: extra libFuzzer options. The server target keeps state between inputs and frees
# request memory on other threads, so per-input leak checks would only report false positives.
FUZZ_OPTS_toml := -max_len=4096 -dict=$(CURDIR)/tests/fuzz/toml.dict
FUZZ_OPTS_task := -max_len=4096 -dict=$(CURDIR)/tests/fuzz/json.dict
FUZZ_OPTS_router := -max_len=512 -dict=$(CURDIR)/tests/fuzz/router.dict
FUZZ_OPTS_http := -max_len=8192 -dict=$(CURDIR)/tests/fuzz/http.dict -detect_leaks=0 -timeout=30

$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* tests/fuzz/regression/$*
	cd $(FUZZ_BUILD) && ./fuzz_$* -max_total_time=$(FUZZ_SECONDS) $(FUZZ_OPTS_$*) \
		-print_final_stats=1 corpus/$* $(CURDIR)/tests/fuzz/corpus/$* \
		$(CURDIR)/tests/fuzz/regression/$*

fuzz: $(FUZZ_TARGETS:%=fuzz-%)

$(FUZZ_TARGETS:%=fuzz-merge-%): fuzz-merge-%: $(FUZZ_BUILD)/fuzz_%
	cd $(FUZZ_BUILD) && ./fuzz_$* -merge=1 $(FUZZ_OPTS_$*) $(CURDIR)/tests/fuzz/corpus/$* corpus/$*

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
