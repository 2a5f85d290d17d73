/*
 * stats.c — see stats.h.
 *
 * Every series lives in a fixed array sized at start-up, so recording never allocates and the
 * set of label values is bounded by the route table.
 */
#include "http/stats.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/array.h"
#include "util/xalloc.h"

/* Upper bounds of the latency buckets, in seconds (+Inf is implicit). */
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5};
#define N_BUCKETS ARRAY_SIZE(bucket_bounds)
#define N_METHODS (HTTP_METHOD_COUNT + 1)
#define N_STATUS  600

struct route_series {
    atomic_ulong by_status[N_METHODS][N_STATUS];
    atomic_ulong buckets[N_METHODS][N_BUCKETS + 1];
    atomic_ullong sum_ns[N_METHODS];
};

static const char *const *route_labels;
static int n_routes; /* labels + 1 for "unmatched" */
static struct route_series *routes;
static atomic_long in_flight;

void http_stats_init(const char *const *labels, int n_labels)
{
    route_labels = labels;
    n_routes = n_labels + 1;
    routes = xcalloc((size_t)n_routes, sizeof *routes);
}

void http_stats_free(void)
{
    free(routes);
    routes = NULL;
    n_routes = 0;
}

void http_stats_request_started(void)
{
    atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed);
}

void http_stats_request_done(int route, enum http_method method, int status, uint64_t duration_ns)
{
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
    if (!routes || status < 100 || status >= N_STATUS)
        return;
    if (route < 0 || route >= n_routes)
        route = n_routes - 1;
    struct route_series *r = &routes[route];
    atomic_fetch_add_explicit(&r->by_status[method][status], 1, memory_order_relaxed);
    double seconds = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b < N_BUCKETS && seconds > bucket_bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[method][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_ns[method], duration_ns, memory_order_relaxed);
}

static const char *route_name(int i)
{
    return i < n_routes - 1 ? route_labels[i] : "unmatched";
}

static const char *method_name(int m)
{
    return m < HTTP_METHOD_COUNT ? http_method_names[m] : "OTHER";
}

void http_stats_render(struct buf *out)
{
    if (!routes)
        return;
    buf_puts(out, "# HELP tca_http_requests_total HTTP requests by route template, method and "
                  "status.\n# TYPE tca_http_requests_total counter\n");
    for (int r = 0; r < n_routes; r++)
        for (int m = 0; m < N_METHODS; m++)
            for (int s = 100; s < N_STATUS; s++) {
                unsigned long n =
                    atomic_load_explicit(&routes[r].by_status[m][s], memory_order_relaxed);
                if (n)
                    buf_printf(out,
                               "tca_http_requests_total{route=\"%s\",method=\"%s\","
                               "status=\"%d\"} %lu\n",
                               route_name(r), method_name(m), s, n);
            }

    buf_puts(out, "# HELP tca_http_request_duration_seconds Time from request line to response "
                  "queued.\n# TYPE tca_http_request_duration_seconds histogram\n");
    for (int r = 0; r < n_routes; r++)
        for (int m = 0; m < N_METHODS; m++) {
            unsigned long counts[N_BUCKETS + 1], total = 0;
            for (size_t b = 0; b <= N_BUCKETS; b++) {
                counts[b] = atomic_load_explicit(&routes[r].buckets[m][b], memory_order_relaxed);
                total += counts[b];
            }
            if (!total)
                continue;
            unsigned long cumulative = 0;
            for (size_t b = 0; b <= N_BUCKETS; b++) {
                cumulative += counts[b];
                char le[32];
                if (b < N_BUCKETS)
                    snprintf(le, sizeof le, "%g", bucket_bounds[b]);
                else
                    snprintf(le, sizeof le, "+Inf");
                buf_printf(out,
                           "tca_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                           "le=\"%s\"} %lu\n",
                           route_name(r), method_name(m), le, cumulative);
            }
            double sum =
                (double)atomic_load_explicit(&routes[r].sum_ns[m], memory_order_relaxed) / 1e9;
            buf_printf(out,
                       "tca_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.9f\n"
                       "tca_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} "
                       "%lu\n",
                       route_name(r), method_name(m), sum, route_name(r), method_name(m), total);
        }
    buf_printf(out,
               "# HELP tca_http_requests_in_flight Requests begun and not yet answered.\n"
               "# TYPE tca_http_requests_in_flight gauge\ntca_http_requests_in_flight %ld\n",
               atomic_load(&in_flight));
}
