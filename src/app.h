/*
 * app.h — what every handler may reach: the configuration, the store and the handlers' state.
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
struct handlers;
struct http_tls;

struct app {
    const struct config *cfg;
    struct store *store;
    struct handlers *handlers; /* the handlers' own state (handlers_open), opaque here */
    struct http_tls *tls;      /* HTTPS on the listener (http/tls.c), or NULL for plain HTTP */
    time_t started;
    atomic_bool draining; /* SIGTERM received: health says 503, responses say Connection: close */
};

#endif
