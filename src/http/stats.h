/*
 * stats.h — the HTTP layer's own counters: requests by route template (never the raw path: no
 * label explosion), method and status, a latency histogram per route and method, and the
 * requests in flight, rendered in the Prometheus text format 0.0.4 for /metrics.
 *
 * Recording is a few relaxed atomic increments, cheap enough for every request and safe from
 * any thread. http_stats_init is called once, before any thread records; before it, recording
 * and rendering do nothing.
 */
#ifndef HTTP_STATS_H
#define HTTP_STATS_H

#include <stdint.h>

#include "http/request.h"
#include "util/buf.h"

/* Routes are known by index into labels (the route table's labels, then any extra ones, such
 * as the fallback); index n_labels is used for requests that matched nothing. labels must
 * outlive every other call. */
void http_stats_init(const char *const *labels, int n_labels);
/* Frees what http_stats_init allocated; no thread may record any more. */
void http_stats_free(void);

void http_stats_request_started(void);
void http_stats_request_done(int route, enum http_method method, int status, uint64_t duration_ns);

/* Appends tca_http_requests_total, tca_http_request_duration_seconds and
 * tca_http_requests_in_flight. */
void http_stats_render(struct buf *out);

#endif
