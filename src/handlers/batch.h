/*
 * batch.h — concurrent requests of one kind share a round trip.
 *
 * A batcher has at most one open batch. The first request to enter (batcher_submit) opens it
 * and leads it: it waits until fewer than max_in_flight batches of this batcher are running —
 * meanwhile the batch fills — or at most max_wait_us, so that a slow or stalled round trip
 * cannot chain the waits of the batches behind it. A request entering while a batch is open joins
 * it instead: the batcher parks it (the park callback, called under the batcher's lock so that the
 * leader cannot resume it first) and batcher_submit returns false; from then on the request and its
 * item belong to the leader, which answers it.
 *
 * The leader then runs the batch's steps in this order, and no other: query(batch) — the round
 * trip; the batch closes when it has max_members members, when query calls batch_close (e.g.
 * just before its statement is sent, through batch_close_hook) or at the latest when query
 * returns —, the batch's slot is freed for the next batch, answer(batch) answers every member
 * (members[0] is the leader), and every other member is resumed (the resume callback), exactly
 * once. Then the batch is freed and batcher_submit returns true. Joiners grow the members array
 * (realloc) until the batch closes: query reads batch->leader before, the members only after.
 *
 * With an offload (offload.h), the leader's own request is parked as well and batcher_submit
 * returns false at once: the wait for a slot and the steps run on an offload thread, which
 * resumes every member, the leader included. So no caller's thread ever waits for a slot or a
 * round trip (ADR 0029).
 *
 * The steps' ctx is the batch's own: steps->ctx_size bytes, zeroed, freed with the batch.
 *
 * The batcher knows nothing of HTTP: the handlers pass http_suspend and http_resume as park and
 * resume (handlers/handlers.c); its unit test passes its own. Requests and items are the
 * caller's: the batcher neither copies nor frees them.
 */
#ifndef BATCH_H
#define BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handlers/offload.h"

struct batch_member {
    void *req;
    void *item;
};

struct batch {
    void *leader;                 /* members[0].req, which may be read while the batch is open */
    struct batch_member *members; /* grows until the batch closes: read it only after that */
    size_t n, cap;
    struct batcher *batcher;
    const struct batch_steps *steps;
    void *ctx;              /* steps->ctx_size bytes, zeroed */
    struct offload_job job; /* the leader's steps, on an offload thread */
};

/* Parks or resumes a member's request (http_suspend / http_resume in the handlers). */
typedef void (*batch_park_fn)(void *req);

/* What a leader does with its batch; ctx is the batch's (ctx_size bytes, zeroed). joins, if
 * set, says whether a request with item may join the open batch (called under the batcher's
 * lock, members readable); if not, that batch closes and the request leads the next one. */
struct batch_steps {
    void (*query)(struct batch *batch, void *ctx);
    void (*answer)(struct batch *batch, void *ctx);
    size_t ctx_size;
    bool (*joins)(const struct batch *batch, const void *item);
};

/* max_in_flight below 1 means 1; max_members 0: no limit; offload NULL: the leader runs its
 * batch on its own thread. */
struct batcher *batcher_new(int max_in_flight, int64_t max_wait_us, size_t max_members,
                            batch_park_fn park, batch_park_fn resume, struct offload *offload);
/* No batch may be running. NULL is fine. */
void batcher_free(struct batcher *b);

/* Joins req (with item) to the open batch and returns false (req is parked), or leads a new
 * batch through steps (above): returns true once every member has been answered, or, with an
 * offload, parks req and returns false at once. */
bool batcher_submit(struct batcher *b, void *req, void *item, const struct batch_steps *steps);
/* No request joins batch any more (it may have closed already). */
void batch_close(struct batch *batch);
/* batch_close as a callback (store_sent_fn's shape) taking the batch, for a store call that
 * reports when its statement goes out. */
void batch_close_hook(void *batch);

#endif
