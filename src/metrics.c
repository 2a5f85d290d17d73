/*
 * metrics.c — see metrics.h.
 *
 * The HTTP layer counts its requests (http/stats.h) and the store its calls (store_stats);
 * this module renders them with the process figures.
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

#include "http/stats.h"
#include "store/store.h"
#include "util/array.h"
#include "util/xalloc.h"

/* The result label of store calls, indexed by -status (store.h). */
static const char *const store_result_names[STORE_STATUS_COUNT] = {"ok", "not_found", "unavailable",
                                                                   "error"};

static time_t started;

void metrics_init(void)
{
    started = time(NULL);
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
    http_stats_render(out);
    render_store(out, store);
    render_process(out);
}
