/*
 * server.h — the HTTP/1.1 server: libmicrohttpd underneath (docs/adr/0001-http-library.md,
 * 0015), and on top the route table its caller hands it (http/router.h).
 *
 * http_server_start binds the listener (a clear error if it cannot) and starts the worker
 * threads; from then on requests are served until the graceful stop below. Limits enforced
 * here, before any handler runs: request line + headers (431), body (MaxBodyBytes: 413), idle
 * connections (closed after a timeout). Every response carries the security headers, an
 * X-Request-Id, and is logged in one line when it completes; so do the answers to requests the
 * library's parser refuses before any handler (http/mhd_errors.h). A connection answered before its
 * request was read in full closes with a lingering close (lingering.h).
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stddef.h>

struct app;
struct http_server;
struct route_table;

/* Starts serving app with routes (which must outlive the server) on cfg's ListenHost:ListenPort.
 * Returns NULL with one line in err. */
struct http_server *http_server_start(struct app *app, const struct route_table *routes, char *err,
                                      size_t errlen);

/* The port actually bound (differs from ListenPort when that is 0). */
int http_server_port(const struct http_server *server);

/*
 * Graceful stop, in three calls. http_server_quiesce closes the listener, ends idle keep-alive
 * connections at once and makes every response from then on say Connection: close. Then call
 * http_server_drain_step every few milliseconds: it ends connections that have gone idle since
 * and returns what is still open (connections, or requests in flight); 0 means drained.
 * http_server_stop stops every thread, closes what is left and frees the server; it returns the
 * number of requests still unfinished, which were cut off.
 */
void http_server_quiesce(struct http_server *server);
unsigned http_server_drain_step(struct http_server *server);
int http_server_stop(struct http_server *server);

#endif
