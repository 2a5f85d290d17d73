build-check/src/http/server.o: src/http/server.c src/http/server.h \
 src/app.h src/config/config.h src/handlers/handlers.h src/http/request.h \
 src/util/buf.h src/router.h src/http/request.h src/store/store.h \
 src/log.h src/config/config.h src/metrics.h src/store/store.h \
 src/util/buf.h src/util/xalloc.h
src/http/server.h:
src/app.h:
src/config/config.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
src/log.h:
src/config/config.h:
src/metrics.h:
src/store/store.h:
src/util/buf.h:
src/util/xalloc.h:
