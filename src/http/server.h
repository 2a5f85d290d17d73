/*
 * server.h — the HTTP/1.1 server: libmicrohttpd underneath (docs/adr/0001-http-library.md,
 * 0015), and on top the route table its caller hands it (http/router.h).
 *
 * The server knows nothing of the application above it: its caller hands it the address, the
 * limits, the TLS object, the routes and a context pointer for the handlers, all in
 * struct http_server_options. http_server_start binds the listener (a clear error if it
 * cannot) and starts the worker threads; from then on requests are served until the graceful
 * stop below. Limits enforced here, before any handler runs: request line + headers (431),
 * body (max_body: 413), idle connections (closed after a timeout). Every response carries the
 * security headers, an X-Request-Id, and is logged in one line when it completes; so do the
 * answers to requests the library's parser refuses before any handler (http/mhd_errors.h). A
 * connection answered before its request was read in full closes with a lingering close
 * (lingering.h).
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stddef.h>

struct app;
struct http_server;
struct http_tls;
struct route_table;

/* What the server is told by its caller (cmd/serve.c), read at start. Everything pointed to
 * must outlive the server. */
struct http_server_options {
    const char *host;                 /* ListenHost: the address to listen on */
    int port;                         /* ListenPort; 0: any free port (http_server_port) */
    int threads;                      /* worker threads; 0: two per CPU, at least 4 */
    size_t max_body;                  /* MaxBodyBytes: a longer request body is refused, 413 */
    struct http_tls *tls;             /* HTTPS on the listener (http/tls.h), or NULL */
    const struct route_table *routes; /* what is served (http/router.h) */
    struct app *app;                  /* handed to every handler as req->app, never looked into */
};

/* Starts serving opts->routes on opts->host:opts->port. Returns NULL with one line in err. */
struct http_server *http_server_start(const struct http_server_options *opts, char *err,
                                      size_t errlen);

/* The port actually bound (differs from ListenPort when that is 0). */
int http_server_port(const struct http_server *server);

/*
 * Graceful stop, in three calls. http_server_quiesce closes the listener, ends idle keep-alive
 * connections at once and makes every response from then on say Connection: close. Then call
 * http_server_drain_step every few milliseconds: it ends connections that have gone idle since
 * and returns what is still open (connections, or requests in flight); 0 means drained.
 * http_server_stop stops every thread, closes what is left and frees the server; it returns the
 * number of requests still unfinished, which were cut off. From http_server_quiesce on,
 * http_draining (http/request.h) is true for every request: the server owns that flag.
 */
void http_server_quiesce(struct http_server *server);
unsigned http_server_drain_step(struct http_server *server);
int http_server_stop(struct http_server *server);

#endif
