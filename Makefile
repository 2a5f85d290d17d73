# TechChallengeApp in C — the one Makefile.
#
#   make run     set up, build, and serve on the embedded store at http://localhost:3000
#   make test    set up, build, and run every test (TAP, through prove)
#   make asan    the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make lint    clang-format check, cppcheck, clang-tidy
#   make fmt     format the C sources
#
# Sources are found by wildcard: a new src/**/*.c joins the binary, a new tests/unit/test_*.c
# becomes a unit test, a new tests/**/*.t joins the suite, mk/*.mk adds targets.

VERSION := 0.12.0
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

BUILD ?= build
CC ?= gcc
PKGS := libmicrohttpd jansson sqlite3 libpq gnutls
# libpq is not linked: src/store/pq_load.c opens it when the PostgreSQL store needs it (ADR 0025);
# its package gives the header only.
PKGS_LINKED := $(filter-out libpq,$(PKGS))

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Werror
OPT ?= -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN ?=
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS_LINKED) 2>/dev/null)
ALL_CPPFLAGS = -D_GNU_SOURCE -Isrc -I$(BUILD)/gen -DTCA_VERSION='"$(VERSION)"' \
               -DTCA_GIT_REV='"$(GIT_REV)"' $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS = $(WARN) $(OPT) $(SAN) -pthread $(CFLAGS)
ALL_LDFLAGS = $(SAN) -pthread $(LDFLAGS)
LIBS = $(PKG_LIBS) -lm

BIN := $(BUILD)/TechChallengeApp
APP_SRC := $(sort $(shell find src -name '*.c' ! -name main.c))
APP_OBJ := $(APP_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/assets_data.o
ASSETS := $(sort $(shell find assets -type f ! -name '.*'))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TESTS_T := $(sort $(shell find tests -name '*.t' -type f))

.PHONY: all run test check unit asan lint fmt clean bootstrap bootstrap-test
all: $(BIN)

$(BIN): $(BUILD)/src/main.o $(BUILD)/libapp.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/libapp.a: $(APP_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Assets are embedded: tools/embed turns every file under assets/ into a table of bytes, with
# a gzip copy where that is smaller (zlib is needed at build time only, not by the binary).
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -o $@ $< -lz

$(BUILD)/gen/assets_data.c: $(BUILD)/tools/embed $(ASSETS)
	@mkdir -p $(@D)
	$(Q)$(BUILD)/tools/embed assets $@ $(ASSETS)

$(BUILD)/gen/assets_data.o: $(BUILD)/gen/assets_data.c
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libapp.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -Itests/unit -MMD -MP $(ALL_LDFLAGS) -o $@ $< \
		$(BUILD)/libapp.a $(LIBS)

bootstrap:
	@scripts/bootstrap.sh build

bootstrap-test:
	@scripts/bootstrap.sh test

RUN_DIR ?= $(BUILD)/run
run: bootstrap
	@$(MAKE) --no-print-directory all
	@mkdir -p $(RUN_DIR)
	@cd $(RUN_DIR) && export VTT_DBTYPE=sqlite VTT_DBPATH=tasks.db; \
	  [ -f tasks.db ] || $(CURDIR)/$(BIN) updatedb; \
	  exec $(CURDIR)/$(BIN) serve

unit: $(UNIT_BIN)

# The whole suite: unit tests, then every tests/**/*.t against the real binary.
PROVE ?= prove
PROVE_FLAGS ?= --timer
test: bootstrap-test
	@$(MAKE) --no-print-directory check

check: $(BIN) $(UNIT_BIN)
	TCA_BIN=$(CURDIR)/$(BIN) TCA_BUILD=$(CURDIR)/$(BUILD) $(PROVE) $(PROVE_FLAGS) $(UNIT_BIN) $(TESTS_T)

asan: bootstrap-test
	@$(MAKE) --no-print-directory check BUILD=build-asan OPT='-O1 -g' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer'

C_FILES = $(shell find src tests tools -name '*.c' -o -name '*.h' | sort)
fmt:
	clang-format -i $(C_FILES)

lint: bootstrap
	clang-format --dry-run -Werror $(C_FILES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -Isrc $(APP_SRC) src/main.c
	clang-tidy --quiet $(APP_SRC) src/main.c -- $(ALL_CPPFLAGS) -std=c11 2>/dev/null

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(sort $(wildcard mk/*.mk))
