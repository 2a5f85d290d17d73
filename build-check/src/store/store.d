build-check/src/store/store.o: src/store/store.c src/store/store.h \
 src/config/config.h src/metrics.h src/http/request.h src/util/buf.h \
 src/store/store.h src/util/buf.h src/store/store_backend.h
src/store/store.h:
src/config/config.h:
src/metrics.h:
src/http/request.h:
src/util/buf.h:
src/store/store.h:
src/util/buf.h:
src/store/store_backend.h:
