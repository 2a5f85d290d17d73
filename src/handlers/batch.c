/*
 * batch.c — concurrent requests of one kind share a round trip (see batch.h).
 */
#include "handlers/batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"
#include "util/xalloc.h"

struct batcher {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t slot_free;
    struct batch *open; /* the batch requests join, or NULL */
    int in_flight;      /* batches past their wait for a slot */
    int max_in_flight;
    int max_wait_ms;
    size_t max_members;
    batch_park_fn park, resume;
};

struct batcher *batcher_new(int max_in_flight, int max_wait_ms, size_t max_members,
                            batch_park_fn park, batch_park_fn resume)
{
    struct batcher *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    clock_cond_init(&b->slot_free);
    b->max_in_flight = max_in_flight > 0 ? max_in_flight : 1;
    b->max_wait_ms = max_wait_ms;
    b->max_members = max_members;
    b->park = park;
    b->resume = resume;
    return b;
}

void batcher_free(struct batcher *b)
{
    if (!b)
        return;
    pthread_cond_destroy(&b->slot_free);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static void add_member(struct batcher *b, struct batch *batch, void *req, void *item)
{
    if (batch->n == batch->cap) {
        batch->cap = batch->cap ? 2 * batch->cap : 8;
        batch->members = xrealloc(batch->members, batch->cap * sizeof *batch->members);
    }
    batch->members[batch->n++] = (struct batch_member){req, item};
    if (b->max_members && batch->n >= b->max_members && b->open == batch)
        b->open = NULL; /* full */
}

/* Joins the open batch (NULL) or returns a new batch req leads, once it may run. */
static struct batch *enter(struct batcher *b, void *req, void *item)
{
    pthread_mutex_lock(&b->lock);
    struct batch *batch = b->open;
    if (batch) { /* join; the leader answers and resumes us */
        add_member(b, batch, req, item);
        b->park(req); /* under the lock: the leader cannot resume us before this */
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    batch = xcalloc(1, sizeof *batch);
    batch->batcher = b;
    batch->leader = req;
    b->open = batch;
    add_member(b, batch, req, item);
    struct timespec deadline = clock_deadline_ms(b->max_wait_ms);
    while (b->in_flight >= b->max_in_flight) /* the batch fills meanwhile */
        if (pthread_cond_timedwait(&b->slot_free, &b->lock, &deadline) != 0)
            break; /* the round trip in flight is stalled: run alongside it */
    b->in_flight++;
    pthread_mutex_unlock(&b->lock);
    return batch;
}

void batch_close(struct batch *batch)
{
    struct batcher *b = batch->batcher;
    pthread_mutex_lock(&b->lock);
    if (b->open == batch)
        b->open = NULL;
    pthread_mutex_unlock(&b->lock);
}

void batch_close_hook(void *batch)
{
    batch_close(batch);
}

/* The round trip is over: closes batch and frees its slot for the next batch. */
static void done(struct batcher *b, struct batch *batch)
{
    pthread_mutex_lock(&b->lock);
    if (b->open == batch)
        b->open = NULL;
    b->in_flight--;
    pthread_cond_signal(&b->slot_free);
    pthread_mutex_unlock(&b->lock);
}

bool batcher_submit(struct batcher *b, void *req, void *item, const struct batch_steps *steps,
                    void *ctx)
{
    struct batch *batch = enter(b, req, item);
    if (!batch)
        return false; /* joined: the leader answers */
    steps->query(batch, ctx);
    done(b, batch);
    steps->answer(batch, ctx);
    /* Nobody else touches the batch now: its other members are all parked. */
    for (size_t i = 1; i < batch->n; i++)
        b->resume(batch->members[i].req);
    free(batch->members);
    free(batch);
    return true;
}
