/*
 * buf.h — a growable byte buffer (in the manner of git's strbuf).
 *
 * data is always NUL-terminated (data[len] == '\0') once anything was appended, so it can be
 * used as a C string when it holds text. Growth goes through xrealloc and cannot fail.
 * The owner calls buf_release; buf_detach hands the bytes to the caller (caller frees).
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        0, 0, 0                                                                                    \
    }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Returns the bytes (NUL-terminated; never NULL) and leaves b empty. Caller frees. */
char *buf_detach(struct buf *b, size_t *len);

#endif
