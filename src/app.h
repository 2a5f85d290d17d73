/*
 * app.h — what every handler may reach: the configuration, the store and the handlers' state.
 *
 * Made once by `serve` before the server starts and freed after it stops; read-only in between.
 * The server hands it to every handler as req->app without looking inside (http/server.h).
 */
#ifndef APP_H
#define APP_H

#include <time.h>

struct config;
struct store;
struct handlers;

struct app {
    const struct config *cfg;
    struct store *store;
    struct handlers *handlers; /* the handlers' own state (handlers_open), opaque here */
    time_t started;
};

#endif
