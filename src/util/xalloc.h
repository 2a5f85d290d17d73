/*
 * xalloc.h — allocation that cannot fail: on out-of-memory the process aborts with a message.
 *
 * A server that cannot allocate a few bytes cannot answer either; one abort point keeps every
 * caller free of unreachable error paths.
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
