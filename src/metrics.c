/*
 * metrics.c — see metrics.h.
 *
 * Every series lives in a fixed array sized at start-up, so recording never allocates and the
 * set of label values is bounded by the route table.
 */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
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
static time_t started;

/* The result label of store calls, indexed by -status (store.h). */
static const char *const store_result_names[STORE_STATUS_COUNT] = {"ok", "not_found", "unavailable",
                                                                   "error"};

void metrics_init(const char *const *labels, int n_labels)
{
    route_labels = labels;
    n_routes = n_labels + 1;
    routes = xcalloc((size_t)n_routes, sizeof *routes);
    started = time(NULL);
}

void metrics_request_started(void)
{
    atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed);
}

void metrics_request_done(int route, enum http_method method, int status, uint64_t duration_ns)
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

static void render_requests(struct buf *out)
{
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

static void render_store(struct buf *out, struct store *store)
{
    if (!store)
        return;
    struct store_stats st;
    store_stats(store, &st);
    buf_puts(out, "# HELP tca_store_operations_total Store calls by operation and result.\n"
                  "# TYPE tca_store_operations_total counter\n");
    for (int op = 0; op < STORE_OP_COUNT; op++)
        for (int i = 0; i < STORE_STATUS_COUNT; i++)
            buf_printf(out, "tca_store_operations_total{op=\"%s\",result=\"%s\"} %" PRIu64 "\n",
                       store_op_names[op], store_result_names[i], st.calls[op][i]);
    buf_puts(out, "# HELP tca_store_operation_seconds_total Time spent in store calls.\n"
                  "# TYPE tca_store_operation_seconds_total counter\n");
    for (int op = 0; op < STORE_OP_COUNT; op++)
        buf_printf(out, "tca_store_operation_seconds_total{op=\"%s\"} %.9f\n", store_op_names[op],
                   (double)st.op_ns[op] / 1e9);
    buf_printf(out,
               "# HELP tca_db_pool_connections Database connections by state.\n"
               "# TYPE tca_db_pool_connections gauge\n"
               "tca_db_pool_connections{state=\"idle\"} %d\n"
               "tca_db_pool_connections{state=\"in_use\"} %d\n"
               "tca_db_pool_connections{state=\"unconnected\"} %d\n"
               "# HELP tca_db_pool_size Configured database connections.\n"
               "# TYPE tca_db_pool_size gauge\ntca_db_pool_size %d\n"
               "# HELP tca_db_pool_waiting Callers waiting for a free connection.\n"
               "# TYPE tca_db_pool_waiting gauge\ntca_db_pool_waiting %d\n",
               st.pool_size - st.in_use - st.unconnected, st.in_use, st.unconnected, st.pool_size,
               st.waiting);
}

static long resident_bytes(void)
{
    long pages_total, pages_resident;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    int n = fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    fclose(f);
    return n == 2 ? pages_resident * sysconf(_SC_PAGESIZE) : 0;
}

static long open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 0;
    long n = -1; /* the directory's own descriptor */
    while (readdir(dir))
        n++;
    closedir(dir);
    return n - 2; /* "." and ".." */
}

/* User and system CPU time of every thread so far, in seconds. */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void render_process(struct buf *out)
{
    buf_printf(out,
               "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
               "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n"
               "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
               "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n"
               "# HELP process_open_fds Number of open file descriptors.\n"
               "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n"
               "# HELP process_start_time_seconds Start time of the process since the epoch.\n"
               "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %lld\n"
               "# HELP tca_build_info Version and git revision of the running binary.\n"
               "# TYPE tca_build_info gauge\n"
               "tca_build_info{version=\"%s\",revision=\"%s\"} 1\n",
               cpu_seconds(), resident_bytes(), open_fds(), (long long)started, TCA_VERSION,
               TCA_GIT_REV);
}

void metrics_render(struct buf *out, struct store *store)
{
    if (routes)
        render_requests(out);
    render_store(out, store);
    render_process(out);
}
