/* request.c — see request.h. */
#include "http/request.h"

#include <assert.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "http/exchange.h"
#include "json.h"
#include "util/xalloc.h"

const char *const http_method_names[HTTP_METHOD_COUNT] = {
    [HTTP_GET] = "GET",         [HTTP_HEAD] = "HEAD",   [HTTP_POST] = "POST",
    [HTTP_PUT] = "PUT",         [HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE",
    [HTTP_OPTIONS] = "OPTIONS",
};

enum http_method http_method_parse(const char *name)
{
    for (int m = 0; m < HTTP_METHOD_COUNT; m++)
        if (strcmp(name, http_method_names[m]) == 0)
            return (enum http_method)m;
    return HTTP_OTHER;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(http_exchange_of_const(req)->conn, MHD_HEADER_KIND, name);
}

void http_out_release(struct http_out *out)
{
    if (out->kind == HTTP_OUT_OWNED)
        free(out->own.buf);
    else if (out->kind == HTTP_OUT_SHARED)
        http_body_unref(out->own.shared);
    *out = (struct http_out){HTTP_OUT_STATIC, NULL, 0, {NULL}};
}

void http_headers_release(struct http_exchange *x)
{
    for (size_t i = 0; i < x->n_headers; i++)
        free(x->headers[i].value);
    x->n_headers = 0;
}

/* Replaces the response: status, content type and body (whose ownership moves to x). */
static void respond(struct http_request *req, int status, const char *content_type,
                    struct http_out out)
{
    struct http_exchange *x = http_exchange_of(req);
    http_out_release(&x->out);
    x->out = out;
    x->status = status;
    x->content_type = content_type;
}

void http_respond(struct http_request *req, int status, const char *content_type)
{
    size_t len;
    char *data = buf_detach(&req->out, &len);
    respond(req, status, content_type, (struct http_out){HTTP_OUT_OWNED, data, len, {data}});
}

void http_respond_static(struct http_request *req, int status, const char *content_type,
                         const void *data, size_t len)
{
    respond(req, status, content_type, (struct http_out){HTTP_OUT_STATIC, data, len, {NULL}});
}

void http_respond_body(struct http_request *req, int status, const char *content_type,
                       struct http_body *body)
{
    http_body_ref(body);
    respond(req, status, content_type,
            (struct http_out){HTTP_OUT_SHARED, body->data, body->len, {.shared = body}});
}

void http_respond_error(struct http_request *req, int status, const char *msg)
{
    buf_reset(&req->out);
    json_put_error(&req->out, msg);
    http_respond(req, status, HTTP_JSON);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
    struct http_exchange *x = http_exchange_of(req);
    assert(x->n_headers < HTTP_MAX_EXTRA_HEADERS);
    if (x->n_headers == HTTP_MAX_EXTRA_HEADERS)
        return;
    x->headers[x->n_headers].name = name;
    x->headers[x->n_headers].value = xstrdup(value);
    x->n_headers++;
}

bool http_draining(const struct http_request *req)
{
    return atomic_load(http_exchange_of_const(req)->draining);
}

struct http_body *http_body_new(struct buf *b)
{
    struct http_body *body = xmalloc(sizeof *body);
    atomic_init(&body->refs, 1);
    body->data = buf_detach(b, &body->len);
    return body;
}

void http_body_ref(struct http_body *body)
{
    atomic_fetch_add_explicit(&body->refs, 1, memory_order_relaxed);
}

void http_body_unref(struct http_body *body)
{
    if (body && atomic_fetch_sub_explicit(&body->refs, 1, memory_order_acq_rel) == 1) {
        free(body->data);
        free(body);
    }
}

void http_suspend(struct http_request *req)
{
    struct http_exchange *x = http_exchange_of(req);
    x->suspended = true;
    MHD_suspend_connection(x->conn);
}

void http_resume(struct http_request *req)
{
    MHD_resume_connection(http_exchange_of(req)->conn);
}
