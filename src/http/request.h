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

#include <stdatomic.h>
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

/* The statuses the application answers with, so that handlers need no HTTP library header.
 * http_respond_* take any int; these are the ones in use. */
enum http_status {
    HTTP_STATUS_OK = 200,
    HTTP_STATUS_NO_CONTENT = 204,
    HTTP_STATUS_MOVED_PERMANENTLY = 301,
    HTTP_STATUS_NOT_MODIFIED = 304,
    HTTP_STATUS_BAD_REQUEST = 400,
    HTTP_STATUS_NOT_FOUND = 404,
    HTTP_STATUS_METHOD_NOT_ALLOWED = 405,
    HTTP_STATUS_CONTENT_TOO_LARGE = 413,
    HTTP_STATUS_HEADER_FIELDS_TOO_LARGE = 431,
    HTTP_STATUS_INTERNAL_SERVER_ERROR = 500,
    HTTP_STATUS_SERVICE_UNAVAILABLE = 503,
};

#define HTTP_MAX_EXTRA_HEADERS 6

/* A response body shared by several requests (one rendering of a list sent to every request of
 * a batch): reference-counted, freed with the last response that carries it. */
struct http_body {
    atomic_int refs;
    size_t len;
    char *data;
};

/* Takes the bytes of b (left empty) into a new body with one reference. */
struct http_body *http_body_new(struct buf *b);
void http_body_ref(struct http_body *body);
void http_body_unref(struct http_body *body);

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
    int route_index;         /* into the server's route table, for metrics (metrics.h) */
    const char *route_label; /* "/api/task/{id}/", for logs and metrics */
    struct buf body;         /* the request body */
    size_t discarded;        /* body bytes past the limit, read and dropped */
    bool counted;            /* reported to metrics */
    char request_id[65];
    char amzn_trace_id[257]; /* X-Amzn-Trace-Id if valid (http/trace.h), else "" */
    char traceparent[56];    /* W3C traceparent if valid, else "" */
    uint64_t start_ns;

    /* Set by the handler through http_respond_*. */
    int status;
    const char *content_type;
    struct buf out;         /* response body, unless out_static is set */
    const void *out_static; /* a body that outlives the request (embedded assets) */
    size_t out_static_len;
    struct http_body *out_body; /* a shared body (one reference held), else NULL */
    bool suspended;             /* answered later by another thread (http_suspend) */
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
/* Responds with a shared body; takes a reference of its own. */
void http_respond_body(struct http_request *req, int status, const char *content_type,
                       struct http_body *body);
/* Responds {"error": msg} as application/json. */
void http_respond_error(struct http_request *req, int status, const char *msg);
/* Adds a response header (value copied). */
void http_add_header(struct http_request *req, const char *name, const char *value);

/*
 * Suspends a request whose answer another thread will give: the handler returns without
 * responding, the worker thread goes on serving other connections, and the other thread later
 * calls http_respond_* on req and then http_resume(req), after which req belongs to the server
 * again. Call http_suspend while holding the lock under which the other thread finds req, so
 * that http_resume can never come first. Every suspended request must be resumed (the server
 * cannot stop with suspended connections).
 */
void http_suspend(struct http_request *req);
void http_resume(struct http_request *req);

extern const char *const http_method_names[HTTP_METHOD_COUNT];
enum http_method http_method_parse(const char *name);

#define HTTP_JSON "application/json; charset=utf-8"
#define HTTP_TEXT "text/plain; charset=utf-8"

#endif
