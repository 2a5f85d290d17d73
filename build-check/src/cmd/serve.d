build-check/src/cmd/serve.o: src/cmd/serve.c src/app.h src/cmd/cmd.h \
 src/config/config.h src/handlers/handlers.h src/http/request.h \
 src/util/buf.h src/router.h src/http/request.h src/store/store.h \
 src/http/server.h src/log.h src/config/config.h
src/app.h:
src/cmd/cmd.h:
src/config/config.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
src/http/server.h:
src/log.h:
src/config/config.h:
