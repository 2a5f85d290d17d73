/* request.c — see request.h. */
#include "http/request.h"

#include <assert.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

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
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void http_respond(struct http_request *req, int status, const char *content_type)
{
    req->status = status;
    req->content_type = content_type;
}

void http_respond_static(struct http_request *req, int status, const char *content_type,
                         const void *data, size_t len)
{
    req->status = status;
    req->content_type = content_type;
    req->out_static = data;
    req->out_static_len = len;
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

void http_respond_body(struct http_request *req, int status, const char *content_type,
                       struct http_body *body)
{
    http_body_ref(body);
    http_body_unref(req->out_body);
    req->out_body = body;
    req->out_static = NULL;
    req->status = status;
    req->content_type = content_type;
}

void http_suspend(struct http_request *req)
{
    req->suspended = true;
    MHD_suspend_connection(req->conn);
}

void http_resume(struct http_request *req)
{
    MHD_resume_connection(req->conn);
}

void http_respond_error(struct http_request *req, int status, const char *msg)
{
    buf_reset(&req->out);
    req->out_static = NULL;
    http_body_unref(req->out_body);
    req->out_body = NULL;
    json_put_error(&req->out, msg);
    http_respond(req, status, HTTP_JSON);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
    assert(req->n_headers < HTTP_MAX_EXTRA_HEADERS);
    if (req->n_headers == HTTP_MAX_EXTRA_HEADERS)
        return;
    req->headers[req->n_headers].name = name;
    req->headers[req->n_headers].value = xstrdup(value);
    req->n_headers++;
}
