/*
 * store_backend.h — what a store backend implements (private to src/store/).
 *
 * A backend's store struct begins with a `struct store` header whose `backend` field points to
 * its table; store.c dispatches every public call of store.h through it. Contracts are those of
 * store.h.
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include <stdatomic.h>

#include "store/store.h"

struct store_backend {
    const char *name; /* "postgres", "sqlite" */
    enum store_status (*open)(const struct config *cfg, struct store **out, char *err,
                              size_t errlen);
    void (*free)(struct store *store);
    enum store_status (*ping)(struct store *store);
    /* sent (may be NULL): see store_task_list_sent */
    enum store_status (*task_list)(struct store *store, store_sent_fn sent, void *arg,
                                   task_visit_fn visit, void *ctx);
    /* Optional: without it the store has no list versions (always 0, every call reads). */
    enum store_status (*task_list_if_changed)(struct store *store, const uint64_t *known,
                                              size_t nknown, uint64_t *version, store_sent_fn sent,
                                              void *arg, task_visit_fn visit, void *ctx);
    enum store_status (*task_get)(struct store *store, int64_t id, task_visit_fn visit, void *ctx);
    /* Optional: without it, store_task_get_many gets one id at a time. */
    enum store_status (*task_get_many)(struct store *store, const int64_t *ids, size_t n,
                                       task_visit_fn visit, void *ctx);
    enum store_status (*task_create)(struct store *store, const struct task *in,
                                     task_visit_fn visit, void *ctx);
    enum store_status (*task_create_many)(struct store *store, const struct task *in, size_t n,
                                          task_visit_fn visit, void *ctx);
    enum store_status (*task_update)(struct store *store, int64_t id,
                                     const struct task_patch *patch, task_visit_fn visit,
                                     void *ctx);
    enum store_status (*task_delete)(struct store *store, int64_t id);
    enum store_status (*task_update_many)(struct store *store, const int64_t *ids,
                                          const struct task_patch *patches, size_t n,
                                          task_visit_fn visit, void *ctx);
    enum store_status (*task_delete_many)(struct store *store, const int64_t *ids, size_t n,
                                          task_visit_fn visit, void *ctx);
    /* task_update_many and task_delete_many apply their writes one after another, in order, and
     * visit in that order (store_writes_in_order). */
    bool writes_in_order;
    enum store_status (*updatedb)(const struct config *cfg, bool skip_create_db, FILE *out,
                                  char *err, size_t errlen);
    enum store_status (*migrate)(const struct config *cfg, FILE *out, char *err, size_t errlen);
    /* Optional: without it, store_backup fails with a message. */
    enum store_status (*backup)(const struct config *cfg, const char *dest, bool replace, FILE *out,
                                char *err, size_t errlen);
    /* Optional: pool figures for /metrics. */
    void (*stats)(struct store *store, struct store_stats *out);
};

/* The first member of every backend's store; zeroed when the backend allocates it. */
struct store {
    const struct store_backend *backend;
    /* store_stats' counters, bumped by store.c as each call returns */
    atomic_ullong calls[STORE_OP_COUNT][STORE_STATUS_COUNT];
    atomic_ullong op_ns[STORE_OP_COUNT];
};

extern const struct store_backend store_pg_backend;
extern const struct store_backend store_sqlite_backend;

/* The three tasks `updatedb` seeds, in order, for every backend. */
extern const char *const store_seed_titles[3];

#endif
