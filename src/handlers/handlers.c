/*
 * handlers.c — the handlers' own state: which routes batch their round trips, and how.
 *
 * Concurrent GET lists and GETs of one task share one query on PostgreSQL, one query of each
 * in flight at a time unless it takes longer than a local round trip (OVERLAP_US); SQLite
 * reads are cheaper than the hand-over, so they are not batched (ADRs 0007, 0012, 0029). Concurrent
 * POSTs share one INSERT and one commit on both stores (ADR 0010). A batch's joiners are parked by
 * suspending their connections.
 *
 * Concurrent PUTs and PATCHes share one UPDATE, and DELETEs one DELETE, the same way (ADR 0030;
 * on SQLite one transaction, one commit, ADR 0031). On PostgreSQL no store call runs on the
 * server's threads (ADR 0029): batches lead, and the readiness ping runs, on offload threads, one
 * per pooled connection, so that a round trip never holds up the other connections of a worker
 * thread and every pooled connection can have a statement in flight. SQLite's reads are local
 * work and stay where they are; its write batches run on one writer thread of their own (SQLite
 * has one writer), so that a commit never holds up a worker thread's other connections and the
 * next batch fills meanwhile (ADR 0034).
 */
#include "handlers/handlers.h"

#include <stdlib.h>

#include "app.h"
#include "config/config.h"
#include "handlers/batch.h"
#include "util/xalloc.h"

/* Batches of POSTs running at once, and the most tasks one INSERT takes (ADR 0010). */
#define CREATES_IN_FLIGHT 1
#define CREATE_BATCH_MAX  128
/* The most ids one SELECT of single tasks takes (ADR 0012). */
#define GET_BATCH_MAX 256
/* The most tasks one UPDATE or DELETE takes (ADR 0030). */
#define WRITE_BATCH_MAX 128
/* How long a batch of reads, updates or deletes waits on PostgreSQL for the one in flight before
 * it is sent alongside: about a round trip to a database on the same host. A database farther
 * away (another availability zone: 0.5-1 ms) gets batches overlapping, not each waiting a whole
 * round trip (ADR 0029). SQLite has one writer: its write batches wait for the one in flight as
 * long as for the writer itself (DbPoolTimeout), as POSTs do. */
#define OVERLAP_US 100
/* The most offload threads: one per pooled connection, up to this. */
#define OFFLOAD_THREADS_MAX 64

static void park(void *req)
{
    http_suspend(req);
}

static void resume(void *req)
{
    http_resume(req);
}

void handlers_open(struct app *app)
{
    const struct config *cfg = app->cfg;
    bool pg = cfg->db_type == DB_POSTGRES;
    int64_t wait_us = (int64_t)cfg->db_pool_timeout * 1000;
    struct handlers *h = xcalloc(1, sizeof *h);
    int threads = cfg->db_pool_size < OFFLOAD_THREADS_MAX ? cfg->db_pool_size : OFFLOAD_THREADS_MAX;
    struct offload *o = pg ? offload_new(threads) : NULL;
    h->store_calls = o;
    h->lists = pg ? batcher_new(1, OVERLAP_US, 0, park, resume, o) : NULL;
    h->gets = pg ? batcher_new(1, OVERLAP_US, GET_BATCH_MAX, park, resume, o) : NULL;
    int64_t write_wait_us = pg ? OVERLAP_US : wait_us;
    h->sqlite_writer = pg ? NULL : offload_new(1);
    struct offload *writes = pg ? o : h->sqlite_writer;
    h->updates = batcher_new(1, write_wait_us, WRITE_BATCH_MAX, park, resume, writes);
    h->deletes = batcher_new(1, write_wait_us, WRITE_BATCH_MAX, park, resume, writes);
    h->creates = batcher_new(CREATES_IN_FLIGHT, wait_us, CREATE_BATCH_MAX, park, resume, writes);
    h->list_cache = list_cache_new(); /* GET lists share their last body (ADR 0026) */
    app->handlers = h;
}

bool handlers_offload(struct http_request *req, struct offload_job *job)
{
    struct offload *o = req->app->handlers->store_calls;
    if (!o)
        return false;
    http_suspend(req); /* before the job can exist for another thread */
    offload_submit(o, job);
    return true;
}

void handlers_finish(struct app *app)
{
    if (app->handlers) {
        offload_finish(app->handlers->store_calls);
        offload_finish(app->handlers->sqlite_writer);
    }
}

void handlers_close(struct app *app)
{
    struct handlers *h = app->handlers;
    if (!h)
        return;
    offload_free(h->store_calls); /* their jobs use the batchers */
    offload_free(h->sqlite_writer);
    batcher_free(h->deletes);
    batcher_free(h->updates);
    batcher_free(h->creates);
    batcher_free(h->gets);
    batcher_free(h->lists);
    list_cache_free(h->list_cache);
    free(h);
    app->handlers = NULL;
}
