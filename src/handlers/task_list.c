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
 *
 * On a store with list versions (the embedded one, store.h) there is no batching: the last body
 * is kept with the version of the read it came from, and a request whose own version check
 * (a read that begins after the request did) finds the same version gets those same bytes. A
 * request that finds it stale rebuilds it, one at a time, and those waiting take the new body if
 * it carries their version. Concurrent lists of an unchanged table share one body, not a copy
 * each. (ADR 0026.)
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
    pthread_mutex_t build;  /* one rebuild at a time */
    uint64_t version;       /* of the read body was rendered from */
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

/* The kept body, with a reference for the caller, if it was read at version; else NULL. */
static struct http_body *cached(struct list_cache *cache, uint64_t version)
{
    struct http_body *body = NULL;
    pthread_mutex_lock(&cache->lock);
    if (cache->body && cache->version == version) {
        body = cache->body;
        http_body_ref(body);
    }
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

/* Renders the list and its version from one read; *body gets a new body on STORE_OK. */
static enum store_status render_versioned(struct store *store, uint64_t *version,
                                          struct http_body **body)
{
    struct buf out = BUF_INIT;
    struct list_writer w = {&out, true};
    buf_putc(&out, '[');
    enum store_status st = store_task_list_versioned(store, version, write_list_item, &w);
    buf_putc(&out, ']');
    *body = st == STORE_OK ? http_body_new(&out) : NULL;
    buf_release(&out);
    return st;
}

static void serve_cached(struct http_request *req, struct list_cache *cache)
{
    struct store *store = req->app->store;
    uint64_t version;
    enum store_status st = store_task_list_version(store, &version);
    if (st != STORE_OK) {
        respond_store_error(req, st);
        return;
    }
    if (version == 0) { /* the store cannot tell: nothing is kept */
        serve_unbatched(req);
        return;
    }
    /* version was read after this request began: a body read at the same version is as fresh
     * as a read of our own. */
    struct http_body *body = cached(cache, version);
    if (!body) {
        pthread_mutex_lock(&cache->build);
        body = cached(cache, version); /* built while we waited */
        if (!body) {
            uint64_t read_at;
            st = render_versioned(store, &read_at, &body);
            if (st == STORE_OK && read_at != 0)
                keep(cache, read_at, body);
        }
        pthread_mutex_unlock(&cache->build);
    }
    respond_store_body(req, st, body);
    http_body_unref(body);
}

void task_list_handler(struct http_request *req)
{
    struct batcher *lists = req->app->lists;
    if (!lists) {
        if (req->app->list_cache)
            serve_cached(req, req->app->list_cache);
        else
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
