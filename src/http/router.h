/*
 * router.h — method + path -> handler, from a table of routes.
 *
 * A pattern is a path of literal segments and at most one "{name}" segment, which matches any
 * one non-empty segment and is handed to the handler as req->param. A path matches with or
 * without one trailing slash ("/api/task" and "/api/task/"). Routes are tried in table order.
 */
#ifndef HTTP_ROUTER_H
#define HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

typedef void (*route_handler_fn)(struct http_request *req);

struct route {
    const char *pattern; /* "/api/task/{id}" */
    const char *label;   /* "/api/task/{id}/": the name logs and metrics use */
    route_handler_fn handlers[HTTP_METHOD_COUNT]; /* NULL: method not allowed; HEAD -> GET */
};

enum route_result {
    ROUTE_FOUND,
    ROUTE_NO_PATH,   /* no pattern matches the path: 404 */
    ROUTE_NO_METHOD, /* a pattern matches but has no handler for the method: 405 */
};

struct route_match {
    const struct route *route; /* the matching route (also for ROUTE_NO_METHOD) */
    route_handler_fn handler;
    const char *param; /* points into path */
    size_t param_len;
};

enum route_result router_match(const struct route *routes, size_t n, enum http_method method,
                               const char *path, struct route_match *out);

/* What a server serves: a route table, and the handler for a GET or HEAD of any path no route
 * matches (NULL: 404) with the route name logs and metrics give it. The application owns it
 * and hands it to http_server_start, so the server never names a handler. */
struct route_table {
    const struct route *routes;
    size_t n;
    route_handler_fn fallback;
    const char *fallback_label;
};

/* Writes the Allow header value for route ("GET, HEAD, POST") into buf. */
void router_allow(const struct route *route, struct buf *allow);

#endif
