/*
 * store.c — picks the backend named by the config and dispatches store.h to it. The PostgreSQL
 * backend's client library is loaded here, before its first use (pq_load.h, ADR 0025), so that
 * a process on the embedded store never maps it.
 */
#include "store/store.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "store/pq_load.h"
#include "store/store_backend.h"
#include "util/clock.h"
#include "util/xalloc.h"

const char *const store_seed_titles[3] = {"1st Task", "2nd Task", "3rd Task"};
const char *const store_op_names[STORE_OP_COUNT] = {"ping",   "list",   "get",
                                                    "create", "update", "delete"};

static const struct store_backend *backend_for(const struct config *cfg)
{
    return cfg->db_type == DB_POSTGRES ? &store_pg_backend : &store_sqlite_backend;
}

/* The backend for a call that opens the database: NULL, with the reason in err, when its
 * library cannot be loaded. */
static const struct store_backend *backend_loaded(const struct config *cfg, char *err,
                                                  size_t errlen)
{
    if (cfg->db_type == DB_POSTGRES && pq_load(err, errlen) != 0)
        return NULL;
    return backend_for(cfg);
}

/* Counts a finished call (store_stats) and passes its status through. */
static enum store_status record(struct store *store, enum store_op op, uint64_t start_ns,
                                enum store_status status)
{
    int index = -(int)status;
    if (index >= 0 && index < STORE_STATUS_COUNT)
        atomic_fetch_add_explicit(&store->calls[op][index], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&store->op_ns[op], clock_now_ns() - start_ns, memory_order_relaxed);
    return status;
}

/* Ids that cannot exist (see store.h) never reach a backend. */
static bool id_in_range(int64_t id)
{
    return id >= 1 && id <= INT32_MAX;
}

enum store_status store_open(const struct config *cfg, struct store **out, char *err, size_t errlen)
{
    *out = NULL;
    const struct store_backend *backend = backend_loaded(cfg, err, errlen);
    return backend ? backend->open(cfg, out, err, errlen) : STORE_ERROR;
}

void store_free(struct store *store)
{
    if (store)
        store->backend->free(store);
}

const char *store_backend_name(const struct store *store)
{
    return store->backend->name;
}

enum store_status store_ping(struct store *store)
{
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_PING, t, store->backend->ping(store));
}

enum store_status store_task_list(struct store *store, task_visit_fn visit, void *ctx)
{
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_LIST, t,
                  store->backend->task_list(store, NULL, NULL, visit, ctx));
}

enum store_status store_task_list_sent(struct store *store, store_sent_fn sent, void *arg,
                                       task_visit_fn visit, void *ctx)
{
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_LIST, t, store->backend->task_list(store, sent, arg, visit, ctx));
}

enum store_status store_task_list_if_changed(struct store *store, const uint64_t *known,
                                             size_t nknown, uint64_t *version, store_sent_fn sent,
                                             void *arg, task_visit_fn visit, void *ctx)
{
    uint64_t t = clock_now_ns();
    *version = 0;
    if (!store->backend->task_list_if_changed)
        return record(store, STORE_OP_LIST, t,
                      store->backend->task_list(store, sent, arg, visit, ctx));
    return record(
        store, STORE_OP_LIST, t,
        store->backend->task_list_if_changed(store, known, nknown, version, sent, arg, visit, ctx));
}

bool store_writes_in_order(const struct store *store)
{
    return store->backend->writes_in_order;
}

bool store_version_known(const uint64_t *known, size_t n, uint64_t version)
{
    for (size_t i = 0; i < n; i++)
        if (known[i] != 0 && known[i] == version)
            return true;
    return false;
}

enum store_status store_task_get(struct store *store, int64_t id, task_visit_fn visit, void *ctx)
{
    if (!id_in_range(id))
        return STORE_NOT_FOUND;
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_GET, t, store->backend->task_get(store, id, visit, ctx));
}

/* The ids a task can have, with their patches (if any): backends see only those. */
static size_t valid_ids(const int64_t *ids, const struct task_patch *patches, size_t n,
                        int64_t *out_ids, struct task_patch *out_patches)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (!id_in_range(ids[k]))
            continue;
        if (patches)
            out_patches[m] = patches[k];
        out_ids[m++] = ids[k];
    }
    return m;
}

/* store_task_get_many for a backend without it: one get per distinct id. */
static enum store_status get_each(struct store *store, const int64_t *ids, size_t n,
                                  task_visit_fn visit, void *ctx)
{
    for (size_t k = 0; k < n; k++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = ids[j] == ids[k];
        if (seen)
            continue;
        enum store_status st = store->backend->task_get(store, ids[k], visit, ctx);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return st;
    }
    return STORE_OK;
}

enum store_status store_task_get_many(struct store *store, const int64_t *ids, size_t n,
                                      task_visit_fn visit, void *ctx)
{
    int64_t *valid = xcalloc(n ? n : 1, sizeof *valid);
    size_t nvalid = valid_ids(ids, NULL, n, valid, NULL);
    if (nvalid == 0) { /* nothing to ask */
        free(valid);
        return STORE_OK;
    }
    uint64_t t = clock_now_ns();
    enum store_status st = store->backend->task_get_many
                               ? store->backend->task_get_many(store, valid, nvalid, visit, ctx)
                               : get_each(store, valid, nvalid, visit, ctx);
    free(valid);
    return record(store, STORE_OP_GET, t, st);
}

enum store_status store_task_create(struct store *store, const struct task *in, task_visit_fn visit,
                                    void *ctx)
{
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_CREATE, t, store->backend->task_create(store, in, visit, ctx));
}

enum store_status store_task_create_many(struct store *store, const struct task *in, size_t n,
                                         task_visit_fn visit, void *ctx)
{
    if (n == 0)
        return STORE_OK;
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_CREATE, t,
                  store->backend->task_create_many(store, in, n, visit, ctx));
}

enum store_status store_task_update(struct store *store, int64_t id, const struct task_patch *patch,
                                    task_visit_fn visit, void *ctx)
{
    if (!id_in_range(id))
        return STORE_NOT_FOUND;
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_UPDATE, t,
                  store->backend->task_update(store, id, patch, visit, ctx));
}

enum store_status store_task_delete(struct store *store, int64_t id)
{
    if (!id_in_range(id))
        return STORE_NOT_FOUND;
    uint64_t t = clock_now_ns();
    return record(store, STORE_OP_DELETE, t, store->backend->task_delete(store, id));
}

enum store_status store_task_update_many(struct store *store, const int64_t *ids,
                                         const struct task_patch *patches, size_t n,
                                         task_visit_fn visit, void *ctx)
{
    int64_t *valid = xcalloc(n ? n : 1, sizeof *valid);
    struct task_patch *vpatches = xcalloc(n ? n : 1, sizeof *vpatches);
    size_t m = valid_ids(ids, patches, n, valid, vpatches);
    enum store_status st = STORE_OK;
    if (m > 0) {
        uint64_t t = clock_now_ns();
        st = store->backend->task_update_many(store, valid, vpatches, m, visit, ctx);
        st = record(store, STORE_OP_UPDATE, t, st);
    }
    free(vpatches);
    free(valid);
    return st;
}

enum store_status store_task_delete_many(struct store *store, const int64_t *ids, size_t n,
                                         task_visit_fn visit, void *ctx)
{
    int64_t *valid = xcalloc(n ? n : 1, sizeof *valid);
    size_t m = valid_ids(ids, NULL, n, valid, NULL);
    enum store_status st = STORE_OK;
    if (m > 0) {
        uint64_t t = clock_now_ns();
        st = store->backend->task_delete_many(store, valid, m, visit, ctx);
        st = record(store, STORE_OP_DELETE, t, st);
    }
    free(valid);
    return st;
}

enum store_status store_updatedb(const struct config *cfg, bool skip_create_db, FILE *out,
                                 char *err, size_t errlen)
{
    const struct store_backend *backend = backend_loaded(cfg, err, errlen);
    return backend ? backend->updatedb(cfg, skip_create_db, out, err, errlen) : STORE_ERROR;
}

enum store_status store_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen)
{
    const struct store_backend *backend = backend_loaded(cfg, err, errlen);
    return backend ? backend->migrate(cfg, out, err, errlen) : STORE_ERROR;
}

enum store_status store_backup(const struct config *cfg, const char *dest, bool replace, FILE *out,
                               char *err, size_t errlen)
{
    const struct store_backend *backend = backend_for(cfg);
    if (!backend->backup) {
        snprintf(err, errlen, "the %s store has no backup command of its own", backend->name);
        return STORE_ERROR;
    }
    return backend->backup(cfg, dest, replace, out, err, errlen);
}

void store_stats(struct store *store, struct store_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int op = 0; op < STORE_OP_COUNT; op++) {
        for (int i = 0; i < STORE_STATUS_COUNT; i++)
            out->calls[op][i] = atomic_load_explicit(&store->calls[op][i], memory_order_relaxed);
        out->op_ns[op] = atomic_load_explicit(&store->op_ns[op], memory_order_relaxed);
    }
    if (store->backend->stats)
        store->backend->stats(store, out);
}

const char *store_status_name(enum store_status status)
{
    switch (status) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_UNAVAILABLE:
        return "database unavailable";
    case STORE_ERROR:
        return "database error";
    }
    return "unknown";
}
