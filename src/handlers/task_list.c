/*
 * task_list.c — GET /api/task/: one encoded body, shared by every request that may have it.
 *
 * The last body is kept with the list version (store.h) of the read it was rendered from. Each
 * request (or batch of requests) asks the store for the tasks "unless still at that version": a
 * read that begins after the request did. If the store says unchanged, the request is answered
 * with the kept bytes — exactly what its own read would have rendered; otherwise the store
 * returned the tasks, and the new body replaces the kept one. So every GET sees every write
 * acknowledged before it started, made by this instance or by anyone else on the database, and
 * concurrent lists of unchanged tasks share one body instead of a copy each. (ADR 0026.)
 *
 * On PostgreSQL concurrent requests are also batched onto one query (ADR 0007): a batch
 * (handlers/batch.h) is open while its query has not been sent; a request that finds an open
 * batch joins it (its connection is suspended, so its worker thread goes on serving others) and
 * gets the same bytes as every other member. The store calls back just before sending the query,
 * and that call closes the batch: every member arrived before the read began.
 *
 * On SQLite, where a read is a few microseconds of local work, requests are not batched; they
 * take turns (the build lock) instead, so that after a write one request renders the new body and
 * the others find it kept, rather than each rendering a copy.
 */

#include <pthread.h>
#include <stdlib.h>

#include "app.h"
#include "handlers/batch.h"
#include "handlers/handlers.h"
#include "handlers/respond.h"
#include "task_codec.h"
#include "util/xalloc.h"

struct list_cache {
    pthread_mutex_t lock;   /* guards version and body; held only to read or swap them */
    pthread_mutex_t build;  /* unbatched requests take turns (see the top of the file) */
    uint64_t version;       /* of the read body was rendered from; 0: none kept */
    struct http_body *body; /* one reference held, or NULL */
};

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

struct list_cache *list_cache_new(void)
{
    struct list_cache *cache = xcalloc(1, sizeof *cache);
    pthread_mutex_init(&cache->lock, NULL);
    pthread_mutex_init(&cache->build, NULL);
    return cache;
}

void list_cache_free(struct list_cache *cache)
{
    if (!cache)
        return;
    http_body_unref(cache->body);
    pthread_mutex_destroy(&cache->build);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* The kept body (with a reference for the caller) and its version; NULL and 0 if none. */
static struct http_body *kept(struct list_cache *cache, uint64_t *version)
{
    pthread_mutex_lock(&cache->lock);
    struct http_body *body = cache->body;
    *version = cache->version;
    if (body)
        http_body_ref(body);
    pthread_mutex_unlock(&cache->lock);
    return body;
}

/* Keeps body (a reference of its own) as read at version; the old one goes with its last
 * response. */
static void keep(struct list_cache *cache, uint64_t version, struct http_body *body)
{
    http_body_ref(body);
    pthread_mutex_lock(&cache->lock);
    struct http_body *old = cache->body;
    cache->body = body;
    cache->version = version;
    pthread_mutex_unlock(&cache->lock);
    http_body_unref(old);
}

/*
 * The list as a body (*out, one reference for the caller, on STORE_OK): the kept one if the
 * store says the tasks are unchanged since it was read, else a new one, which is then kept.
 * sent(arg) as for store_task_list_sent.
 */
static enum store_status list_body(struct store *store, struct list_cache *cache,
                                   store_sent_fn sent, void *arg, struct http_body **out)
{
    uint64_t known, version;
    struct http_body *old = kept(cache, &known);
    struct buf buf = BUF_INIT;
    struct list_writer w = {&buf, true};
    buf_putc(&buf, '[');
    enum store_status st =
        store_task_list_if_changed(store, known, &version, sent, arg, write_list_item, &w);
    buf_putc(&buf, ']');
    *out = NULL;
    if (st == STORE_OK && old && version == known) { /* unchanged: nothing was visited */
        *out = old;
        old = NULL;
    } else if (st == STORE_OK) {
        *out = http_body_new(&buf);
        if (version != 0)
            keep(cache, version, *out);
    }
    http_body_unref(old);
    buf_release(&buf);
    return st;
}

static void serve_unbatched(struct http_request *req, struct list_cache *cache)
{
    struct http_body *body;
    pthread_mutex_lock(&cache->build);
    enum store_status st = list_body(req->app->store, cache, NULL, NULL, &body);
    pthread_mutex_unlock(&cache->build);
    respond_store_body(req, st, body);
    http_body_unref(body);
}

/* A batch of lists: the leader asks the store once, and the store closes the batch just before
 * sending its query; every member gets the same body. */
struct list_run {
    struct http_body *body; /* one reference held, on STORE_OK */
    enum store_status st;
};

static void list_query(struct batch *batch, void *ctx)
{
    struct list_run *run = ctx;
    struct http_request *leader = batch->leader;
    run->st = list_body(leader->app->store, leader->app->handlers->list_cache, batch_close_hook,
                        batch, &run->body);
}

static void list_answer(struct batch *batch, void *ctx)
{
    struct list_run *run = ctx;
    for (size_t i = 0; i < batch->n; i++)
        respond_store_body(batch->members[i].req, run->st, run->body);
    http_body_unref(run->body);
}

static const struct batch_steps list_steps = {
    .query = list_query, .answer = list_answer, .ctx_size = sizeof(struct list_run)};

void task_list_handler(struct http_request *req)
{
    struct batcher *lists = req->app->handlers->lists;
    if (!lists) {
        serve_unbatched(req, req->app->handlers->list_cache);
        return;
    }
    batcher_submit(lists, req, NULL, &list_steps); /* its run starts zeroed: no body, STORE_OK */
}
