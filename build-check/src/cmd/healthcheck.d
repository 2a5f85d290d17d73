build-check/src/cmd/healthcheck.o: src/cmd/healthcheck.c src/cmd/cmd.h \
 src/config/config.h
src/cmd/cmd.h:
src/config/config.h:
