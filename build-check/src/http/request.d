build-check/src/http/request.o: src/http/request.c src/http/request.h \
 src/util/buf.h src/json.h src/util/buf.h src/util/xalloc.h
src/http/request.h:
src/util/buf.h:
src/json.h:
src/util/buf.h:
src/util/xalloc.h:
