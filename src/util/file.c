/* file.c — see file.h. */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

int file_read_all(const char *path, size_t max, char **data, size_t *len)
{
    struct stat st;
    char *text = NULL;
    size_t n = 0;
    int fd, saved;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        goto fail;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    text = xmalloc(max + 1);
    for (;;) {
        ssize_t got = read(fd, text + n, max + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            goto fail;
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > max) {
            errno = EFBIG;
            goto fail;
        }
    }
    close(fd);
    text[n] = '\0';
    *data = text;
    *len = n;
    return 0;

fail:
    saved = errno;
    free(text);
    close(fd);
    errno = saved;
    return -1;
}
