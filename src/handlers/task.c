/*
 * task.c — the to-do API: /api/task/ and /api/task/{id}/.
 *
 * Tasks stream from the store straight into the response body (task_encode), so a list costs
 * one pass and no copies.
 */
#include <microhttpd.h>
#include <stdio.h>

#include "app.h"
#include "handlers/handlers.h"
#include "task.h"

void respond_store_error(struct http_request *req, enum store_status status)
{
    switch (status) {
    case STORE_NOT_FOUND:
        http_respond_error(req, MHD_HTTP_NOT_FOUND, "task not found");
        return;
    case STORE_UNAVAILABLE:
        http_respond_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable");
        return;
    case STORE_OK:
    case STORE_ERROR:
        break;
    }
    http_respond_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
}

struct list_writer {
    struct buf *out;
    bool first;
};

static int write_list_item(const struct task *task, void *ctx)
{
    struct list_writer *w = ctx;
    if (!w->first)
        buf_putc(w->out, ',');
    w->first = false;
    task_encode(w->out, task);
    return 0;
}

static int write_one(const struct task *task, void *ctx)
{
    task_encode(ctx, task);
    return 0;
}

void task_list_handler(struct http_request *req)
{
    struct list_writer w = {&req->out, true};
    buf_putc(&req->out, '[');
    enum store_status st = store_task_list(req->app->store, write_list_item, &w);
    if (st != STORE_OK) {
        respond_store_error(req, st);
        return;
    }
    buf_putc(&req->out, ']');
    http_respond(req, MHD_HTTP_OK, HTTP_JSON);
}

/* The {id} of the path, or a 400 answered and -1. */
static int path_id(struct http_request *req, int64_t *id)
{
    if (task_id_parse(req->param, req->param_len, id) == 0)
        return 0;
    http_respond_error(req, MHD_HTTP_BAD_REQUEST, "task id must be a positive integer");
    return -1;
}

/* Decodes the body for mode, or answers 400 and returns -1. */
static int body_task(struct http_request *req, enum task_decode_mode mode, struct task_input *in)
{
    char err[256];
    if (task_decode(req->body.data, req->body.len, mode, in, err, sizeof err) == 0)
        return 0;
    http_respond_error(req, MHD_HTTP_BAD_REQUEST, err);
    return -1;
}

void task_get_handler(struct http_request *req)
{
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    enum store_status st = store_task_get(req->app->store, id, write_one, &req->out);
    if (st != STORE_OK)
        respond_store_error(req, st);
    else
        http_respond(req, MHD_HTTP_OK, HTTP_JSON);
}

void task_create_handler(struct http_request *req)
{
    struct task_input in;
    if (body_task(req, TASK_DECODE_CREATE, &in) != 0)
        return;
    enum store_status st =
        store_task_create(req->app->store, &in.patch.value, write_one, &req->out);
    task_input_release(&in);
    if (st != STORE_OK)
        respond_store_error(req, st);
    else
        http_respond(req, MHD_HTTP_OK, HTTP_JSON);
}

static void update(struct http_request *req, enum task_decode_mode mode)
{
    int64_t id;
    struct task_input in;
    if (path_id(req, &id) != 0 || body_task(req, mode, &in) != 0)
        return;
    enum store_status st = store_task_update(req->app->store, id, &in.patch, write_one, &req->out);
    task_input_release(&in);
    if (st != STORE_OK)
        respond_store_error(req, st);
    else
        http_respond(req, MHD_HTTP_OK, HTTP_JSON);
}

void task_replace_handler(struct http_request *req)
{
    update(req, TASK_DECODE_REPLACE);
}

void task_patch_handler(struct http_request *req)
{
    update(req, TASK_DECODE_PATCH);
}

void task_delete_handler(struct http_request *req)
{
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    enum store_status st = store_task_delete(req->app->store, id);
    if (st != STORE_OK)
        respond_store_error(req, st);
    else
        http_respond(req, MHD_HTTP_NO_CONTENT, NULL);
}
