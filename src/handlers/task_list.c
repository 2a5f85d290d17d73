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
 * On SQLite, where a read is a few microseconds of local work, requests are not batched: each
 * asks on one of the store's listers, side by side. Each lister numbers its versions apart, so
 * the kept body answers for several versions: a read that finds the tasks rendering to the kept
 * bytes adds its version instead of replacing the body (ADR 0033).
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers/batch.h"
#include "handlers/handlers.h"
#include "handlers/respond.h"
#include "task_codec.h"
#include "util/xalloc.h"

/* Versions the kept body answers for: the latest from each of the store's list connections,
 * with room to spare (an older one that drops out costs one more read, never a wrong answer). */
#define KNOWN_MAX (2 * STORE_LIST_SEQUENCES)

struct list_cache {
    pthread_mutex_t lock;      /* guards known and body; held only to read or change them */
    uint64_t known[KNOWN_MAX]; /* versions of reads that render to body, newest first */
    size_t nknown;             /* 0: nothing kept */
    struct http_body *body;    /* one reference held, or NULL */
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
    return cache;
}

void list_cache_free(struct list_cache *cache)
{
    if (!cache)
        return;
    http_body_unref(cache->body);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* The kept body (with a reference for the caller), NULL if none, and unless known is NULL the
 * versions it answers for (copied into known, *n of them). */
static struct http_body *kept(struct list_cache *cache, uint64_t known[KNOWN_MAX], size_t *n)
{
    pthread_mutex_lock(&cache->lock);
    struct http_body *body = cache->body;
    if (known) {
        *n = cache->nknown;
        memcpy(known, cache->known, *n * sizeof known[0]);
    }
    if (body)
        http_body_ref(body);
    pthread_mutex_unlock(&cache->lock);
    return body;
}

static bool same_bytes(const struct http_body *body, const struct buf *b)
{
    return body->len == b->len && memcmp(body->data, b->data, b->len) == 0;
}

/*
 * The body for a read at version (0: cannot tell) that rendered *b, with a reference for the
 * caller. If the kept body has those bytes, that one: it now answers for version too (the same
 * tasks read on another connection, or unchanged by a write). Otherwise a new body takes b's
 * bytes and is kept in its place (unless version is 0); the old one goes with its last response.
 */
static struct http_body *keep(struct list_cache *cache, uint64_t version, struct buf *b)
{
    struct http_body *cur = version ? kept(cache, NULL, NULL) : NULL;
    if (cur && same_bytes(cur, b)) { /* compared outside the lock: bodies never change */
        pthread_mutex_lock(&cache->lock);
        if (cache->body == cur && !store_version_known(cache->known, cache->nknown, version)) {
            size_t keep_n = cache->nknown < KNOWN_MAX ? cache->nknown : KNOWN_MAX - 1;
            memmove(&cache->known[1], &cache->known[0], keep_n * sizeof cache->known[0]);
            cache->known[0] = version;
            cache->nknown = keep_n + 1;
        }
        pthread_mutex_unlock(&cache->lock);
        return cur;
    }
    http_body_unref(cur);
    struct http_body *body = http_body_new(b);
    if (version == 0)
        return body;
    http_body_ref(body);
    pthread_mutex_lock(&cache->lock);
    struct http_body *old = cache->body;
    cache->body = body;
    cache->known[0] = version;
    cache->nknown = 1;
    pthread_mutex_unlock(&cache->lock);
    http_body_unref(old);
    return body;
}

/*
 * The list as a body (*out, one reference for the caller, on STORE_OK): the kept one if the
 * store says the tasks are unchanged since a read it answers for, else the body of this read
 * (keep). sent(arg) as for store_task_list_sent.
 */
static enum store_status list_body(struct store *store, struct list_cache *cache,
                                   store_sent_fn sent, void *arg, struct http_body **out)
{
    uint64_t known[KNOWN_MAX], version;
    size_t nknown;
    struct http_body *old = kept(cache, known, &nknown);
    struct buf buf = BUF_INIT;
    struct list_writer w = {&buf, true};
    buf_putc(&buf, '[');
    enum store_status st =
        store_task_list_if_changed(store, known, nknown, &version, sent, arg, write_list_item, &w);
    buf_putc(&buf, ']');
    *out = NULL;
    if (st == STORE_OK && old && store_version_known(known, nknown, version)) {
        *out = old; /* unchanged: nothing was visited */
        old = NULL;
    } else if (st == STORE_OK) {
        *out = keep(cache, version, &buf);
    }
    http_body_unref(old);
    buf_release(&buf);
    return st;
}

static void serve_unbatched(struct http_request *req, struct list_cache *cache)
{
    struct http_body *body;
    enum store_status st = list_body(req->app->store, cache, NULL, NULL, &body);
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
