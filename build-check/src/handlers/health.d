build-check/src/handlers/health.o: src/handlers/health.c src/app.h \
 src/handlers/handlers.h src/http/request.h src/util/buf.h src/router.h \
 src/http/request.h src/store/store.h
src/app.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
