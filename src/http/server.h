/*
 * server.h — the HTTP/1.1 server: libmicrohttpd underneath (docs/adr/0001-http-library.md),
 * the route table and the handlers on top.
 *
 * http_server_start binds the listener (a clear error if it cannot) and starts the worker
 * threads; from then on requests are served until http_server_drain. Limits enforced here,
 * before any handler runs: request line + headers (431/414), body (MaxBodyBytes: 413), idle
 * connections (closed after a timeout). Every response carries the security headers, an
 * X-Request-Id, and is logged in one line when it completes.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stddef.h>

struct app;
struct http_server;

/* Starts serving app on cfg's ListenHost:ListenPort. Returns NULL with one line in err. */
struct http_server *http_server_start(struct app *app, char *err, size_t errlen);

/* The port actually bound (differs from ListenPort when that is 0). */
int http_server_port(const struct http_server *server);

/*
 * Graceful stop: closes the listener, lets in-flight requests finish for at most timeout_s
 * seconds (responses sent meanwhile say Connection: close), then stops every thread and
 * frees the server. Returns the number of requests still unfinished at the deadline.
 */
int http_server_drain(struct http_server *server, int timeout_s);

#endif
