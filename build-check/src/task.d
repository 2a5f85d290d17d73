build-check/src/task.o: src/task.c src/task.h src/store/store.h \
 src/util/buf.h src/json.h src/util/xalloc.h
src/task.h:
src/store/store.h:
src/util/buf.h:
src/json.h:
src/util/xalloc.h:
