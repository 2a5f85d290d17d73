build-check/src/main.o: src/main.c src/cmd/cmd.h src/config/config.h \
 src/log.h
src/cmd/cmd.h:
src/config/config.h:
src/log.h:
