build-check/src/json.o: src/json.c src/json.h src/util/buf.h
src/json.h:
src/util/buf.h:
