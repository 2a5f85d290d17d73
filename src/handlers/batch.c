/*
 * batch.c — concurrent requests of one kind share a database round trip (see batch.h).
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
};

struct batcher *batcher_new(int max_in_flight, int max_wait_ms, size_t max_members)
{
    struct batcher *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    clock_cond_init(&b->slot_free);
    b->max_in_flight = max_in_flight > 0 ? max_in_flight : 1;
    b->max_wait_ms = max_wait_ms;
    b->max_members = max_members;
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

static void add_member(struct batcher *b, struct batch *batch, struct http_request *req, void *item)
{
    if (batch->n == batch->cap) {
        batch->cap = batch->cap ? 2 * batch->cap : 8;
        batch->members = xrealloc(batch->members, batch->cap * sizeof *batch->members);
    }
    batch->members[batch->n++] = (struct batch_member){req, item};
    if (b->max_members && batch->n >= b->max_members && b->open == batch)
        b->open = NULL; /* full */
}

struct batch *batcher_enter(struct batcher *b, struct http_request *req, void *item)
{
    pthread_mutex_lock(&b->lock);
    struct batch *batch = b->open;
    if (batch) { /* join; the leader answers and resumes us */
        add_member(b, batch, req, item);
        http_suspend(req); /* under the lock: the leader cannot resume us before this */
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    batch = xcalloc(1, sizeof *batch);
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

void batcher_close(struct batcher *b, struct batch *batch)
{
    pthread_mutex_lock(&b->lock);
    if (b->open == batch)
        b->open = NULL;
    pthread_mutex_unlock(&b->lock);
}

void batcher_close_hook(void *closer)
{
    struct batch_closer *c = closer;
    batcher_close(c->batcher, c->batch);
}

void batcher_done(struct batcher *b, struct batch *batch)
{
    pthread_mutex_lock(&b->lock);
    if (b->open == batch)
        b->open = NULL;
    b->in_flight--;
    pthread_cond_signal(&b->slot_free);
    pthread_mutex_unlock(&b->lock);
}

void batch_release(struct batch *batch)
{
    /* Nobody else touches the batch now: its members are all suspended. */
    for (size_t i = 1; i < batch->n; i++)
        http_resume(batch->members[i].req);
    free(batch->members);
    free(batch);
}
