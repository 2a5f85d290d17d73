/* mhd_errors.c — see mhd_errors.h. */
#include "http/mhd_errors.h"

#include <dlfcn.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/clock.h"

typedef enum MHD_Result (*queue_fn)(struct MHD_Connection *, unsigned, struct MHD_Response *);

static queue_fn real_queue;
static pthread_once_t real_queue_once = PTHREAD_ONCE_INIT;
/* Set before the daemon's threads start, read by them only. */
static mhd_errors_answer_fn answer_fn;
static void *answer_cls;

static void find_real_queue(void)
{
    /* The next definition after the executable's own: the library's. */
    void *sym = dlsym(RTLD_NEXT, "MHD_queue_response");
    if (!sym) {
        fprintf(stderr, "cannot find libmicrohttpd's MHD_queue_response: %s\n", dlerror());
        abort();
    }
    memcpy(&real_queue, &sym, sizeof real_queue); /* ISO C has no object-to-function cast */
}

bool mhd_errors_init(mhd_errors_answer_fn answer, void *cls)
{
    pthread_once(&real_queue_once, find_real_queue);
    answer_fn = answer;
    answer_cls = cls;
    /* What the library's PLT binds to: the first definition in the global scope. */
    void *first = dlsym(RTLD_DEFAULT, "MHD_queue_response");
    queue_fn ours = MHD_queue_response;
    return first && memcmp(&first, &ours, sizeof first) == 0;
}

enum MHD_Result mhd_errors_queue(struct MHD_Connection *conn, unsigned status,
                                 struct MHD_Response *resp)
{
    pthread_once(&real_queue_once, find_real_queue);
    return real_queue(conn, status, resp);
}

/* Waits until fd can take more bytes, until deadline_ns; false when it is past. */
static bool wait_writable(int fd, uint64_t deadline_ns)
{
    uint64_t now = clock_now_ns();
    if (now >= deadline_ns)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int ms = (int)((deadline_ns - now) / 1000000) + 1;
    return poll(&p, 1, ms) > 0 || errno == EINTR;
}

bool mhd_errors_send(struct MHD_Connection *conn, const void *data, size_t len, int timeout_ms)
{
    const union MHD_ConnectionInfo *fd_info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *tls_info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!fd_info)
        return false;
    int fd = fd_info->connect_fd;
    gnutls_session_t tls = tls_info ? (gnutls_session_t)tls_info->tls_session : NULL;
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000;
    const char *p = data;
    while (len > 0) {
        ssize_t n = tls ? gnutls_record_send(tls, p, len) : send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        bool again = tls ? (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                         : (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
        if (!again || !wait_writable(fd, deadline))
            return false;
    }
    return true;
}

/* The interposer (mhd_errors.h): only the library calls this. Its own page (resp) stays its
 * own; it destroys it when we return. MHD_NO after our own answer went out: the library then
 * closes the connection without queueing anything. */
enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    if (answer_fn && answer_fn(answer_cls, connection, status_code) == MHD_ERRORS_SENT)
        return MHD_NO;
    return mhd_errors_queue(connection, status_code, response);
}
