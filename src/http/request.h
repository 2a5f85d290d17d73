/*
 * request.h — one HTTP request as a handler sees it, and the response it builds.
 *
 * The server (server.c) fills the request, calls one handler, then sends what the handler set
 * with the http_respond_* functions. A request owns its memory: the body, the response body and
 * the extra headers are freed when the response has been sent. A response body is one of three
 * kinds (http/exchange.h): bytes the request owns (http_respond, http_respond_error), bytes that
 * outlive it (http_respond_static), or a shared body (http_respond_body). Handlers never see
 * the HTTP library, nor what only the server uses.
 */
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct app;

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

/*
 * What a handler sees of a request. The server holds more (http/exchange.h: the connection, the
 * response being built, what the access log and metrics need); handlers reach that only through
 * the functions below.
 */
struct http_request {
    /* Set by the server before the handler runs. */
    struct app *app; /* http_server_options.app: the caller's, never looked into here */
    enum http_method method;
    const char *path;  /* as received, percent-decoded */
    const char *param; /* the {id} segment of the matched route, if any */
    size_t param_len;
    struct buf body; /* the request body */

    /* Where a handler writes a response body before http_respond takes it. */
    struct buf out;
};

/* The value of a request header (case-insensitive name), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/*
 * Each http_respond_* sets the status, the content type (NULL: none) and the body, replacing
 * whatever an earlier call set: the last call wins, and the body it replaces is freed.
 */

/* Responds with what req->out holds now (the handler wrote into it): the response takes those
 * bytes and req->out is left empty, so write the body first and respond last. */
void http_respond(struct http_request *req, int status, const char *content_type);
/* Responds with a body that stays valid for the life of the process. */
void http_respond_static(struct http_request *req, int status, const char *content_type,
                         const void *data, size_t len);
/* Responds with a shared body; takes a reference of its own. */
void http_respond_body(struct http_request *req, int status, const char *content_type,
                       struct http_body *body);
/* Responds {"error": msg} as application/json (req->out is emptied first). */
void http_respond_error(struct http_request *req, int status, const char *msg);
/* Adds a response header (value copied). At most 6 per response. */
void http_add_header(struct http_request *req, const char *name, const char *value);

/* True once the server has begun a graceful stop (http_server_quiesce): readiness says 503. */
bool http_draining(const struct http_request *req);

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
