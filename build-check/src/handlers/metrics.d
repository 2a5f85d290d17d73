build-check/src/handlers/metrics.o: src/handlers/metrics.c src/app.h \
 src/handlers/handlers.h src/http/request.h src/util/buf.h src/router.h \
 src/http/request.h src/store/store.h src/metrics.h src/store/store.h \
 src/util/buf.h
src/app.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
src/metrics.h:
src/store/store.h:
src/util/buf.h:
