/*
 * task_list.c — GET /api/task/, with concurrent requests batched onto one query.
 *
 * A batch (handlers/batch.h) is open while its query has not been sent: a request that finds
 * an open batch joins it (its connection is suspended, so its worker thread goes on serving
 * others) and gets the same bytes as every other member, rendered once. The leader runs the
 * query; the store calls back just before sending it, and that call closes the batch. A request
 * arriving after that starts the next batch.
 *
 * Reads stay linearizable: every member of a batch arrived before its query was sent, so the
 * result reflects every write acknowledged before any member started — on this instance or on
 * any other sharing the database. Nothing is kept once a batch has been answered.
 */

#include "app.h"
#include "handlers/batch.h"
#include "handlers/handlers.h"
#include "handlers/respond.h"
#include "task_codec.h"

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

/* Renders the list into out; returns the store's status. */
static enum store_status render(struct store *store, store_sent_fn sent, void *arg, struct buf *out)
{
    struct list_writer w = {out, true};
    buf_putc(out, '[');
    enum store_status st = store_task_list_sent(store, sent, arg, write_list_item, &w);
    buf_putc(out, ']');
    return st;
}

static void serve_unbatched(struct http_request *req)
{
    respond_store(req, render(req->app->store, NULL, NULL, &req->out), HTTP_STATUS_OK, HTTP_JSON);
}

/* A batch of lists: the query renders the JSON once; the store closes the batch just before
 * sending it. */
struct list_run {
    struct buf out;
    enum store_status st;
};

static void list_query(struct batch *batch, void *ctx)
{
    struct list_run *run = ctx;
    struct http_request *leader = batch->leader;
    run->st = render(leader->app->store, batch_close_hook, batch, &run->out);
}

/* Every member gets the same bytes. */
static void list_answer(struct batch *batch, void *ctx)
{
    struct list_run *run = ctx;
    struct http_body *body = http_body_new(&run->out);
    for (size_t i = 0; i < batch->n; i++)
        respond_store_body(batch->members[i].req, run->st, body);
    http_body_unref(body);
}

static const struct batch_steps list_steps = {list_query, list_answer};

void task_list_handler(struct http_request *req)
{
    struct batcher *lists = req->app->handlers->lists;
    if (!lists) {
        serve_unbatched(req);
        return;
    }
    struct list_run run = {BUF_INIT, STORE_OK};
    batcher_submit(lists, req, NULL, &list_steps, &run);
}
