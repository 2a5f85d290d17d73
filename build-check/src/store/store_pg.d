build-check/src/store/store_pg.o: src/store/store_pg.c \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h src/config/config.h src/log.h \
 src/config/config.h src/store/store_backend.h src/store/store.h \
 src/util/buf.h src/util/xalloc.h
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
src/config/config.h:
src/log.h:
src/config/config.h:
src/store/store_backend.h:
src/store/store.h:
src/util/buf.h:
src/util/xalloc.h:
