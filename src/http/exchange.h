/*
 * exchange.h — a request as the server holds it: the handler's struct http_request, embedded,
 * plus what only the server uses (the library's connection, the response being built, what the
 * access log and metrics need). Private to http/: server.c makes and frees exchanges, request.c
 * implements the handler-facing functions on them. Handlers see only the embedded request.
 *
 * The response body is one tagged value (compare h2o's h2o_iovec_t with its owner): data and
 * len are the bytes whatever the kind, and the kind says who frees them. It is set by each
 * http_respond_* (which frees the one it replaces) and handed to the library's response by the
 * server, which leaves it empty and records the size in bytes_sent for the access log.
 */
#ifndef HTTP_EXCHANGE_H
#define HTTP_EXCHANGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/guard.h"
#include "http/request.h"

struct MHD_Connection;

#define HTTP_MAX_EXTRA_HEADERS 6

struct http_header {
    const char *name;
    char *value; /* owned */
};

enum http_out_kind {
    HTTP_OUT_STATIC, /* outlives the process (embedded assets, literals); also the empty body */
    HTTP_OUT_OWNED,  /* malloc'd (from req->out), own.buf */
    HTTP_OUT_SHARED, /* own.shared->data, one reference held */
};

struct http_out {
    enum http_out_kind kind;
    const char *data;
    size_t len;
    union {
        char *buf;
        struct http_body *shared;
    } own;
};

struct http_exchange {
    struct http_request req; /* what the handler sees */

    /* Set by the server. */
    struct MHD_Connection *conn; /* NULL until the head has been handed to us */
    const atomic_bool *draining; /* the server's, for http_draining */
    uint64_t start_ns;
    int route_index;         /* into the server's route table, for metrics (http/stats.h) */
    const char *route_label; /* "/api/task/{id}/", for logs and metrics */
    size_t discarded;        /* body bytes past the limit, read and dropped */
    bool counted;            /* reported to metrics */
    bool suspended;          /* answered later by another thread (http_suspend) */
    char request_id[GUARD_REQUEST_ID_MAX + 1];
    char amzn_trace_id[257]; /* X-Amzn-Trace-Id if valid (http/trace.h), else "" */
    char traceparent[56];    /* W3C traceparent if valid, else "" */

    /* The response, set through http_respond_* and http_add_header. */
    int status; /* 0 until answered */
    const char *content_type;
    struct http_out out;
    size_t bytes_sent;      /* the body's length when it was handed to the library */
    bool sent_past_library; /* the whole answer was written by us (server.c send_response_now) */
    struct http_header headers[HTTP_MAX_EXTRA_HEADERS];
    size_t n_headers;
};

static inline struct http_exchange *http_exchange_of(struct http_request *req)
{
    return (struct http_exchange *)((char *)req - offsetof(struct http_exchange, req));
}

static inline const struct http_exchange *http_exchange_of_const(const struct http_request *req)
{
    return (const struct http_exchange *)((const char *)req - offsetof(struct http_exchange, req));
}

/* Frees what out holds and leaves it empty. */
void http_out_release(struct http_out *out);

/* Frees the extra response headers. */
void http_headers_release(struct http_exchange *x);

#endif
