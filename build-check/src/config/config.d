build-check/src/config/config.o: src/config/config.c src/config/config.h \
 src/config/toml.h src/util/xalloc.h
src/config/config.h:
src/config/toml.h:
src/util/xalloc.h:
