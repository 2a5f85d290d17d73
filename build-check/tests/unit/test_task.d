build-check/tests/unit/test_task: tests/unit/test_task.c tests/unit/tap.h \
 src/task.h src/store/store.h src/util/buf.h
tests/unit/tap.h:
src/task.h:
src/store/store.h:
src/util/buf.h:
