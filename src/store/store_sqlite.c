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
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "log.h"
#include "store/store_backend.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errbuf.h"
#include "util/xalloc.h"

#define SQLITE_BUSY_TIMEOUT_MS 5000
#define SQLITE_MAX_READERS     64
/* Free memory a malloc arena keeps at its top before giving it back (sqlite_open). */
#define SQLITE_ARENA_TRIM_THRESHOLD (1024 * 1024)

static const char schema_table[] =
    "CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "completed boolean NOT NULL, priority integer NOT NULL, title text NOT NULL)";
static const char schema_index[] =
    "CREATE INDEX IF NOT EXISTS tasks_priority_id ON tasks (priority, id)";

enum stmt_id {
    STMT_PING,
    STMT_LIST,
    STMT_GET,
    STMT_CREATE,
    STMT_UPDATE,
    STMT_DELETE,
    STMT_DATA_VERSION,
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_COUNT,
};

#define TASK_COLUMNS "id, completed, priority, title"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_PING] = "SELECT 1",
    [STMT_LIST] = "SELECT " TASK_COLUMNS " FROM tasks ORDER BY priority, id",
    [STMT_GET] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?1",
    /* Ids stay within 1..INT32_MAX (the original's SERIAL): once the next id would pass it,
     * the insert inserts nothing. AUTOINCREMENT takes max(seq, max(id)) + 1. */
    [STMT_CREATE] = "INSERT INTO tasks (completed, priority, title) SELECT ?1, ?2, ?3 "
                    "WHERE coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0) "
                    "< 2147483647 AND coalesce((SELECT max(id) FROM tasks), 0) < 2147483647 "
                    "RETURNING " TASK_COLUMNS,
    /* A NULL parameter keeps the column (no column is ever NULL). */
    [STMT_UPDATE] = "UPDATE tasks SET completed = coalesce(?1, completed), "
                    "priority = coalesce(?2, priority), title = coalesce(?3, title) "
                    "WHERE id = ?4 RETURNING " TASK_COLUMNS,
    [STMT_DELETE] = "DELETE FROM tasks WHERE id = ?1",
    /* Changes whenever another connection (of this process or any other) committed since this
     * connection last looked: a lister's list version (sqlite_task_list_if_changed). */
    [STMT_DATA_VERSION] = "PRAGMA data_version",
    [STMT_BEGIN] = "BEGIN",
    [STMT_COMMIT] = "COMMIT",
};

struct sqlite_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
};

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

/* The cause of a failed call on db, as one line: SQLite's message and the system error. */
static const char *db_cause(sqlite3 *db, char *tmp, size_t len)
{
    int sys = sqlite3_system_errno(db);
    if (sys && (sqlite3_errcode(db) & 0xff) == SQLITE_CANTOPEN) {
        snprintf(tmp, len, "%s", strerror(sys));
        return tmp;
    }
    if (sys && sqlite3_errcode(db) != SQLITE_NOTADB)
        snprintf(tmp, len, "%s (%s)", sqlite3_errmsg(db), strerror(sys));
    else
        snprintf(tmp, len, "%s", sqlite3_errmsg(db));
    return tmp;
}

/* Why a file that SQLite cannot open cannot be created: its directory is missing or not
 * writable. NULL if the directory looks fine. */
static const char *create_cause(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *cause = NULL;
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    if (access(path, F_OK) != 0 && access(slash ? dir : ".", W_OK | X_OK) != 0)
        cause = strerror(errno);
    free(dir);
    return cause;
}

static void set_open_error(char *err, size_t errlen, const char *path, sqlite3 *db)
{
    char tmp[256];
    const char *cause;
    if (db && (sqlite3_errcode(db) & 0xff) == SQLITE_CANTOPEN && (cause = create_cause(path)))
        snprintf(err, errlen, "cannot create '%s': %s", path, cause);
    else if (db && sqlite3_errcode(db) == SQLITE_NOTADB)
        snprintf(err, errlen,
                 "'%s' is not a SQLite database (a BoltDB file from the Go original? move it "
                 "away)",
                 path);
    else if (db)
        snprintf(err, errlen, "cannot open '%s': %s", path, db_cause(db, tmp, sizeof(tmp)));
    else
        snprintf(err, errlen, "cannot open '%s': out of memory", path);
}

