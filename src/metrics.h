/*
 * metrics.h — counters and histograms for /metrics, in the Prometheus text format 0.0.4.
 *
 * Requests are counted by route template (never the raw path: no label explosion), method and
 * status, with a latency histogram per route and method; store operations by operation and
 * result. Recording is a few relaxed atomic increments, cheap enough for every request.
 * metrics_init is called once before any thread records; the rest is thread-safe.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "http/request.h"
#include "store/store.h"
#include "util/buf.h"

enum store_op {
    STORE_OP_PING,
    STORE_OP_LIST,
    STORE_OP_GET,
    STORE_OP_CREATE,
    STORE_OP_UPDATE,
    STORE_OP_DELETE,
    STORE_OP_COUNT,
};

/* Routes are known by index into labels (the route table's labels, then any extra ones, such
 * as the assets fallback); index n_labels is used for requests that matched nothing. */
void metrics_init(const char *const *labels, int n_labels);
void metrics_request_started(void);
void metrics_request_done(int route, enum http_method method, int status, uint64_t duration_ns);
void metrics_store_op(enum store_op op, enum store_status result, uint64_t duration_ns);

/* Appends the whole exposition; store may be NULL (no pool metrics). */
void metrics_render(struct buf *out, struct store *store);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
