/*
 * metrics.h — counters and histograms for /metrics, in the Prometheus text format 0.0.4.
 *
 * Counters live where their events happen: the HTTP layer counts requests (http/stats.h), the
 * store its calls (store_stats, store.h); this module only renders them, with the process
 * figures (CPU, memory, descriptors, start time) and the build. metrics_init records the start
 * time; call it once at start-up. metrics_render is thread-safe.
 */
#ifndef METRICS_H
#define METRICS_H

#include "util/buf.h"

struct store;

void metrics_init(void);

/* Appends the whole exposition; store may be NULL (no store metrics). */
void metrics_render(struct buf *out, struct store *store);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
