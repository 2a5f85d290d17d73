build-check/src/router.o: src/router.c src/router.h src/http/request.h \
 src/util/buf.h
src/router.h:
src/http/request.h:
src/util/buf.h:
