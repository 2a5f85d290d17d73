/*
 * task_list.c — GET /api/task/, with concurrent requests batched onto one query.
 *
 * A batch is open while its query has not been sent: a request that finds an open batch joins
 * it (its connection is suspended, so its worker thread goes on serving others) and gets the
 * same bytes as every other member, rendered once. The first request of a batch leads it: it
 * waits until fewer than max_in_flight list queries are running (while it waits, the batch
 * fills; it stops waiting after max_wait_ms, so a stalled query cannot chain the waits of the
 * batches behind it), then runs the query; the store calls back just before sending it, and that
 * call closes the batch. A request arriving after that starts the next batch.
 *
 * Reads stay linearizable: every member of a batch arrived before its query was sent, so the
 * result reflects every write acknowledged before any member started — on this instance or on
 * any other sharing the database. Nothing is kept once a batch has been answered.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "app.h"
#include "handlers/handlers.h"
#include "task.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct list_batch {
    struct http_request **members; /* besides the leader */
    size_t n, cap;
};

struct task_lists {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t slot_free;
    struct list_batch *open; /* the batch whose query is not sent yet, or NULL */
    int in_flight;           /* batches past their wait for a slot */
    int max_in_flight;
    int max_wait_ms;
};

struct task_lists *task_lists_new(int max_in_flight, int max_wait_ms)
{
    struct task_lists *lists = xcalloc(1, sizeof *lists);
    pthread_mutex_init(&lists->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&lists->slot_free, &attr);
    pthread_condattr_destroy(&attr);
    lists->max_in_flight = max_in_flight > 0 ? max_in_flight : 1;
    lists->max_wait_ms = max_wait_ms;
    return lists;
}

void task_lists_free(struct task_lists *lists)
{
    if (!lists)
        return;
    pthread_cond_destroy(&lists->slot_free);
    pthread_mutex_destroy(&lists->lock);
    free(lists);
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

/* Renders the list into out; returns the store's status. */
static enum store_status render(struct store *store, store_sent_fn sent, void *arg, struct buf *out)
{
    struct list_writer w = {out, true};
    buf_putc(out, '[');
    enum store_status st = store_task_list_sent(store, sent, arg, write_list_item, &w);
    buf_putc(out, ']');
    return st;
}

struct closing {
    struct task_lists *lists;
    struct list_batch *batch;
};

/* The store is about to send the query: later arrivals must not join this batch. */
static void close_batch(void *arg)
{
    struct closing *c = arg;
    pthread_mutex_lock(&c->lists->lock);
    if (c->lists->open == c->batch)
        c->lists->open = NULL;
    pthread_mutex_unlock(&c->lists->lock);
}

static void answer(struct http_request *req, enum store_status st, struct http_body *body)
{
    if (st == STORE_OK)
        http_respond_body(req, MHD_HTTP_OK, HTTP_JSON, body);
    else
        respond_store_error(req, st);
}

static void serve_unbatched(struct http_request *req)
{
    enum store_status st = render(req->app->store, NULL, NULL, &req->out);
    if (st != STORE_OK)
        respond_store_error(req, st);
    else
        http_respond(req, MHD_HTTP_OK, HTTP_JSON);
}

void task_list_handler(struct http_request *req)
{
    struct task_lists *lists = req->app->lists;
    if (!lists) {
        serve_unbatched(req);
        return;
    }

    pthread_mutex_lock(&lists->lock);
    struct list_batch *batch = lists->open;
    if (batch) { /* join; the leader answers and resumes us */
        if (batch->n == batch->cap) {
            batch->cap = batch->cap ? 2 * batch->cap : 8;
            batch->members = xrealloc(batch->members, batch->cap * sizeof(struct http_request *));
        }
        batch->members[batch->n++] = req;
        http_suspend(req); /* under the lock: the leader cannot resume us before this */
        pthread_mutex_unlock(&lists->lock);
        return;
    }
    batch = xcalloc(1, sizeof *batch);
    lists->open = batch;
    struct timespec deadline = clock_deadline_ms(lists->max_wait_ms);
    while (lists->in_flight >= lists->max_in_flight) /* the batch fills meanwhile */
        if (pthread_cond_timedwait(&lists->slot_free, &lists->lock, &deadline) != 0)
            break; /* the query in flight is stalled: run alongside it */
    lists->in_flight++;
    pthread_mutex_unlock(&lists->lock);

    struct closing closing = {lists, batch};
    struct buf out = BUF_INIT;
    enum store_status st = render(req->app->store, close_batch, &closing, &out);

    pthread_mutex_lock(&lists->lock);
    if (lists->open == batch) /* failed before sending */
        lists->open = NULL;
    lists->in_flight--;
    pthread_cond_signal(&lists->slot_free);
    pthread_mutex_unlock(&lists->lock);

    /* Nobody else touches the batch now: its members are all suspended. */
    struct http_body *body = http_body_new(&out);
    answer(req, st, body);
    for (size_t i = 0; i < batch->n; i++) {
        answer(batch->members[i], st, body);
        http_resume(batch->members[i]);
    }
    http_body_unref(body);
    free(batch->members);
    free(batch);
}