static enum store_status status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_UNAVAILABLE;
    default:
        return STORE_ERROR;
    }
}

/* Explains why "<what> '<path>'" failed on db into err and maps the failure to a status. */
static enum store_status db_failed(sqlite3 *db, const char *what, const char *path, char *err,
                                   size_t errlen)
{
    char tmp[256];
    errbuf_set(err, errlen, "cannot %s '%s': %s", what, path, db_cause(db, tmp, sizeof(tmp)));
    return status_of(sqlite3_errcode(db));
}

/* Logs a failed statement once and maps it to a status. */
static enum store_status stmt_failed(struct sqlite_store *s, sqlite3 *db, const char *what)
{
    char tmp[256];
    int rc = sqlite3_extended_errcode(db);
    log_error("sqlite: cannot %s in '%s': %s", what, s->path, db_cause(db, tmp, sizeof(tmp)));
    return status_of(rc);
}

/* ---- connections ---- */

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void conn_close(struct sqlite_conn *c)
{
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof(*c));
}

/*
 * Opens path read-write (creating it if create), sets the pragmas every connection needs and,
 * if prepare, prepares the statements. On failure writes the message into err.
 */
static enum store_status conn_open(struct sqlite_conn *c, const char *path, bool create,
                                   bool prepare, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    memset(c, 0, sizeof(*c));
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, SQLITE_BUSY_TIMEOUT_MS);
    /* The first statement reads the header: this is where a file that is not a database
     * (a BoltDB file) fails, with SQLITE_NOTADB. */
    if (exec_sql(c->db, "PRAGMA synchronous = FULL; SELECT count(*) FROM sqlite_master") !=
        SQLITE_OK)
        goto fail;
    if (prepare) {
        for (int i = 0; i < STMT_COUNT; i++)
            if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i],
                                   NULL) != SQLITE_OK)
                goto fail;
    }
    return STORE_OK;

fail:
    set_open_error(err, errlen, path, c->db);
    enum store_status st = c->db ? status_of(sqlite3_errcode(c->db)) : STORE_ERROR;
    conn_close(c);
    return st;
}

/* WAL mode is stored in the file, so this needs to succeed once per database; a read-only
 * file keeps whatever mode it has. */
static enum store_status set_wal(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    if (sqlite3_db_readonly(db, "main") == 1)
        return STORE_OK;
    if (exec_sql(db, "PRAGMA journal_mode = WAL") != SQLITE_OK)
        return db_failed(db, "set WAL mode on", path, err, errlen);
    return STORE_OK;
}

static bool table_exists(sqlite3 *db, const char *type, const char *name)
{
    sqlite3_stmt *st;
    bool found = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/*
 * Creates table and index if missing, printing a line per step to out (if not NULL). On a
 * read-only file with the schema in place there is nothing to write, so it succeeds.
 */
static enum store_status ensure_schema(sqlite3 *db, const char *path, FILE *out, char *err,
                                       size_t errlen)
{
    bool has_table = table_exists(db, "table", "tasks");
    bool has_index = table_exists(db, "index", "tasks_priority_id");
    if (out)
        fprintf(out, "%s table: tasks\n", has_table ? "Keeping existing" : "Creating");
    if (!has_table && exec_sql(db, schema_table) != SQLITE_OK)
        goto fail;
    if (out)
        fprintf(out, "%s index: tasks_priority_id\n", has_index ? "Keeping existing" : "Creating");
    if (!has_index && exec_sql(db, schema_index) != SQLITE_OK)
        goto fail;
    return STORE_OK;

fail:
    return db_failed(db, "create table tasks in", path, err, errlen);
}

static void pool_init(struct conn_pool *p, int n)
{
    pthread_mutex_init(&p->lock, NULL);
    clock_cond_init(&p->freed);
    p->conns = xcalloc((size_t)n, sizeof(*p->conns));
    p->busy = xcalloc((size_t)n, sizeof(*p->busy));
    p->n = n;
}

static void pool_release(struct conn_pool *p)
{
    if (!p->conns)
        return;
    for (int i = 0; i < p->n; i++)
        conn_close(&p->conns[i]);
    free(p->conns);
    free(p->busy);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof(*p));
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
    enum store_status st = conn_open(c, s->path, false, true, err, errlen);
    if (st == STORE_OK) /* readers never write, whatever a bug would ask them */
        exec_sql(c->db, "PRAGMA query_only = 1");
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
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
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
    st = conn_open(w, s->path, true, false, err, errlen);
    if (st != STORE_OK)
        goto fail;
    st = set_wal(w->db, s->path, err, errlen);
    if (st != STORE_OK)
        goto fail;
    st = ensure_schema(w->db, s->path, NULL, err, errlen);
    if (st != STORE_OK)
        goto fail;
    warn_if_read_only(w->db, s->path);
    for (int i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(w->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->stmt[i],
                               NULL) != SQLITE_OK) {
            set_open_error(err, errlen, s->path, w->db);
            st = STORE_ERROR;
            goto fail;
        }
    }
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

static enum store_status read_rows(struct sqlite_store *s, enum stmt_id id, int64_t task_id,
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
static enum store_status run_plain(struct sqlite_store *s, struct sqlite_conn *c, enum stmt_id id,
                                   const char *what)
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
        exec_sql(c->db, "ROLLBACK");
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
static enum store_status write_returning(struct sqlite_store *s, enum stmt_id id,
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
    if (exec_sql(c->db, "BEGIN IMMEDIATE") != SQLITE_OK)
        status = stmt_failed(s, c->db, "begin a transaction");
    for (size_t k = 0; k < n && status == STORE_OK; k++)
        status = step(s, c, args, k, &rows[k], &found[k]);
    if (status == STORE_OK && exec_sql(c->db, "COMMIT") != SQLITE_OK)
        status = stmt_failed(s, c->db, what);
    if (status != STORE_OK && !sqlite3_get_autocommit(c->db))
        exec_sql(c->db, "ROLLBACK");
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

/* ---- schema commands ---- */

/* Removes path and its -wal and -shm files; a missing file is fine. */
static enum store_status remove_database(const char *path, char *err, size_t errlen)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    struct buf name = BUF_INIT;
    enum store_status st = STORE_OK;
    for (size_t i = 0; i < ARRAY_SIZE(suffixes) && st == STORE_OK; i++) {
        buf_reset(&name);
        buf_printf(&name, "%s%s", path, suffixes[i]);
        if (unlink(name.data) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot remove '%s': %s", name.data, strerror(errno));
            st = STORE_ERROR;
        }
    }
    buf_release(&name);
    return st;
}

static enum store_status seed(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO tasks (completed, priority, title) VALUES (0, 0, ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < ARRAY_SIZE(store_seed_titles); i++) {
        sqlite3_bind_text(st, 1, store_seed_titles[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return STORE_OK;

fail:;
    enum store_status failed = db_failed(db, "seed table tasks in", path, err, errlen);
    sqlite3_finalize(st);
    return failed;
}

static enum store_status sqlite_updatedb(const struct config *cfg, bool skip_create_db, FILE *out,
                                         char *err, size_t errlen)
{
    const char *path = cfg->db_path;
    struct sqlite_conn c;
    enum store_status st;

    if (!skip_create_db) {
        fprintf(out, "Dropping and recreating database: %s\n", path);
        st = remove_database(path, err, errlen);
        if (st != STORE_OK)
            return st;
    }
    st = conn_open(&c, path, true, false, err, errlen);
    if (st != STORE_OK)
        return st;
    st = set_wal(c.db, path, err, errlen);
    if (st != STORE_OK)
        goto out;
    fprintf(out, "Dropping and recreating table: tasks\n");
    if (exec_sql(c.db, "BEGIN IMMEDIATE; DROP TABLE IF EXISTS tasks") != SQLITE_OK ||
        exec_sql(c.db, schema_table) != SQLITE_OK || exec_sql(c.db, schema_index) != SQLITE_OK) {
        st = db_failed(c.db, "recreate table tasks in", path, err, errlen);
        goto out;
    }
    fprintf(out, "Seeding table with data\n");
    st = seed(c.db, path, err, errlen);
    if (st != STORE_OK)
        goto out;
    if (exec_sql(c.db, "COMMIT") != SQLITE_OK)
        st = db_failed(c.db, "commit to", path, err, errlen);

out:
    /* An open transaction is rolled back by close. */
    conn_close(&c);
    return st;
}

static enum store_status sqlite_migrate(const struct config *cfg, FILE *out, char *err,
                                        size_t errlen)
{
    const char *path = cfg->db_path;
    struct sqlite_conn c;
    enum store_status st;

    fprintf(out, "Opening database: %s\n", path);
    st = conn_open(&c, path, true, false, err, errlen);
    if (st != STORE_OK)
        return st;
    st = set_wal(c.db, path, err, errlen);
    if (st == STORE_OK)
        st = ensure_schema(c.db, path, out, err, errlen);
    conn_close(&c);
    return st;
}

/* ---- backup ---- */

/* fsyncs the file or directory at path. */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The directory part of path ("." if none), for fsync after a rename. Caller frees. */
static char *dir_of(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        free(dir);
        return xstrdup(".");
    }
    slash[slash == dir ? 1 : 0] = '\0';
    return dir;
}

/* Moves tmp to dest; without replace, fails with EEXIST if dest exists (atomically). */
static int move_into_place(const char *tmp, const char *dest, bool replace)
{
    if (replace)
        return rename(tmp, dest);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A file system without RENAME_NOREPLACE: link() refuses an existing name too. */
    if (link(tmp, dest) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

/* Runs a one-value query on db; copies the text of the first column into out. */
static bool query_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st;
    bool ok = false;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        snprintf(out, outlen, "%s", text ? (const char *)text : "");
        ok = true;
    }
    sqlite3_finalize(st);
    return ok;
}

/*
 * Copies the open database src into the new file tmp with the online backup API, in one step:
 * one read transaction, so the copy is the database as of one instant, while the server's
 * writer goes on (WAL). Then makes the copy self-contained and checks it.
 */
static enum store_status copy_database(sqlite3 *src, const char *tmp, long long *tasks, char *err,
                                       size_t errlen)
{
    char tmp_cause[256], check[256], count[32];
    sqlite3 *dst = NULL;
    enum store_status st = STORE_ERROR;

    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        set_open_error(err, errlen, tmp, dst);
        goto out;
    }
    sqlite3_extended_result_codes(dst, 1);
    sqlite3_busy_timeout(dst, SQLITE_BUSY_TIMEOUT_MS);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, errlen, "cannot start the backup into '%s': %s", tmp,
                 db_cause(dst, tmp_cause, sizeof(tmp_cause)));
        goto out;
    }
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot copy the database into '%s': %s", tmp,
                 rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? "the database stayed locked"
                                                          : sqlite3_errstr(rc));
        st = status_of(rc);
        goto out;
    }
    /* The copy carries the source's WAL flag; a backup is one file. */
    if (exec_sql(dst, "PRAGMA journal_mode = DELETE") != SQLITE_OK) {
        snprintf(err, errlen, "cannot finish '%s': %s", tmp,
                 db_cause(dst, tmp_cause, sizeof(tmp_cause)));
        goto out;
    }
    if (!query_text(dst, "PRAGMA integrity_check", check, sizeof(check)) ||
        strcmp(check, "ok") != 0) {
        snprintf(err, errlen, "the copy in '%s' fails its integrity check: %s", tmp,
                 check[0] ? check : db_cause(dst, tmp_cause, sizeof(tmp_cause)));
        goto out;
    }
    *tasks = query_text(dst, "SELECT count(*) FROM tasks", count, sizeof(count))
                 ? strtoll(count, NULL, 10)
                 : -1;
    st = STORE_OK;
out:
    if (sqlite3_close(dst) != SQLITE_OK && st == STORE_OK) {
        snprintf(err, errlen, "cannot close '%s'", tmp);
        st = STORE_ERROR;
    }
    return st;
}

static enum store_status sqlite_backup(const struct config *cfg, const char *dest, bool replace,
                                       FILE *out, char *err, size_t errlen)
{
    const char *path = cfg->db_path;
    struct stat src_st, dest_st;
    struct buf tmp = BUF_INIT;
    struct sqlite_conn src = {0};
    enum store_status st = STORE_ERROR;
    long long tasks = -1;
    char *dir = NULL;

    if (stat(path, &src_st) != 0) {
        snprintf(err, errlen, "cannot back up '%s': %s", path, strerror(errno));
        return STORE_ERROR;
    }
    if (stat(dest, &dest_st) == 0) {
        if (dest_st.st_dev == src_st.st_dev && dest_st.st_ino == src_st.st_ino) {
            snprintf(err, errlen, "'%s' is the database itself: back up to another file", dest);
            return STORE_ERROR;
        }
        if (!replace) {
            snprintf(err, errlen, "'%s' already exists (--force replaces it)", dest);
            return STORE_ERROR;
        }
        if (!S_ISREG(dest_st.st_mode)) {
            snprintf(err, errlen, "'%s' is not a regular file", dest);
            return STORE_ERROR;
        }
    }
    fprintf(out, "Backing up '%s' to '%s'\n", path, dest);
    fflush(out);

    /* Read-write without create: a reader of a WAL database needs the -shm file, which a
     * read-only connection could not make when no server runs. */
    st = conn_open(&src, path, false, false, err, errlen);
    if (st != STORE_OK)
        goto out;
    buf_printf(&tmp, "%s.tmp-XXXXXX", dest);
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file beside '%s': %s", dest,
                 strerror(errno));
        st = STORE_ERROR;
        buf_reset(&tmp);
        goto out;
    }
    close(fd);
    st = copy_database(src.db, tmp.data, &tasks, err, errlen);
    if (st != STORE_OK)
        goto out;
    st = STORE_ERROR;
    if (sync_path(tmp.data) != 0) {
        snprintf(err, errlen, "cannot sync '%s': %s", tmp.data, strerror(errno));
        goto out;
    }
    if (move_into_place(tmp.data, dest, replace) != 0) {
        if (errno == EEXIST)
            snprintf(err, errlen, "'%s' already exists (--force replaces it)", dest);
        else
            snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp.data, dest,
                     strerror(errno));
        goto out;
    }
    buf_reset(&tmp); /* it is dest now */
    dir = dir_of(dest);
    if (sync_path(dir) != 0) {
        snprintf(err, errlen, "cannot sync directory '%s': %s", dir, strerror(errno));
        goto out;
    }
    if (stat(dest, &dest_st) != 0)
        dest_st.st_size = 0;
    fprintf(out, "Backup complete: '%s', %lld tasks, %lld bytes, integrity ok\n", dest, tasks,
            (long long)dest_st.st_size);
    st = STORE_OK;
out:
    if (tmp.len) {
        unlink(tmp.data);
        buf_printf(&tmp, "-journal");
        unlink(tmp.data);
    }
    conn_close(&src);
    free(dir);
    buf_release(&tmp);
    fflush(out);
    return st;
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
