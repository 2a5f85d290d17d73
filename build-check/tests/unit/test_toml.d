build-check/tests/unit/test_toml: tests/unit/test_toml.c \
 src/config/toml.h tests/unit/tap.h src/util/buf.h
src/config/toml.h:
tests/unit/tap.h:
src/util/buf.h:
