build-check/tests/unit/test_store_pg: tests/unit/test_store_pg.c \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h src/config/config.h src/log.h \
 src/config/config.h src/store/store.h tests/unit/tap.h src/util/buf.h \
 src/util/xalloc.h
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
src/config/config.h:
src/log.h:
src/config/config.h:
src/store/store.h:
tests/unit/tap.h:
src/util/buf.h:
src/util/xalloc.h:
