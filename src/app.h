/*
 * app.h — what every handler may reach: the configuration and the store.
 *
 * Made once by `serve` before the server starts and freed after it stops; read-only in between
 * except for the atomic flags.
 */
#ifndef APP_H
#define APP_H

#include <stdatomic.h>
#include <time.h>

struct config;
struct store;
struct batcher;
struct list_cache;
struct http_tls;

struct app {
    const struct config *cfg;
    struct store *store;
    struct batcher *lists;         /* batches of GET /api/task/ (task_list.c), or NULL */
    struct batcher *gets;          /* batches of GET /api/task/{id}/ (task.c), or NULL */
    struct batcher *creates;       /* batches of POST /api/task/ (task.c), or NULL */
    struct list_cache *list_cache; /* the last GET list body (task_list.c) */
    struct http_tls *tls;          /* HTTPS on the listener (http/tls.c), or NULL for plain HTTP */
    time_t started;
    atomic_bool draining; /* SIGTERM received: health says 503, responses say Connection: close */
};

#endif
