/*
 * file_util.h — reading a whole file into a buffer, for the unit tests that replay files.
 */
#ifndef FILE_UTIL_H
#define FILE_UTIL_H

#include <stdbool.h>
#include <stdio.h>

#include "util/buf.h"

/* Replaces out's contents with the bytes of path, NUL-terminated after out->len; false if the
 * file cannot be opened. */
static inline bool read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    if (!f)
        return false;
    buf_reset(out);
    buf_puts(out, "");
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
    return true;
}

#endif
