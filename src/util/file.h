/*
 * file.h — reading a small file whole: configuration, secrets, certificates.
 */
#ifndef UTIL_FILE_H
#define UTIL_FILE_H

#include <stddef.h>

/*
 * Reads the whole regular file at path, at most max bytes, into *data (NUL-terminated; the
 * caller frees it) with its length in *len. Returns 0, or -1 with errno set (EISDIR for a
 * directory, EFBIG when the file is larger than max) and nothing allocated.
 */
int file_read_all(const char *path, size_t max, char **data, size_t *len);

#endif
