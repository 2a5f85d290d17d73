build-check/tests/unit/test_config: tests/unit/test_config.c \
 src/config/config.h tests/unit/tap.h src/util/buf.h
src/config/config.h:
tests/unit/tap.h:
src/util/buf.h:
