/*
 * metrics.h — counters and histograms for /metrics, in the Prometheus text format 0.0.4.
 *
 * Requests are counted by route template (never the raw path: no label explosion), method and
 * status, with a latency histogram per route and method. Recording is a few relaxed atomic
 * increments, cheap enough for every request. The store counts its own operations
 * (store_stats, store.h); this module only renders them.
 * metrics_init is called once before any thread records; the rest is thread-safe.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "http/request.h"
#include "util/buf.h"

struct store;

/* Routes are known by index into labels (the route table's labels, then any extra ones, such
 * as the assets fallback); index n_labels is used for requests that matched nothing. */
void metrics_init(const char *const *labels, int n_labels);
void metrics_request_started(void);
void metrics_request_done(int route, enum http_method method, int status, uint64_t duration_ns);

/* Appends the whole exposition; store may be NULL (no store metrics). */
void metrics_render(struct buf *out, struct store *store);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
