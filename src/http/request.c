/* request.c — see request.h. */
#include "http/request.h"

#include <assert.h>
#include <microhttpd.h>
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

void http_respond_error(struct http_request *req, int status, const char *msg)
{
    buf_reset(&req->out);
    req->out_static = NULL;
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
