/*
 * app.h — what every handler may reach: the configuration and the store.
 *
 * Made once by `serve` before the server starts and freed after it stops; read-only in between.
 * The server hands it to every handler as req->app without looking inside (http/server.h).
 */
#ifndef APP_H
#define APP_H

#include <time.h>

struct config;
struct store;
struct batcher;

struct app {
    const struct config *cfg;
    struct store *store;
    struct batcher *lists;   /* batches of GET /api/task/ (task_list.c), or NULL */
    struct batcher *gets;    /* batches of GET /api/task/{id}/ (task.c), or NULL */
    struct batcher *creates; /* batches of POST /api/task/ (task.c), or NULL */
    time_t started;
};

#endif
