build-check/tests/unit/test_fuzz_replay: tests/unit/test_fuzz_replay.c \
 src/config/toml.h tests/unit/tap.h src/util/buf.h
src/config/toml.h:
tests/unit/tap.h:
src/util/buf.h:
