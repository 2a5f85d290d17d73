build-check/src/log.o: src/log.c src/log.h src/config/config.h src/json.h \
 src/util/buf.h src/util/xalloc.h
src/log.h:
src/config/config.h:
src/json.h:
src/util/buf.h:
src/util/xalloc.h:
