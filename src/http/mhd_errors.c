/* mhd_errors.c — see mhd_errors.h. */
#include "http/mhd_errors.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The interposer (mhd_errors.h): only the library calls this. Its own page (resp) stays its
 * own; it destroys it when we return. */
enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    if (answer_fn && answer_fn(answer_cls, connection, status_code) == MHD_YES)
        return MHD_YES;
    return mhd_errors_queue(connection, status_code, response);
}
