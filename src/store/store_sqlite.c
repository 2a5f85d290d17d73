/*
 * store_sqlite.c — the embedded task store on SQLite (the "sqlite" backend; "boltdb" in configs
 * written for the Go original selects it too).
 *
 * One database file (cfg->db_path) in WAL mode with synchronous=FULL: a write is on disk when
 * it is acknowledged. The file and table are created on first use.
 *
 * Connections: one writer connection and db_pool_size reader connections, each with its own
 * prepared statements, handed out by two small pools (mutex + condvar). Writes serialize on
 * our pool instead of in SQLite's busy handler, which sleeps; reads run concurrently with each
 * other and with the writer, as WAL allows. See docs/adr/0004-embedded-store-sqlite.md. The
 * writer and the first reader open with the store; the other readers, and the listers, when a
 * read needs them (ADR 0025: start-up does not pay for readers a quiet server never uses).
 * Lists go through readers of their own, the listers (up to STORE_LIST_SEQUENCES, opened as
 * concurrent lists need them), whose PRAGMA data_version makes the list version of store.h: it
 * changes whenever anyone else committed (ADRs 0026 and 0033).
 *
 * Rows are handed to the visitor only after the statement finished: for writes that means after
 * the commit, so a caller never reports a write that did not reach the disk.
 *
 * One connection (opening, statements, messages) is sqlite_conn.c's; the schema and `updatedb`
 * / `migrate` are sqlite_schema.c's; `backup` is sqlite_backup.c's.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "log.h"
#include "store/sqlite_backup.h"
#include "store/sqlite_conn.h"
#include "store/sqlite_schema.h"
#include "store/store_backend.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define SQLITE_MAX_READERS 64
/* Free memory a malloc arena keeps at its top before giving it back (sqlite_open). */
#define SQLITE_ARENA_TRIM_THRESHOLD (1024 * 1024)

/* A fixed set of connections; acquire waits up to timeout_ms for a free one. A slot whose db is
 * NULL was never opened (readers open on first use). */
struct conn_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct sqlite_conn *conns;
    bool *busy;
    int n;
};

struct sqlite_store {
    struct store base;
    char *path;
    int pool_timeout_ms;
    struct conn_pool writer;
    struct conn_pool readers;
    /* Connections for lists only, so that each one's data_version is a sequence of its own:
     * the list version (store.h) is a lister's number and its data_version, read in the
     * snapshot the tasks come from. */
    struct conn_pool listers;
};

/* One row, copied out of a statement so the visitor can run after the statement finished. */
struct task_copy {
    struct task task;
    struct buf title;
};

/* ---- messages ---- */

/* Logs a failed statement once and maps it to a status. */
static enum store_status stmt_failed(struct sqlite_store *s, sqlite3 *db, const char *what)
{
    char tmp[256];
    int rc = sqlite3_extended_errcode(db);
    log_error("sqlite: cannot %s in '%s': %s", what, s->path, sqlite_cause(db, tmp, sizeof tmp));
    return sqlite_status_of(rc);
}

/* ---- the pools ---- */

static void pool_init(struct conn_pool *p, int n)
{
    pthread_mutex_init(&p->lock, NULL);
    clock_cond_init(&p->freed);
    p->conns = xcalloc((size_t)n, sizeof *p->conns);
    p->busy = xcalloc((size_t)n, sizeof *p->busy);
    p->n = n;
}

static void pool_release(struct conn_pool *p)
{
    if (!p->conns)
        return;
    for (int i = 0; i < p->n; i++)
        sqlite_conn_close(&p->conns[i]);
    free(p->conns);
    free(p->busy);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

/* The first free slot of p, preferring an opened one; -1 if every slot is busy. A free slot's
 * db was last written before a pool_put, under p->lock, so reading it here is safe. */
static int pool_free_slot(const struct conn_pool *p)
{
    int unopened = -1;
    for (int i = 0; i < p->n; i++) {
        if (p->busy[i])
            continue;
        if (p->conns[i].db)
            return i;
        if (unopened < 0)
            unopened = i;
    }
    return unopened;
}

/* A free connection of p, or NULL after timeout_ms (logged). It may be one never opened (db
 * NULL): the caller opens it, and puts it back either way. */
static struct sqlite_conn *pool_acquire(struct conn_pool *p, int timeout_ms)
{
    struct timespec deadline = clock_deadline_ms(timeout_ms);
    struct sqlite_conn *c = NULL;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int i = pool_free_slot(p);
        if (i >= 0) {
            p->busy[i] = true;
            c = &p->conns[i];
        }
        if (c || pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    if (!c)
        log_error("sqlite: no connection free within %d ms", timeout_ms);
    return c;
}

static void pool_put(struct conn_pool *p, struct sqlite_conn *c)
{
    pthread_mutex_lock(&p->lock);
    p->busy[c - p->conns] = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

/* ---- rows ---- */

static void task_from_row(sqlite3_stmt *st, struct task *t)
{
    t->id = sqlite3_column_int64(st, 0);
    t->complete = sqlite3_column_int(st, 1) != 0;
    t->priority = sqlite3_column_int(st, 2);
    /* column_text first, then column_bytes: the length of the text as returned. */
    t->title = (const char *)sqlite3_column_text(st, 3);
    t->title_len = (size_t)sqlite3_column_bytes(st, 3);
    if (!t->title) {
        t->title = "";
        t->title_len = 0;
    }
}

static void task_copy_row(struct task_copy *copy, sqlite3_stmt *st)
{
    task_from_row(st, &copy->task);
    buf_reset(&copy->title);
    buf_append(&copy->title, copy->task.title, copy->task.title_len);
    buf_putc(&copy->title, '\0');
    copy->task.title = copy->title.data;
}

/*
 * Runs the bound write statement st of c to the end (the commit) and copies the row it returned,
 * if any, into copy. Returns STORE_OK with *found, or the logged failure.
 */
static enum store_status run_returning(struct sqlite_store *s, struct sqlite_conn *c,
                                       sqlite3_stmt *st, const char *what, struct task_copy *copy,
                                       bool *found)
{
    int rc;
    *found = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        task_copy_row(copy, st);
        *found = true;
    }
    enum store_status status = rc == SQLITE_DONE ? STORE_OK : stmt_failed(s, c->db, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return status;
}

/* ---- the backend ---- */

/* A read-only file still serves reads: say once that writes will fail. SQLite makes -wal and
 * -shm with the file's permissions, so they stay read-only after the file was made writable. */
static void warn_if_read_only(sqlite3 *db, const char *path)
{
    static const char *const suffixes[] = {"-wal", "-shm"};
    struct buf name = BUF_INIT;
    if (sqlite3_db_readonly(db, "main") == 1)
        log_warn("sqlite: '%s' is read-only: changes to tasks will fail", path);
    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        buf_reset(&name);
        buf_printf(&name, "%s%s", path, suffixes[i]);
        if (access(name.data, F_OK) == 0 && access(name.data, W_OK) != 0)
            log_warn("sqlite: '%s' is read-only: changes to tasks will fail", name.data);
    }
    buf_release(&name);
}

/* True if path is a file that starts as every SQLite database does. */
static bool is_sqlite_file(const char *path)
{
    static const char magic[16] = "SQLite format 3";
    char head[sizeof magic];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool same =
        fread(head, 1, sizeof head, f) == sizeof head && memcmp(head, magic, sizeof magic) == 0;
    fclose(f);
    return same;
}

/*
 * Earlier versions kept a boltdb store in tasks.db in the working directory; now it goes next to
 * DbName (ADR 0014). If that file is about to be created while an old SQLite tasks.db sits in
 * the working directory, say so: the tasks there are not lost, only not in use.
 */
static void warn_if_moved(const struct config *cfg, const char *path)
{
    if (!cfg->db_path_from_db_name || access(path, F_OK) == 0 ||
        !is_sqlite_file(CONFIG_DEFAULT_DB_PATH))
        return;
    log_warn("sqlite: creating '%s' next to DbName (DbType boltdb); the SQLite file '%s' "
             "in the working directory is not used: set DbPath to its full path to keep using it",
             path, CONFIG_DEFAULT_DB_PATH);
}

static void sqlite_free(struct store *store)
{
    struct sqlite_store *s = (struct sqlite_store *)store;
    pool_release(&s->listers);
    pool_release(&s->readers);
    pool_release(&s->writer);
    free(s->path);
    free(s);
}

static enum store_status reader_open(struct sqlite_store *s, struct sqlite_conn *c, char *err,
                                     size_t errlen)
{
    enum store_status st = sqlite_conn_open(c, s->path, false, true, err, errlen);
    if (st == STORE_OK) /* readers never write, whatever a bug would ask them */
        sqlite_exec(c->db, "PRAGMA query_only = 1");
    return st;
}

/*
 * A reader connection of pool into *out, opened now if it never was. STORE_UNAVAILABLE if none
 * is free in time; if opening fails, the open's status (logged): a file that lost its table is
 * an error, as it is for a reader opened before, not a wait-and-retry. Put it back with
 * pool_put.
 */
static enum store_status pool_acquire_reader(struct sqlite_store *s, struct conn_pool *pool,
                                             struct sqlite_conn **out)
{
    struct sqlite_conn *c = pool_acquire(pool, s->pool_timeout_ms);
    *out = NULL;
    if (!c)
        return STORE_UNAVAILABLE;
    if (!c->db) {
        char err[512];
        enum store_status st = reader_open(s, c, err, sizeof err);
        if (st != STORE_OK) {
            log_error("sqlite: %s", err);
            pool_put(pool, c);
            return st;
        }
    }
    *out = c;
    return STORE_OK;
}

static enum store_status reader_acquire(struct sqlite_store *s, struct sqlite_conn **out)
{
    return pool_acquire_reader(s, &s->readers, out);
}

static enum store_status sqlite_open(const struct config *cfg, struct store **out, char *err,
                                     size_t errlen)
{
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    enum store_status st;
    int readers = cfg->db_pool_size;
    if (readers < 1)
        readers = 1;
    if (readers > SQLITE_MAX_READERS) {
        log_warn("sqlite: DbPoolSize %d is more than the %d readers the embedded store opens: "
                 "using %d",
                 readers, SQLITE_MAX_READERS, SQLITE_MAX_READERS);
        readers = SQLITE_MAX_READERS;
    }

    /* Each statement of a multi-statement write transaction (a batch of writes, write_many)
     * ends by freeing its savepoint; with glibc's default trim threshold (128 KiB) such a free
     * at the top of a thread's malloc arena handed pages back to the kernel (madvise, a TLB
     * shootdown) that the next statement faulted in again, for most of the CPU of a batch.
     * Arenas keep up to 1 MiB free at their top instead (ADR 0032). */
    mallopt(M_TRIM_THRESHOLD, SQLITE_ARENA_TRIM_THRESHOLD);
    s->base.backend = &store_sqlite_backend;
    s->path = xstrdup(cfg->db_path); /* never empty: config.c defaults it */
    /* DbPoolTimeout 0 ("do not wait") would fail every write that meets another at the one
     * writer connection: the embedded store waits the default instead (docs/config.md). */
    s->pool_timeout_ms = cfg->db_pool_timeout > 0 ? cfg->db_pool_timeout : 2000;
    pool_init(&s->writer, 1);
    pool_init(&s->readers, readers);
    pool_init(&s->listers, STORE_LIST_SEQUENCES);

    /* The writer first, without statements: it creates the file and the schema the
     * statements need. */
    struct sqlite_conn *w = &s->writer.conns[0];
    warn_if_moved(cfg, s->path);
    st = sqlite_conn_open(w, s->path, true, false, err, errlen);
    if (st != STORE_OK)
        goto fail;
    st = sqlite_set_wal(w->db, s->path, err, errlen);
    if (st != STORE_OK)
        goto fail;
    st = sqlite_ensure_schema(w->db, s->path, NULL, err, errlen);
    if (st != STORE_OK)
        goto fail;
    warn_if_read_only(w->db, s->path);
    st = sqlite_conn_prepare(w, s->path, err, errlen);
    if (st != STORE_OK)
        goto fail;
    /* One reader now, so that a file readers cannot open fails here; the others and the listers
     * on first use. */
    st = reader_open(s, &s->readers.conns[0], err, errlen);
    if (st != STORE_OK)
        goto fail;
    *out = &s->base;
    return STORE_OK;

fail:
    sqlite_free(&s->base);
    *out = NULL;
    return st;
}

static enum store_status sqlite_ping(struct store *store)
{
    struct sqlite_store *s = (struct sqlite_store *)store;
    struct sqlite_conn *c;
    enum store_status acquired = reader_acquire(s, &c);
    if (acquired != STORE_OK)
        return acquired;
    sqlite3_stmt *st = c->stmt[STMT_PING];
    int rc = sqlite3_step(st);
    enum store_status status = rc == SQLITE_ROW ? STORE_OK : stmt_failed(s, c->db, "ping");
    sqlite3_reset(st);
    pool_put(&s->readers, c);
    return status;
}

/*
 * Steps the bound read statement st of c to the end, visiting each row live (a read holds no
 * lock a writer waits for in WAL), then resets it. sent (if not NULL) is called just before the
 * first step, which begins the read transaction (snapshot) unless one is open.
 */
static enum store_status visit_rows(struct sqlite_store *s, struct sqlite_conn *c, sqlite3_stmt *st,
                                    store_sent_fn sent, void *arg, task_visit_fn visit, void *ctx,
                                    bool *found)
{
    enum store_status status = STORE_OK;
    bool stopped = false;
    int rc = SQLITE_DONE;
    *found = false;
    if (sent)
        sent(arg);
    while (!stopped && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct task t;
        task_from_row(st, &t);
        *found = true;
        stopped = visit(&t, ctx) != 0;
    }
    if (!stopped && rc != SQLITE_DONE)
        status = stmt_failed(s, c->db, "read tasks");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return status;
}

static enum store_status read_rows(struct sqlite_store *s, enum sqlite_stmt id, int64_t task_id,
                                   store_sent_fn sent, void *arg, task_visit_fn visit, void *ctx,
                                   bool *found)
{
    struct sqlite_conn *c;
    enum store_status acquired = reader_acquire(s, &c);
    if (acquired != STORE_OK)
        return acquired;
    if (id == STMT_GET)
        sqlite3_bind_int64(c->stmt[id], 1, task_id);
    enum store_status status = visit_rows(s, c, c->stmt[id], sent, arg, visit, ctx, found);
    pool_put(&s->readers, c);
    return status;
}

/* Runs a statement of c that returns no rows (BEGIN, COMMIT). */
static enum store_status run_plain(struct sqlite_store *s, struct sqlite_conn *c,
                                   enum sqlite_stmt id, const char *what)
{
    int rc = sqlite3_step(c->stmt[id]);
    enum store_status status = rc == SQLITE_DONE ? STORE_OK : stmt_failed(s, c->db, what);
    sqlite3_reset(c->stmt[id]);
    return status;
}

/* Lister c's data_version as a list version: the lister's number (from 1: never 0, store.h)
 * above its data_version, so equal only for one lister's equal data_versions. Outside a
 * transaction the pragma reads in a read transaction of its own; inside one, in that
 * transaction's snapshot. */
static enum store_status read_version(struct sqlite_store *s, struct sqlite_conn *c,
                                      uint64_t *version)
{
    sqlite3_stmt *st = c->stmt[STMT_DATA_VERSION];
    uint64_t lister = (uint64_t)(c - s->listers.conns) + 1;
    int rc = sqlite3_step(st);
    enum store_status status = STORE_OK;
    if (rc == SQLITE_ROW)
        *version = (lister << 32) | (uint32_t)sqlite3_column_int64(st, 0);
    else
        status = stmt_failed(s, c->db, "read the data version");
    sqlite3_reset(st);
    return status;
}

/*
 * The check is the pragma alone, in a read transaction of its own that begins during the call.
 * If the version is not known, the version and the rows come from one explicit read transaction
 * (one snapshot), begun later still.
 */
static enum store_status sqlite_task_list_if_changed(struct store *store, const uint64_t *known,
                                                     size_t nknown, uint64_t *version,
                                                     store_sent_fn sent, void *arg,
                                                     task_visit_fn visit, void *ctx)
{
    struct sqlite_store *s = (struct sqlite_store *)store;
    struct sqlite_conn *c;
    enum store_status acquired = pool_acquire_reader(s, &s->listers, &c);
    if (acquired != STORE_OK)
        return acquired;
    if (sent)
        sent(arg);
    bool found;
    enum store_status status = read_version(s, c, version);
    if (status != STORE_OK || store_version_known(known, nknown, *version))
        goto done;
    status = run_plain(s, c, STMT_BEGIN, "begin a read");
    if (status == STORE_OK)
        status = read_version(s, c, version); /* begins the snapshot */
    if (status == STORE_OK)
        status = visit_rows(s, c, c->stmt[STMT_LIST], NULL, NULL, visit, ctx, &found);
    if (status == STORE_OK)
        status = run_plain(s, c, STMT_COMMIT, "end a read");
    if (!sqlite3_get_autocommit(c->db))
        sqlite_exec(c->db, "ROLLBACK");
done:
    pool_put(&s->listers, c);
    return status;
}

static enum store_status sqlite_task_list(struct store *store, store_sent_fn sent, void *arg,
                                          task_visit_fn visit, void *ctx)
{
    bool found;
    return read_rows((struct sqlite_store *)store, STMT_LIST, 0, sent, arg, visit, ctx, &found);
}

static enum store_status sqlite_task_get(struct store *store, int64_t id, task_visit_fn visit,
                                         void *ctx)
{
    bool found;
    enum store_status st =
        read_rows((struct sqlite_store *)store, STMT_GET, id, NULL, NULL, visit, ctx, &found);
    return st == STORE_OK && !found ? STORE_NOT_FOUND : st;
}

/* Runs write statement id, bound by bind, and visits the row it returned after the commit. */
static enum store_status write_returning(struct sqlite_store *s, enum sqlite_stmt id,
                                         void (*bind)(sqlite3_stmt *st, const void *arg),
                                         const void *arg, const char *what, task_visit_fn visit,
                                         void *ctx, bool *found)
{
    struct task_copy copy = {.title = BUF_INIT};
    struct sqlite_conn *c = pool_acquire(&s->writer, s->pool_timeout_ms);
    if (!c)
        return STORE_UNAVAILABLE;
    bind(c->stmt[id], arg);
    enum store_status status = run_returning(s, c, c->stmt[id], what, &copy, found);
    pool_put(&s->writer, c);
    if (status == STORE_OK && *found && visit)
        visit(&copy.task, ctx);
    buf_release(&copy.title);
    return status;
}

static void bind_create(sqlite3_stmt *st, const void *arg)
{
    const struct task *in = arg;
    sqlite3_bind_int(st, 1, in->complete);
    sqlite3_bind_int(st, 2, in->priority);
    sqlite3_bind_text64(st, 3, in->title ? in->title : "", in->title ? in->title_len : 0,
                        SQLITE_STATIC, SQLITE_UTF8);
}

static enum store_status sqlite_task_create(struct store *store, const struct task *in,
                                            task_visit_fn visit, void *ctx)
{
    struct sqlite_store *s = (struct sqlite_store *)store;
    bool found;
    enum store_status st =
        write_returning(s, STMT_CREATE, bind_create, in, "create a task", visit, ctx, &found);
    if (st == STORE_OK && !found) {
        log_error("sqlite: cannot create a task in '%s': task ids exhausted (2147483647)", s->path);
        return STORE_ERROR;
    }
    return st;
}

/* The k-th write of a transaction on writer c: sets *found and copies the row it returns (if
 * any) into *row. */
typedef enum store_status (*write_step_fn)(struct sqlite_store *s, struct sqlite_conn *c,
                                           const void *args, size_t k, struct task_copy *row,
                                           bool *found);

/* Runs n writes on the writer in one transaction: one commit (one fsync) for all of them. If one
 * fails, all are rolled back. After the commit, visits the row of each write that found one. */
static enum store_status write_many(struct sqlite_store *s, write_step_fn step, const void *args,
                                    size_t n, const char *what, task_visit_fn visit, void *ctx)
{
    struct sqlite_conn *c = pool_acquire(&s->writer, s->pool_timeout_ms);
    if (!c)
        return STORE_UNAVAILABLE;
    struct task_copy *rows = xcalloc(n, sizeof *rows); /* zeroed: empty title buffers */
    bool *found = xcalloc(n, sizeof *found);
    enum store_status status = STORE_OK;
    if (sqlite_exec(c->db, "BEGIN IMMEDIATE") != SQLITE_OK)
        status = stmt_failed(s, c->db, "begin a transaction");
    for (size_t k = 0; k < n && status == STORE_OK; k++)
        status = step(s, c, args, k, &rows[k], &found[k]);
    if (status == STORE_OK && sqlite_exec(c->db, "COMMIT") != SQLITE_OK)
        status = stmt_failed(s, c->db, what);
    if (status != STORE_OK && !sqlite3_get_autocommit(c->db))
        sqlite_exec(c->db, "ROLLBACK");
    pool_put(&s->writer, c);
    for (size_t k = 0; k < n; k++) {
        if (status == STORE_OK && found[k] && visit)
            visit(&rows[k].task, ctx);
        buf_release(&rows[k].title);
    }
    free(found);
    free(rows);
    return status;
}

static enum store_status create_step(struct sqlite_store *s, struct sqlite_conn *c,
                                     const void *args, size_t k, struct task_copy *row, bool *found)
{
    bind_create(c->stmt[STMT_CREATE], &((const struct task *)args)[k]);
    enum store_status status =
        run_returning(s, c, c->stmt[STMT_CREATE], "create a task", row, found);
    if (status == STORE_OK && !*found) {
        log_error("sqlite: cannot create a task in '%s': task ids exhausted (2147483647)", s->path);
        status = STORE_ERROR;
    }
    return status;
}

static enum store_status sqlite_task_create_many(struct store *store, const struct task *in,
                                                 size_t n, task_visit_fn visit, void *ctx)
{
    return write_many((struct sqlite_store *)store, create_step, in, n, "commit new tasks", visit,
                      ctx);
}

struct update_args {
    int64_t id;
    const struct task_patch *patch;
};

static void bind_update(sqlite3_stmt *st, const void *arg)
{
    const struct update_args *a = arg;
    const struct task_patch *p = a->patch;
    if (p->has_complete)
        sqlite3_bind_int(st, 1, p->value.complete);
    if (p->has_priority)
        sqlite3_bind_int(st, 2, p->value.priority);
    if (p->has_title)
        sqlite3_bind_text64(st, 3, p->value.title ? p->value.title : "",
                            p->value.title ? p->value.title_len : 0, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_int64(st, 4, a->id);
}

static enum store_status sqlite_task_update(struct store *store, int64_t id,
                                            const struct task_patch *patch, task_visit_fn visit,
                                            void *ctx)
{
    struct update_args args = {id, patch};
    bool found;
    enum store_status st = write_returning((struct sqlite_store *)store, STMT_UPDATE, bind_update,
                                           &args, "update a task", visit, ctx, &found);
    return st == STORE_OK && !found ? STORE_NOT_FOUND : st;
}

/* Deletes task ids[k]; its "row" is its id alone. */
static enum store_status delete_step(struct sqlite_store *s, struct sqlite_conn *c,
                                     const void *args, size_t k, struct task_copy *row, bool *found)
{
    sqlite3_stmt *st = c->stmt[STMT_DELETE];
    int64_t id = ((const int64_t *)args)[k];
    sqlite3_bind_int64(st, 1, id);
    enum store_status status =
        sqlite3_step(st) == SQLITE_DONE ? STORE_OK : stmt_failed(s, c->db, "delete a task");
    *found = status == STORE_OK && sqlite3_changes(c->db) > 0;
    row->task = (struct task){.id = id, .title = ""};
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return status;
}

static enum store_status sqlite_task_delete(struct store *store, int64_t id)
{
    struct sqlite_store *s = (struct sqlite_store *)store;
    struct sqlite_conn *c = pool_acquire(&s->writer, s->pool_timeout_ms);
    if (!c)
        return STORE_UNAVAILABLE;
    struct task_copy row = {.title = BUF_INIT};
    bool found;
    enum store_status status = delete_step(s, c, &id, 0, &row, &found);
    pool_put(&s->writer, c);
    return status == STORE_OK && !found ? STORE_NOT_FOUND : status;
}

/* The tasks and patches of sqlite_task_update_many. */
struct update_many_args {
    const int64_t *ids;
    const struct task_patch *patches;
};

static enum store_status update_step(struct sqlite_store *s, struct sqlite_conn *c,
                                     const void *args, size_t k, struct task_copy *row, bool *found)
{
    const struct update_many_args *a = args;
    bind_update(c->stmt[STMT_UPDATE], &(struct update_args){a->ids[k], &a->patches[k]});
    return run_returning(s, c, c->stmt[STMT_UPDATE], "update a task", row, found);
}

/* The n updates in one transaction (write_many): one commit for a batch of PUTs and PATCHes. */
static enum store_status sqlite_task_update_many(struct store *store, const int64_t *ids,
                                                 const struct task_patch *patches, size_t n,
                                                 task_visit_fn visit, void *ctx)
{
    struct update_many_args args = {ids, patches};
    return write_many((struct sqlite_store *)store, update_step, &args, n, "commit updates", visit,
                      ctx);
}

/* The n deletes in one transaction (write_many): one commit for a batch of DELETEs. */
static enum store_status sqlite_task_delete_many(struct store *store, const int64_t *ids, size_t n,
                                                 task_visit_fn visit, void *ctx)
{
    return write_many((struct sqlite_store *)store, delete_step, ids, n, "commit deletes", visit,
                      ctx);
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sqlite_open,
    .free = sqlite_free,
    .ping = sqlite_ping,
    .task_list = sqlite_task_list,
    .task_list_if_changed = sqlite_task_list_if_changed,
    .task_get = sqlite_task_get,
    .task_create = sqlite_task_create,
    .task_create_many = sqlite_task_create_many,
    .task_update = sqlite_task_update,
    .task_update_many = sqlite_task_update_many,
    .task_delete = sqlite_task_delete,
    .task_delete_many = sqlite_task_delete_many,
    .writes_in_order = true, /* write_many: one statement a write, in order */
    .updatedb = sqlite_updatedb,
    .migrate = sqlite_migrate,
    .backup = sqlite_backup,
};
