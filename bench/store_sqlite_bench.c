/*
 * store_sqlite_bench.c — how the SQLite store scales with its reader pool (for ADR 0004).
 *
 *   make build/libapp.a && gcc -D_GNU_SOURCE -Isrc -Itests/unit -O2 -pthread \
 *       bench/store_sqlite_bench.c build/libapp.a -lsqlite3 -o build/store_sqlite_bench
 *   build/store_sqlite_bench READERS THREADS SECONDS WRITE_PERCENT [ROWS]
 *
 * THREADS threads loop for SECONDS: each operation is a create (WRITE_PERCENT of them) or a
 * list of the ROWS-row table (default 1000). Prints operations per second and p50/p99 in µs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config/config.h"
#include "log.h"
#include "store/store.h"
#include "store_test_util.h"

#define MAX_SAMPLES 2000000

static struct store *store;
static double seconds;
static int write_percent;
static double *lat;
static long nlat;
static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_visit(const struct task *t, void *ctx)
{
    (void)t;
    (*(long *)ctx)++;
    return 0;
}

static void *run(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    double end = now() + seconds;
    struct task in = {.title = "bench task", .title_len = 10};
    while (now() < end) {
        long n = 0;
        double t0 = now();
        if ((int)(rand_r(&seed) % 100) < write_percent)
            store_task_create(store, &in, count_visit, &n);
        else
            store_task_list(store, count_visit, &n);
        double dt = now() - t0;
        pthread_mutex_lock(&lat_lock);
        if (nlat < MAX_SAMPLES)
            lat[nlat++] = dt;
        pthread_mutex_unlock(&lat_lock);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s READERS THREADS SECONDS WRITE_PERCENT [ROWS]\n", argv[0]);
        return 2;
    }
    int readers = atoi(argv[1]), threads = atoi(argv[2]), rows = argc > 5 ? atoi(argv[5]) : 1000;
    seconds = atof(argv[3]);
    write_percent = atoi(argv[4]);
    log_init(LOG_WARN, LOG_FORMAT_TEXT);

    char *dir = test_tmpdir(), path[4096], err[STORE_ERRMSG_MAX];
    struct config cfg;
    test_sqlite_config(&cfg, dir, path);
    cfg.db_pool_size = readers;
    if (store_open(&cfg, &store, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct task in = {.title = "seed task", .title_len = 9};
    for (int i = 0; i < rows; i++)
        store_task_create(store, &in, NULL, NULL);

    lat = xmalloc(MAX_SAMPLES * sizeof(*lat));
    pthread_t th[256];
    for (int i = 0; i < threads && i < 256; i++)
        pthread_create(&th[i], NULL, run, (void *)(size_t)(i + 1));
    for (int i = 0; i < threads && i < 256; i++)
        pthread_join(th[i], NULL);
    qsort(lat, (size_t)nlat, sizeof(*lat), cmp);
    printf("readers=%d threads=%d writes=%d%% rows=%d: %.0f ops/s p50=%.0fus p99=%.0fus\n", readers,
           threads, write_percent, rows, (double)nlat / seconds, lat[nlat / 2] * 1e6,
           lat[nlat * 99 / 100] * 1e6);
    store_free(store);
    test_rmdir(dir);
    free(dir);
    free(lat);
    return 0;
}
