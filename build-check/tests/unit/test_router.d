build-check/tests/unit/test_router: tests/unit/test_router.c src/router.h \
 src/http/request.h src/util/buf.h tests/unit/tap.h
src/router.h:
src/http/request.h:
src/util/buf.h:
tests/unit/tap.h:
