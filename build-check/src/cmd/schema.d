build-check/src/cmd/schema.o: src/cmd/schema.c src/cmd/cmd.h \
 src/store/store.h
src/cmd/cmd.h:
src/store/store.h:
