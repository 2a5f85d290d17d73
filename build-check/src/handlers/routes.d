build-check/src/handlers/routes.o: src/handlers/routes.c \
 src/handlers/handlers.h src/http/request.h src/util/buf.h src/router.h \
 src/http/request.h src/store/store.h
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
