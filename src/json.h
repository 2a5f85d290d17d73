/*
 * json.h — writing JSON text into a buf. (Reading JSON is jansson's job; see task_codec.c.)
 *
 * json_put_string writes a JSON string literal for exactly len bytes: quotes, backslashes and
 * control characters are escaped, everything else (UTF-8 included) is copied byte for byte, so
 * a title round-trips unchanged. The caller has checked that the bytes are valid UTF-8.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

#include "util/buf.h"

void json_put_string(struct buf *b, const char *s, size_t len);
/* A {"error": msg} document, msg as a JSON string. */
void json_put_error(struct buf *b, const char *msg);

#endif
