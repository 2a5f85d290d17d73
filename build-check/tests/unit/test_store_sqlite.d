build-check/tests/unit/test_store_sqlite: tests/unit/test_store_sqlite.c \
 src/config/config.h src/log.h src/config/config.h src/store/store.h \
 tests/unit/store_test_util.h src/util/xalloc.h tests/unit/tap.h
src/config/config.h:
src/log.h:
src/config/config.h:
src/store/store.h:
tests/unit/store_test_util.h:
src/util/xalloc.h:
tests/unit/tap.h:
