/*
 * errbuf.h — printf into a caller's fixed error buffer (the `char *err, size_t errlen` pair of
 * config_load, store_open and the other calls that explain a failure in one line).
 *
 * The message is cut to fit (always NUL-terminated when errlen > 0): a long libpq or SQLite
 * cause is better shortened than lost.
 */
#ifndef ERRBUF_H
#define ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void errbuf_vset(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
