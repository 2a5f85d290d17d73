build-check/src/handlers/task_list.o: src/handlers/task_list.c src/app.h \
 src/handlers/handlers.h src/http/request.h src/util/buf.h src/router.h \
 src/http/request.h src/store/store.h src/task.h src/store/store.h \
 src/util/buf.h src/util/xalloc.h
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
src/util/xalloc.h:
