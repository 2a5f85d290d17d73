/*
 * server.c — see server.h.
 *
 * libmicrohttpd calls the access handler several times per request: once when the headers are
 * in, once per chunk of body, and once more when the body is complete. We answer on the last
 * call only (answering earlier makes it close the connection), except to refuse a body that
 * is too large, which we do as soon as we know.
 */
#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/exchange.h"
#include "http/guard.h"
#include "http/lingering.h"
#include "http/mhd_errors.h"
#include "http/router.h"
#include "http/stats.h"
#include "http/tls.h"
#include "http/trace.h"
#include "log.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Idle keep-alive connections are closed after this long. Longer than an AWS ALB's default
 * idle timeout (60 s), so the balancer, not us, closes idle connections: otherwise it may send
 * a request on a connection we are closing (a 502 for the client). */
#define IDLE_TIMEOUT_S 75
/* Request line + headers: over this, 431 (ours, JSON). */
#define HEADER_LIMIT 16384
/* More header fields than this: 431 too. */
#define HEADER_FIELDS_MAX 100
/* The library's per-connection memory. The request head is read into it and the response
 * head is built in what is left, so it is HEADER_LIMIT plus room for our largest response head:
 * a head within our limit is served, one just over it gets our 431. A head of about this size
 * leaves no room for the answer and the library closes without one; a larger head gets the
 * library's own 431 page. Every connection that has served a request touches all of it: each
 * KiB here is 256 KiB of RSS at 256 connections (ADRs 0009 and 0015). */
#define CONNECTION_MEMORY (20 * 1024)
/* While stopping, a connection that has not started a request yet is left alone this long after
 * it was accepted: a proxy opens one to send a request at once. */
#define NEW_CONN_GRACE_MS 1000
/* Lingering close after an early error (lingering.h): at most this long in all, this long
 * without input, this many bytes, this many connections at once. */
#define LINGER_MAX_MS    10000
#define LINGER_IDLE_MS   2000
#define LINGER_MAX_BYTES ((size_t)256 * 1024 * 1024)
#define LINGER_MAX_CONNS 1024

/* One open connection, from accept to close (MHD_OPTION_NOTIFY_CONNECTION): what a graceful
 * stop and the lingering close need to know about it. */
struct http_conn {
    int fd;
    uint64_t accepted_ns;
    atomic_bool used;        /* a request has started on it */
    atomic_bool busy;        /* a request has started on it and is not complete */
    atomic_bool linger;      /* answered before its request was read in full */
    struct http_exchange *x; /* the request in progress, if any (its thread only) */
    struct http_conn *prev, *next;
};

struct http_server {
    struct MHD_Daemon *daemon;
    bool own_error_pages; /* the library's error pages are replaced by ours (mhd_errors.h) */
    struct app *app;      /* handed to handlers, never looked into */
    const struct route_table *routes;
    int listen_fd;
    int port;
    size_t max_body;
    atomic_bool draining; /* from http_server_quiesce on */
    atomic_int in_flight;
    const char **route_labels;
    struct lingering *linger;
    pthread_mutex_t conns_lock; /* guards the list, and each fd against being closed */
    struct http_conn *conns;
};

static const char content_security_policy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

static const struct {
    const char *name, *value;
} security_headers[] = {
    {"Content-Security-Policy", content_security_policy},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
};

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* True if the client has sent bytes nobody has read: closing now would reset the connection. */
static bool has_unread_input(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void conn_link(struct http_server *server, struct http_conn *c)
{
    pthread_mutex_lock(&server->conns_lock);
    c->next = server->conns;
    if (c->next)
        c->next->prev = c;
    server->conns = c;
    pthread_mutex_unlock(&server->conns_lock);
}

static void conn_unlink(struct http_server *server, struct http_conn *c)
{
    pthread_mutex_lock(&server->conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        server->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&server->conns_lock);
}

/* libmicrohttpd calls this when it accepts a connection and just before it closes one. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *server = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct http_conn *c = xcalloc(1, sizeof *c);
        c->fd = info ? info->connect_fd : -1;
        c->accepted_ns = clock_now_ns();
        conn_link(server, c);
        *socket_context = c;
        return;
    }
    struct http_conn *c = *socket_context;
    if (!c)
        return;
    *socket_context = NULL;
    conn_unlink(server, c);
    /* The library closes fd when we return. If the client may still be sending (we answered
     * before reading all of its request, or unread bytes wait), a duplicate of fd keeps the
     * connection open for the lingering close, so that it does not end in a reset. */
    if (c->fd >= 0 && (atomic_load(&c->linger) || has_unread_input(c->fd))) {
        int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
        if (fd >= 0)
            lingering_add(server->linger, fd);
    }
    free(c);
}

static struct http_exchange *request_new(struct http_server *server)
{
    struct http_exchange *x = xcalloc(1, sizeof *x);
    x->req.app = server->app;
    x->draining = &server->draining;
    x->start_ns = clock_now_ns();
    x->route_index = -1;
    atomic_fetch_add(&server->in_flight, 1);
    http_stats_request_started();
    return x;
}

/* libmicrohttpd calls this once per request, before the headers are parsed. */
static void *on_request_start(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *server = cls;
    (void)uri;
    struct http_conn *c = conn_of(conn);
    if (c) {
        atomic_store(&c->used, true);
        atomic_store(&c->busy, true);
    }
    struct http_exchange *x = request_new(server);
    if (c)
        c->x = x;
    return x;
}

static void request_free(struct http_exchange *x)
{
    buf_release(&x->req.body);
    buf_release(&x->req.out);
    http_out_release(&x->out);
    http_headers_release(x);
    free(x);
}

/* The access log line of a request that got an answer or was begun (its head was read). */
static void log_request(const struct http_exchange *x, bool completed)
{
    const struct http_request *req = &x->req;
    long long us = (long long)((clock_now_ns() - x->start_ns) / 1000);
    const char *method = !req->path                        ? "-"
                         : req->method < HTTP_METHOD_COUNT ? http_method_names[req->method]
                                                           : "OTHER";
    struct log_field fields[9] = {
        {"method", method, 0},
        {"path", req->path ? req->path : "-", 0},
        {"route", x->route_label ? x->route_label : "-", 0},
        {"status", NULL, x->status},
        {"duration_us", NULL, us},
        {"bytes", NULL, (long long)x->bytes_sent},
        {"completed", NULL, completed},
    };
    size_t n = 7;
    if (x->amzn_trace_id[0])
        fields[n++] = (struct log_field){"amzn_trace_id", x->amzn_trace_id, 0};
    if (x->traceparent[0])
        fields[n++] = (struct log_field){"traceparent", x->traceparent, 0};
    log_set_request_id(x->request_id);
    log_fields(LOG_INFO, "request", fields, n);
    log_set_request_id(NULL);
}

/* Logs req if there is something to log, counts it if no response was queued (the client went
 * away), and frees it. */
static void request_finish(struct http_server *server, struct http_exchange *x, bool completed)
{
    if (x->req.path || x->counted)
        log_request(x, completed);
    if (!x->counted)
        http_stats_request_done(x->route_index, x->req.method, 0, clock_now_ns() - x->start_ns);
    request_free(x);
    atomic_fetch_sub(&server->in_flight, 1);
}

static void on_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode why)
{
    struct http_server *server = cls;
    struct http_exchange *x = *con_cls;
    struct http_conn *c = conn_of(conn);
    if (c) {
        atomic_store(&c->busy, false);
        c->x = NULL;
    }
    if (!x)
        return;
    *con_cls = NULL;
    request_finish(server, x, why == MHD_REQUEST_TERMINATED_COMPLETED_OK || x->sent_past_library);
}

static void free_owned(void *data)
{
    free(data);
}

static void unref_shared(void *body)
{
    http_body_unref(body);
}

/* A library response carrying x's body, which it frees once sent; x's body is left empty. */
static struct MHD_Response *response_new(struct http_exchange *x)
{
    struct http_out *out = &x->out;
    struct MHD_Response *resp = NULL;
    switch (out->kind) {
    case HTTP_OUT_STATIC:
        resp = MHD_create_response_from_buffer(out->len, (void *)out->data, MHD_RESPMEM_PERSISTENT);
        break;
    case HTTP_OUT_OWNED:
        resp = MHD_create_response_from_buffer_with_free_callback_cls(out->len, out->own.buf,
                                                                      free_owned, out->own.buf);
        break;
    case HTTP_OUT_SHARED:
        resp = MHD_create_response_from_buffer_with_free_callback_cls(
            out->len, out->own.shared->data, unref_shared, out->own.shared);
        break;
    }
    if (!resp)
        return NULL; /* the body stays x's, freed with it */
    x->bytes_sent = out->len;
    *out = (struct http_out){HTTP_OUT_STATIC, NULL, 0, {NULL}};
    return resp;
}

/* x's response as a library response carrying every header of ours; NULL if out of memory
 * (x's body then stays x's). */
static struct MHD_Response *response_build(struct http_server *server, struct http_exchange *x)
{
    struct MHD_Response *resp = response_new(x);
    if (!resp)
        return NULL;
    if (x->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, x->content_type);
    for (size_t i = 0; i < ARRAY_SIZE(security_headers); i++)
        MHD_add_response_header(resp, security_headers[i].name, security_headers[i].value);
    bool has_cache_control = false, has_connection = false;
    for (size_t i = 0; i < x->n_headers; i++) {
        MHD_add_response_header(resp, x->headers[i].name, x->headers[i].value);
        has_cache_control |= strcmp(x->headers[i].name, "Cache-Control") == 0;
        has_connection |= strcmp(x->headers[i].name, MHD_HTTP_HEADER_CONNECTION) == 0;
    }
    if (!has_cache_control)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Request-Id", x->request_id);
    if (!has_connection && atomic_load(&server->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return resp;
}

/* Counted when answered, so a client that got its answer also sees it in /metrics; once, even
 * if the library's parser replaces an answer (answer_library_error). */
static void count_once(struct http_exchange *x)
{
    if (!x->counted)
        http_stats_request_done(x->route_index, x->req.method, x->status,
                                clock_now_ns() - x->start_ns);
    x->counted = true;
}

static enum MHD_Result send_response(struct http_server *server, struct http_exchange *x)
{
    struct MHD_Response *resp = response_build(server, x);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = mhd_errors_queue(x->conn, (unsigned)x->status, resp);
    MHD_destroy_response(resp);
    count_once(x);
    return rc;
}

static enum MHD_Result put_header(void *wire, enum MHD_ValueKind kind, const char *name,
                                  const char *value)
{
    (void)kind;
    buf_printf(wire, "%s: %s\r\n", name, value);
    return MHD_YES;
}

/* How long an answer written past the library may wait for room in the socket. */
#define SEND_NOW_TIMEOUT_MS 1000

/* Set on the library's thread when our answer went out past it and we are about to make it
 * close the connection: the one "closing" message it then logs is not a failure
 * (on_library_error). */
static _Thread_local bool closing_after_own_answer;

/*
 * Writes x's response on its connection at once, past the library (mhd_errors.h): the status
 * line, Date, every header of ours, Content-Length and the body — what the library would have
 * sent for it. False (nothing written) if out of memory.
 */
static bool send_response_now(struct http_server *server, struct http_exchange *x)
{
    const char *body = x->out.data; /* the response takes it over and keeps it until destroyed */
    size_t len = x->out.len;
    struct MHD_Response *resp = response_build(server, x);
    if (!resp)
        return false;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    struct buf wire = BUF_INIT;
    buf_printf(&wire, "HTTP/1.1 %d %s\r\nDate: %s\r\n", x->status,
               MHD_get_reason_phrase_for((unsigned)x->status), date);
    MHD_get_response_headers(resp, put_header, &wire);
    buf_printf(&wire, "Content-Length: %zu\r\n\r\n", len);
    buf_append(&wire, body, len);
    x->sent_past_library = mhd_errors_send(x->conn, wire.data, wire.len, SEND_NOW_TIMEOUT_MS);
    if (!x->sent_past_library)
        log_debug("http: the client took no answer to its refused request");
    buf_release(&wire);
    MHD_destroy_response(resp);
    count_once(x);
    return true;
}

static void dispatch(const struct route_table *table, struct http_exchange *x)
{
    struct http_request *req = &x->req;
    struct route_match match;
    enum route_result result =
        router_match(table->routes, table->n, req->method, req->path, &match);
    if (match.route) {
        x->route_label = match.route->label;
        x->route_index = (int)(match.route - table->routes);
    }
    if (result == ROUTE_FOUND) {
        req->param = match.param;
        req->param_len = match.param_len;
        match.handler(req);
        return;
    }
    if (result == ROUTE_NO_PATH && table->fallback &&
        (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
        x->route_label = table->fallback_label;
        x->route_index = (int)table->n;
        table->fallback(req);
        return;
    }
    if (result == ROUTE_NO_PATH && req->method != HTTP_OTHER) {
        http_respond_error(req, HTTP_STATUS_NOT_FOUND, "not found");
        return;
    }
    struct buf allow = BUF_INIT;
    if (match.route)
        router_allow(match.route, &allow);
    else
        buf_puts(&allow, "GET, HEAD");
    if (req->method == HTTP_OPTIONS) {
        http_respond(req, HTTP_STATUS_NO_CONTENT, NULL);
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "method not allowed; allowed: %s", allow.data);
        http_respond_error(req, HTTP_STATUS_METHOD_NOT_ALLOWED, msg);
    }
    http_add_header(req, "Allow", allow.data);
    buf_release(&allow);
}

static enum MHD_Result framing_visit(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    return guard_framing_field(cls, key, key_size, value, value_size) ? MHD_YES : MHD_NO;
}

/* Why the request's head is refused (http/guard.h), or NULL; *fields: how many it has. */
static const char *request_framing_error(struct MHD_Connection *conn, int *fields)
{
    struct guard_framing f = {0};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, framing_visit, &f);
    *fields = f.fields;
    return guard_framing_verdict(&f);
}

/* libmicrohttpd's own %-decoding, with a decoded NUL made visible (guard_mark_nul). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t n = MHD_http_unescape(s);
    guard_mark_nul(s, n);
    return n;
}

/*
 * Answers before the request has been read in full (a 4xx on its head or on a body over the
 * limit). The connection is closed after the response and lingers (lingering.h), so that the
 * client reads the answer even while it is still sending.
 */
/* Makes x's answer an early error: JSON, Connection: close, and the connection lingers. */
static void set_early_error(struct http_exchange *x, int status, const char *msg)
{
    http_respond_error(&x->req, status, msg);
    http_add_header(&x->req, MHD_HTTP_HEADER_CONNECTION, "close");
    struct http_conn *c = conn_of(x->conn);
    if (c)
        atomic_store(&c->linger, true);
}

/*
 * Answers a request refused from its head alone (framing, size, an announced oversized body),
 * written at once past the library (send_response_now), which then closes the connection; it
 * lingers. Not queued through the library: a head that nearly fills the connection memory
 * would leave no room for a response head there, and the client would get no answer at all.
 */
static enum MHD_Result answer_early(struct http_server *server, struct http_exchange *x, int status,
                                    const char *msg)
{
    set_early_error(x, status, msg);
    if (!send_response_now(server, x))
        return send_response(server, x);
    closing_after_own_answer = true;
    return MHD_NO; /* answered: the library closes the connection */
}

/* What our answer says for each status the library refuses a request with. */
static const struct {
    unsigned status;
    const char *msg;
} library_errors[] = {
    {400, "bad request: malformed request line, header or chunk"},
    {413, "request body too large"},
    {431, "request line and headers too large"},
    {505, "HTTP version not supported"},
};

/*
 * Called instead of the library queueing one of its own error pages (mhd_errors.h): the same
 * answer as answer_early gives, a JSON error with every header of a handler's response and
 * Connection: close, counted and logged as the request's — but written at once, past the
 * library, which then closes the connection having sent nothing (so its doubled head for a
 * request refused after its header block never goes out). The connection lingers. When the
 * request line itself was bad, no request was started (the library calls no callback of ours
 * for it): one is made here and ends here.
 */
static enum mhd_errors_answer answer_library_error(void *cls, struct MHD_Connection *conn,
                                                   unsigned status)
{
    struct http_server *server = cls;
    struct http_conn *c = conn_of(conn);
    struct http_exchange *x = c ? c->x : NULL;
    bool started = x != NULL;
    if (!started)
        x = request_new(server);
    if (!x->conn) { /* its head was never handed to us: nothing of it is trusted */
        x->conn = conn;
        x->req.method = HTTP_OTHER;
        guard_request_id_generate(x->request_id);
    }
    const char *msg = "bad request";
    for (size_t i = 0; i < ARRAY_SIZE(library_errors); i++)
        if (library_errors[i].status == status)
            msg = library_errors[i].msg;
    http_headers_release(x);
    set_early_error(x, (int)status, msg);
    bool sent = send_response_now(server, x);
    closing_after_own_answer = sent;
    if (!started)
        request_finish(server, x, x->sent_past_library);
    return sent ? MHD_ERRORS_SENT : MHD_ERRORS_DECLINED;
}

/* The first call for a request: headers are in, the body is not. */
static enum MHD_Result begin_request(struct http_server *server, struct http_exchange *x,
                                     struct MHD_Connection *conn, const char *url,
                                     const char *method)
{
    struct http_request *req = &x->req;
    x->conn = conn;
    req->path = url;
    req->method = http_method_parse(method);
    const char *id = http_request_header(req, "X-Request-Id");
    if (id && guard_request_id_is_sane(id))
        snprintf(x->request_id, sizeof x->request_id, "%s", id);
    else
        guard_request_id_generate(x->request_id);
    trace_amzn_parse(http_request_header(req, "X-Amzn-Trace-Id"), x->amzn_trace_id);
    trace_parent_parse(http_request_header(req, "traceparent"), x->traceparent);

    int fields = 0;
    const char *bad = request_framing_error(conn, &fields);
    if (bad || !guard_path_is_sane(url)) {
        char msg[128];
        snprintf(msg, sizeof msg, "bad request: %s", bad ? bad : "control character in the path");
        return answer_early(server, x, HTTP_STATUS_BAD_REQUEST, msg);
    }
    const union MHD_ConnectionInfo *size =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if ((size && size->header_size > HEADER_LIMIT) || fields > HEADER_FIELDS_MAX)
        return answer_early(server, x, HTTP_STATUS_HEADER_FIELDS_TOO_LARGE,
                            "request line and headers too large");

    /* An announced oversized body is refused before it is read (and no "100 Continue"). */
    const char *length = http_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > server->max_body)
        return answer_early(server, x, HTTP_STATUS_CONTENT_TOO_LARGE, "request body too large");
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct http_server *server = cls;
    struct http_exchange *x = *con_cls;
    struct http_request *req = &x->req;
    (void)version;
    if (!x->conn)
        return begin_request(server, x, conn, url, method);
    if (x->suspended) { /* resumed: another thread has set the response */
        x->suspended = false;
        return send_response(server, x);
    }
    if (x->status)
        return MHD_YES; /* already answered early; the library reads no more of it */
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (x->discarded == 0 && req->body.len + n <= server->max_body) {
            buf_append(&req->body, upload_data, n);
            return MHD_YES;
        }
        /* A chunked body over the limit. The library takes no response while a body is
         * arriving, so the rest is read and dropped here and answered 413 at its end, within
         * the lingering bounds; past them the connection is closed without an answer. */
        x->discarded += n;
        if (x->discarded > LINGER_MAX_BYTES ||
            clock_now_ns() - x->start_ns > (uint64_t)LINGER_MAX_MS * 1000000u)
            return MHD_NO;
        return MHD_YES;
    }
    log_set_request_id(x->request_id);
    if (x->discarded)
        http_respond_error(req, HTTP_STATUS_CONTENT_TOO_LARGE, "request body too large");
    else
        dispatch(server->routes, x);
    log_set_request_id(NULL);
    if (x->suspended)
        return MHD_YES; /* answered later (http_suspend); x is not ours to touch now */
    return send_response(server, x);
}

static void on_library_error(void *cls, const char *fmt, va_list ap)
{
    const struct http_server *server = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    /* The library's note that it refuses a request, with its HTML page in it: the page is not
     * what goes out, and the request has its own access line (answer_library_error). */
    if (server->own_error_pages && strncmp(msg, "Error processing request (", 26) == 0)
        return;
    /* After our own answer went out past it, the library reports that it closes the connection
     * because queueing its page failed or the handler said no (answer_early): both intended. */
    if (closing_after_own_answer && (strstr(msg, "failed to queue error response") ||
                                     strstr(msg, "Application reported internal error"))) {
        closing_after_own_answer = false;
        return;
    }
    log_warn("http: %s", msg);
}

/* Binds ListenHost:ListenPort. Returns the socket, or -1 with err filled. */
static int listen_on(const char *host, int port, int *bound_port, char *err, size_t errlen)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve ListenHost '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(saved));
        return -1;
    }
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_storage any;
    } addr;
    memset(&addr, 0, sizeof addr);
    socklen_t len = sizeof addr;
    *bound_port = port;
    if (getsockname(fd, &addr.sa, &len) == 0)
        *bound_port = ntohs(addr.sa.sa_family == AF_INET6 ? addr.in6.sin6_port : addr.in4.sin_port);
    return fd;
}

/* Raises the open-file limit to its maximum: every connection is a descriptor. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1000;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t spare = 64 + 2 * 1000; /* database connections, files, and headroom */
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 100000 + spare)
        return 100000;
    return rl.rlim_cur > spare + 100 ? (unsigned)(rl.rlim_cur - spare) : 100;
}

static unsigned worker_threads(int configured)
{
    if (configured > 0)
        return (unsigned)configured;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* Handlers block on the database: two threads per CPU keep the CPUs busy. */
    return cpus > 2 ? (unsigned)cpus * 2 : 4;
}

/* Registers the route names /metrics reports: the table's, then the fallback's. */
static void init_metrics(struct http_server *server)
{
    const struct route_table *table = server->routes;
    server->route_labels = xcalloc(table->n + 1, sizeof *server->route_labels);
    for (size_t i = 0; i < table->n; i++)
        server->route_labels[i] = table->routes[i].label;
    server->route_labels[table->n] = table->fallback_label ? table->fallback_label : "-";
    http_stats_init(server->route_labels, (int)table->n + 1);
}

struct http_server *http_server_start(const struct http_server_options *opts, char *err,
                                      size_t errlen)
{
    struct http_server *server = xcalloc(1, sizeof *server);
    server->app = opts->app;
    server->routes = opts->routes;
    server->max_body = opts->max_body;
    pthread_mutex_init(&server->conns_lock, NULL);
    server->linger = lingering_new(LINGER_MAX_MS, LINGER_IDLE_MS, LINGER_MAX_BYTES,
                                   LINGER_MAX_CONNS, err, errlen);
    if (!server->linger)
        goto fail_free;
    server->listen_fd = listen_on(opts->host, opts->port, &server->port, err, errlen);
    if (server->listen_fd < 0)
        goto fail_linger;
    http_tls_prepare_listener(opts->tls, server->listen_fd);
    init_metrics(server);
    server->own_error_pages = mhd_errors_init(answer_library_error, server);
    if (!server->own_error_pages)
        log_warn("http: libmicrohttpd's own error pages stay: this build does not export "
                 "MHD_queue_response (docs/adr/0027-library-error-pages.md)");
    unsigned threads = worker_threads(opts->threads);
    /* HTTPS (http/tls.c): MHD_USE_TLS and the certificate callback, or nothing. */
    unsigned tls_flags = http_tls_daemon_flags(opts->tls);
    struct MHD_OptionItem *tls_options = http_tls_daemon_options(opts->tls);
    server->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | tls_flags,
        0, NULL, NULL, on_access, server, MHD_OPTION_EXTERNAL_LOGGER, on_library_error, server,
        MHD_OPTION_LISTEN_SOCKET, server->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK, on_request_start, server,
        MHD_OPTION_NOTIFY_COMPLETED, on_request_done, server, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, server, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY,
        tls_options, MHD_OPTION_END);
    if (!server->daemon) {
        snprintf(err, errlen, "cannot start the HTTP server on %s:%d", opts->host, server->port);
        goto fail_close;
    }
    log_info("listening on %s:%d with %u threads", opts->host, server->port, threads);
    return server;

fail_close:
    mhd_errors_init(NULL, NULL);
    close(server->listen_fd);
fail_linger:
    lingering_free(server->linger);
fail_free:
    pthread_mutex_destroy(&server->conns_lock);
    free(server->route_labels);
    free(server);
    return NULL;
}

int http_server_port(const struct http_server *server)
{
    return server->port;
}

static unsigned open_connections(struct http_server *server)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

/*
 * Ends every idle connection: one that has served a request (or was accepted more than
 * NEW_CONN_GRACE_MS ago: its first request is on its way), has none in progress and nothing
 * unread in its socket. Shutting it down makes the library see end of input and close it. A
 * request that arrives in the same instant is lost with the connection, as with any server that
 * closes idle connections (the client or proxy sends it again: it was never read). Holding
 * conns_lock keeps each fd open meanwhile (on_connection unlinks before the library closes).
 */
static void close_idle(struct http_server *server)
{
    uint64_t new_since = clock_now_ns() - (uint64_t)NEW_CONN_GRACE_MS * 1000000u;
    pthread_mutex_lock(&server->conns_lock);
    for (struct http_conn *c = server->conns; c; c = c->next) {
        int unread = 0;
        if (c->fd < 0 || atomic_load(&c->busy) ||
            (!atomic_load(&c->used) && c->accepted_ns > new_since) ||
            ioctl(c->fd, FIONREAD, &unread) != 0 || unread > 0)
            continue;
        shutdown(c->fd, SHUT_RDWR);
        c->fd = -1; /* once is enough; the library closes it */
    }
    pthread_mutex_unlock(&server->conns_lock);
}

void http_server_quiesce(struct http_server *server)
{
    atomic_store(&server->draining, true);
    MHD_quiesce_daemon(server->daemon);
    close(server->listen_fd);
    close_idle(server);
}

unsigned http_server_drain_step(struct http_server *server)
{
    /* A connection whose response was queued just before draining began has no Connection:
     * close and goes idle afterwards: close those too. */
    close_idle(server);
    unsigned open = open_connections(server);
    int in_flight = atomic_load(&server->in_flight);
    return open > 0 ? open : (in_flight > 0 ? (unsigned)in_flight : 0);
}

int http_server_stop(struct http_server *server)
{
    int left = atomic_load(&server->in_flight);
    MHD_stop_daemon(server->daemon);
    mhd_errors_init(NULL, NULL);
    lingering_free(server->linger);
    pthread_mutex_destroy(&server->conns_lock);
    free(server->route_labels);
    http_stats_free();
    free(server);
    return left;
}
