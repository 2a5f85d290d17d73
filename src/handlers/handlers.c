/*
 * handlers.c — the handlers' own state: which routes batch their round trips, and how.
 *
 * Concurrent GET lists and GETs of one task share one query on PostgreSQL, one query of each
 * in flight at a time; SQLite reads are cheaper than the hand-over, so they are not batched
 * (ADRs 0007, 0012). Concurrent POSTs share one INSERT and one commit on both stores
 * (ADR 0010). A batch's joiners are parked by suspending their connections.
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
    int wait_ms = cfg->db_pool_timeout;
    struct handlers *h = xcalloc(1, sizeof *h);
    h->lists = pg ? batcher_new(1, wait_ms, 0, park, resume) : NULL;
    h->gets = pg ? batcher_new(1, wait_ms, GET_BATCH_MAX, park, resume) : NULL;
    h->creates = batcher_new(CREATES_IN_FLIGHT, wait_ms, CREATE_BATCH_MAX, park, resume);
    h->list_cache = list_cache_new(); /* GET lists share their last body (ADR 0026) */
    app->handlers = h;
}

void handlers_close(struct app *app)
{
    struct handlers *h = app->handlers;
    if (!h)
        return;
    batcher_free(h->creates);
    batcher_free(h->gets);
    batcher_free(h->lists);
    list_cache_free(h->list_cache);
    free(h);
    app->handlers = NULL;
}
