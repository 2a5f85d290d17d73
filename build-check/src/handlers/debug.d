build-check/src/handlers/debug.o: src/handlers/debug.c src/app.h \
 src/config/config.h src/handlers/handlers.h src/http/request.h \
 src/util/buf.h src/router.h src/http/request.h src/store/store.h \
 src/json.h src/util/buf.h
src/app.h:
src/config/config.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
src/json.h:
src/util/buf.h:
