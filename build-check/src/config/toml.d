build-check/src/config/toml.o: src/config/toml.c src/config/toml.h \
 src/util/buf.h src/util/xalloc.h
src/config/toml.h:
src/util/buf.h:
src/util/xalloc.h:
