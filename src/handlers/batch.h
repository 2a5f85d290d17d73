/*
 * batch.h — concurrent requests of one kind share a database round trip.
 *
 * A batcher has at most one open batch. The first request to enter opens it and leads it:
 * batcher_enter returns the batch to the leader once fewer than max_in_flight batches of this
 * batcher are running — meanwhile the batch fills — or after max_wait_ms, so that a stalled round
 * trip cannot chain the waits of the batches behind it. A request entering while a batch is open
 * joins it instead: it is suspended (http_suspend) and batcher_enter returns NULL; from then on
 * the request and its item belong to the leader, which answers it.
 *
 * A batch closes — later requests open the next one — when it has max_members members, when the
 * leader calls batcher_close (e.g. just before its query is sent), or at the latest in
 * batcher_done. The leader then answers every member (members[0] is itself) and calls
 * batch_release, which resumes the others and frees the batch. Items are the caller's: the
 * batch neither copies nor frees them.
 */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>

#include "http/request.h"

struct batch_member {
    struct http_request *req;
    void *item;
};

struct batch {
    struct batch_member *members; /* members[0] is the leader */
    size_t n, cap;
};

struct batcher;

/* max_members 0: no limit. */
struct batcher *batcher_new(int max_in_flight, int max_wait_ms, size_t max_members);
/* No batch may be running. NULL is fine. */
void batcher_free(struct batcher *b);

/* Joins req (with item) to the open batch and returns NULL, or returns a new batch that req
 * leads. */
struct batch *batcher_enter(struct batcher *b, struct http_request *req, void *item);
/* No request joins batch any more (it may have closed already). */
void batcher_close(struct batcher *b, struct batch *batch);
/* batcher_close as a callback (store_sent_fn's shape), for a store call that reports when its
 * query goes out: pass batcher_close_hook and a struct batch_closer. */
struct batch_closer {
    struct batcher *batcher;
    struct batch *batch;
};
void batcher_close_hook(void *closer);
/* The leader's round trip is over: closes batch and frees its slot for the next batch. */
void batcher_done(struct batcher *b, struct batch *batch);
/* Every member has been answered: resumes all but the leader and frees batch. */
void batch_release(struct batch *batch);

#endif
