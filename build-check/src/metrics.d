build-check/src/metrics.o: src/metrics.c src/metrics.h src/http/request.h \
 src/util/buf.h src/store/store.h src/util/buf.h src/util/xalloc.h
src/metrics.h:
src/http/request.h:
src/util/buf.h:
src/store/store.h:
src/util/buf.h:
src/util/xalloc.h:
