/*
 * store_pg_stub.c — TEMPORARY stand-in for store_pg.c so the SQLite branch links on its own.
 * Every call fails with "postgres backend not built". Drop this file when store_pg.c merges.
 */
#include <stdio.h>

#include "store/store_backend.h"

static enum store_status stub_open(const struct config *cfg, struct store **out, char *err,
                                   size_t errlen)
{
    (void)cfg;
    *out = NULL;
    snprintf(err, errlen, "postgres backend not built");
    return STORE_ERROR;
}

static void stub_free(struct store *store)
{
    (void)store;
}

static enum store_status stub_ping(struct store *store)
{
    (void)store;
    return STORE_ERROR;
}

static enum store_status stub_list(struct store *store, task_visit_fn visit, void *ctx)
{
    (void)store, (void)visit, (void)ctx;
    return STORE_ERROR;
}

static enum store_status stub_get(struct store *store, int64_t id, task_visit_fn visit, void *ctx)
{
    (void)store, (void)id, (void)visit, (void)ctx;
    return STORE_ERROR;
}

static enum store_status stub_create(struct store *store, const struct task *in,
                                     task_visit_fn visit, void *ctx)
{
    (void)store, (void)in, (void)visit, (void)ctx;
    return STORE_ERROR;
}

static enum store_status stub_update(struct store *store, int64_t id,
                                     const struct task_patch *patch, task_visit_fn visit, void *ctx)
{
    (void)store, (void)id, (void)patch, (void)visit, (void)ctx;
    return STORE_ERROR;
}

static enum store_status stub_delete(struct store *store, int64_t id)
{
    (void)store, (void)id;
    return STORE_ERROR;
}

static enum store_status stub_updatedb(const struct config *cfg, bool skip_create_db, FILE *out,
                                       char *err, size_t errlen)
{
    (void)cfg, (void)skip_create_db, (void)out;
    snprintf(err, errlen, "postgres backend not built");
    return STORE_ERROR;
}

static enum store_status stub_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen)
{
    (void)cfg, (void)out;
    snprintf(err, errlen, "postgres backend not built");
    return STORE_ERROR;
}

const struct store_backend store_pg_backend = {
    .name = "postgres",
    .open = stub_open,
    .free = stub_free,
    .ping = stub_ping,
    .task_list = stub_list,
    .task_get = stub_get,
    .task_create = stub_create,
    .task_update = stub_update,
    .task_delete = stub_delete,
    .updatedb = stub_updatedb,
    .migrate = stub_migrate,
};
