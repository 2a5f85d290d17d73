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

void task_list_handler(struct http_request *req)
{
    struct batcher *lists = req->app->lists;
    if (!lists) {
        serve_unbatched(req);
        return;
    }
    struct batch *batch = batcher_enter(lists, req, NULL);
    if (!batch)
        return; /* joined: the leader answers */

    struct batch_closer closer = {lists, batch}; /* later arrivals start the next batch */
    struct buf out = BUF_INIT;
    enum store_status st = render(req->app->store, batcher_close_hook, &closer, &out);
    batcher_done(lists, batch);

    struct http_body *body = http_body_new(&out);
    for (size_t i = 0; i < batch->n; i++)
        respond_store_body(batch->members[i].req, st, body);
    http_body_unref(body);
    batch_release(batch);
}
