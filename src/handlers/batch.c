/*
 * batch.c — concurrent requests of one kind share a round trip (see batch.h).
 */
#include "handlers/batch.h"

#include <pthread.h>
#include <stddef.h>
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
    int64_t max_wait_us;
    size_t max_members;
    batch_park_fn park, resume;
    struct offload *offload; /* or NULL */
};

struct batcher *batcher_new(int max_in_flight, int64_t max_wait_us, size_t max_members,
                            batch_park_fn park, batch_park_fn resume, struct offload *offload)
{
    struct batcher *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    clock_cond_init(&b->slot_free);
    b->max_in_flight = max_in_flight > 0 ? max_in_flight : 1;
    b->max_wait_us = max_wait_us;
    b->max_members = max_members;
    b->park = park;
    b->resume = resume;
    b->offload = offload;
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

/* Waits, with b->lock held, until batch may run: a slot is free, or the wait is over. */
static void take_slot(struct batcher *b)
{
    struct timespec deadline = clock_deadline_us(b->max_wait_us);
    while (b->in_flight >= b->max_in_flight) /* the batch fills meanwhile */
        if (pthread_cond_timedwait(&b->slot_free, &b->lock, &deadline) != 0)
            break; /* the round trip in flight is slow: run alongside it */
    b->in_flight++;
}

/* Joins the open batch (NULL) or returns a new batch req leads: parked, with an offload; else
 * once it may run. */
static struct batch *enter(struct batcher *b, void *req, void *item,
                           const struct batch_steps *steps)
{
    pthread_mutex_lock(&b->lock);
    struct batch *batch = b->open;
    if (batch && steps->joins && !steps->joins(batch, item))
        batch = b->open = NULL; /* it closes: this request leads the next batch */
    if (batch) {                /* join; the leader answers and resumes us */
        add_member(b, batch, req, item);
        b->park(req); /* under the lock: the leader cannot resume us before this */
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    batch = xcalloc(1, sizeof *batch);
    batch->batcher = b;
    batch->leader = req;
    batch->steps = steps;
    batch->ctx = steps->ctx_size ? xcalloc(1, steps->ctx_size) : NULL;
    b->open = batch;
    add_member(b, batch, req, item);
    if (b->offload)
        b->park(req); /* the offload thread resumes it, after this */
    else
        take_slot(b);
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

/* Runs batch's steps and resumes its parked members, from members[first] on; frees batch. */
static void lead(struct batch *batch, size_t first)
{
    struct batcher *b = batch->batcher;
    batch->steps->query(batch, batch->ctx);
    done(b, batch);
    batch->steps->answer(batch, batch->ctx);
    /* Nobody else touches the batch now: its members from first on are all parked. */
    for (size_t i = first; i < batch->n; i++)
        b->resume(batch->members[i].req);
    free(batch->ctx);
    free(batch->members);
    free(batch);
}

/* On an offload thread: the leader's wait for a slot, then its steps (its request parked). */
static void lead_offloaded(struct offload_job *job)
{
    struct batch *batch = (struct batch *)((char *)job - offsetof(struct batch, job));
    struct batcher *b = batch->batcher;
    pthread_mutex_lock(&b->lock);
    take_slot(b);
    pthread_mutex_unlock(&b->lock);
    lead(batch, 0);
}

bool batcher_submit(struct batcher *b, void *req, void *item, const struct batch_steps *steps)
{
    struct batch *batch = enter(b, req, item, steps);
    if (!batch)
        return false; /* joined: the leader answers */
    if (b->offload) {
        batch->job.run = lead_offloaded;
        offload_submit(b->offload, &batch->job);
        return false;
    }
    lead(batch, 1);
    return true;
}
