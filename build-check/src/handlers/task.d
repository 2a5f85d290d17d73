build-check/src/handlers/task.o: src/handlers/task.c src/app.h \
 src/handlers/handlers.h src/http/request.h src/util/buf.h src/router.h \
 src/http/request.h src/store/store.h src/task.h src/store/store.h \
 src/util/buf.h
src/app.h:
src/handlers/handlers.h:
src/http/request.h:
src/util/buf.h:
src/router.h:
src/http/request.h:
src/store/store.h:
src/task.h:
src/store/store.h:
src/util/buf.h:
