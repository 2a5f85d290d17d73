build-check/src/store/store_sqlite.o: src/store/store_sqlite.c \
 src/config/config.h src/log.h src/config/config.h \
 src/store/store_backend.h src/store/store.h src/util/buf.h \
 src/util/xalloc.h
src/config/config.h:
src/log.h:
src/config/config.h:
src/store/store_backend.h:
src/store/store.h:
src/util/buf.h:
src/util/xalloc.h:
