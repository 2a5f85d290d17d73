/*
 * request.h — one HTTP request as a handler sees it, and the response it builds.
 *
 * The server (server.c) fills the request, calls one handler, then sends what the handler set
 * with the http_respond_* functions. A request owns its memory: the body, the response body and
 * the extra headers are freed when the response has been sent. Handlers never see the HTTP
 * library.
 */
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct app;
struct MHD_Connection;

enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_METHOD_COUNT,
    HTTP_OTHER = HTTP_METHOD_COUNT, /* TRACE, CONNECT, anything else: always 405 */
};

#define HTTP_MAX_EXTRA_HEADERS 6

struct http_header {
    const char *name;
    char *value; /* owned */
};

struct http_request {
    /* Set by the server before the handler runs. */
    struct app *app;
    struct MHD_Connection *conn;
    enum http_method method;
    const char *path;  /* as received, percent-decoded */
    const char *param; /* the {id} segment of the matched route, if any */
    size_t param_len;
    int route_index;         /* into app_routes, for metrics (metrics.h) */
    const char *route_label; /* "/api/task/{id}/", for logs and metrics */
    struct buf body;         /* the request body */
    size_t discarded;        /* body bytes past the limit, read and dropped */
    bool counted;            /* reported to metrics */
    char request_id[65];
    uint64_t start_ns;

    /* Set by the handler through http_respond_*. */
    int status;
    const char *content_type;
    struct buf out;         /* response body, unless out_static is set */
    const void *out_static; /* a body that outlives the request (embedded assets) */
    size_t out_static_len;
    struct http_header headers[HTTP_MAX_EXTRA_HEADERS];
    size_t n_headers;
};

/* The value of a request header (case-insensitive name), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Responds with req->out as the body (the handler wrote into it). */
void http_respond(struct http_request *req, int status, const char *content_type);
/* Responds with a body that stays valid for the life of the process. */
void http_respond_static(struct http_request *req, int status, const char *content_type,
                         const void *data, size_t len);
/* Responds {"error": msg} as application/json. */
void http_respond_error(struct http_request *req, int status, const char *msg);
/* Adds a response header (value copied). */
void http_add_header(struct http_request *req, const char *name, const char *value);

extern const char *const http_method_names[HTTP_METHOD_COUNT];
enum http_method http_method_parse(const char *name);

#define HTTP_JSON "application/json; charset=utf-8"
#define HTTP_TEXT "text/plain; charset=utf-8"

#endif
