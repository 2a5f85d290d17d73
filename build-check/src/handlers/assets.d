build-check/src/handlers/assets.o: src/handlers/assets.c \
 src/assets_data.h src/handlers/handlers.h src/http/request.h \
 src/util/buf.h src/router.h src/http/request.h src/store/store.h
src/assets_data.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
