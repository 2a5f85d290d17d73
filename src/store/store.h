/*
 * store.h — the task store: one interface, two backends.
 *
 * A struct store is opened once at start-up from the configuration and shared by every worker
 * thread: every function here is safe to call concurrently on the same store. Backends:
 * "postgres" (store_pg.c, libpq, pooled) and "sqlite" (store_sqlite.c, embedded; "boltdb" is
 * accepted as an alias for configs written for the Go original).
 *
 * Reads hand tasks to a visitor instead of returning copies: the task and its title are valid
 * only during the call of the visitor (they may point into a PGresult or a sqlite3_stmt).
 * Titles are byte strings of title_len bytes (NUL-terminated for convenience, never containing
 * NUL); the store stores and returns them byte for byte and does not validate them: that is the
 * caller's job (task.h).
 *
 * Task ids are positive 32-bit integers (the original's SERIAL column); an id outside
 * 1..INT32_MAX simply does not exist (STORE_NOT_FOUND), it is never an error.
 *
 * Every function returns a store_status. The backend logs the cause of STORE_UNAVAILABLE and
 * STORE_ERROR (log.h) once, where it happens; callers only map the status (to an HTTP status).
 * The store counts its own calls, by operation and status, and the time they took
 * (store_stats); /metrics only renders the counts.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct store;

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND = -1,   /* no task with that id */
    STORE_UNAVAILABLE = -2, /* database unreachable, timed out, or no connection free in time */
    STORE_ERROR = -3,       /* anything else (disk full, read-only file, bug) */
};
#define STORE_STATUS_COUNT 4 /* statuses 0 .. -3: count index -status */

/* The calls the store counts (store_stats); get_many counts as a get, create_many as a create. */
enum store_op {
    STORE_OP_PING,
    STORE_OP_LIST,
    STORE_OP_GET,
    STORE_OP_CREATE,
    STORE_OP_UPDATE,
    STORE_OP_DELETE,
    STORE_OP_COUNT,
};

/* "ping", "list", "get", "create", "update", "delete". */
extern const char *const store_op_names[STORE_OP_COUNT];

struct task {
    int64_t id;
    int32_t priority;
    bool complete;
    const char *title; /* title_len bytes, NUL-terminated, no NUL inside */
    size_t title_len;
};

/* A partial update: only the fields whose has_ flag is set change (PATCH); PUT sets all three. */
struct task_patch {
    bool has_title, has_priority, has_complete;
    struct task value; /* value.id is ignored */
};

/* Called once per task, in order of (priority, id) for lists. Return 0 to go on; a non-zero
 * return stops the walk and is otherwise ignored by the store. */
typedef int (*task_visit_fn)(const struct task *task, void *ctx);

/* Size of the buffer for messages from store_open and the schema commands. */
#define STORE_ERRMSG_MAX 512

/*
 * Opens the backend named by cfg->db_type. On failure returns STORE_UNAVAILABLE (the database
 * cannot be reached) or STORE_ERROR (bad settings, not a database file, libpq cannot be loaded,
 * ...), sets *out to NULL and writes one line for the operator into err (no secrets in it).
 * PostgreSQL's libpq is loaded here, and by the schema commands, on first use (pq_load.h).
 * A PostgreSQL store that cannot connect yet still opens (connections are retried lazily):
 * only settings that can never work fail here.
 */
enum store_status store_open(const struct config *cfg, struct store **out, char *err,
                             size_t errlen);
/* Closes every connection and frees the store; NULL is fine. No call may be in flight. */
void store_free(struct store *store);

/* The backend's name for logs and /debug: "postgres" or "sqlite". */
const char *store_backend_name(const struct store *store);

/* Asks the database a trivial question (for /healthcheck/). */
enum store_status store_ping(struct store *store);

/* All tasks, ordered by priority then id, one visit each. */
enum store_status store_task_list(struct store *store, task_visit_fn visit, void *ctx);

/*
 * store_task_list, telling the caller when the query starts: sent(arg) is called once, when a
 * connection is ready and just before the query goes to the database, so that the result
 * reflects every write that completed before that call (the read's snapshot begins after it).
 * If the call fails before sending, sent may not be called at all. Used to batch lists
 * (handlers/task_list.c): requests may share this result only if they arrived before sent.
 */
typedef void (*store_sent_fn)(void *arg);
enum store_status store_task_list_sent(struct store *store, store_sent_fn sent, void *arg,
                                       task_visit_fn visit, void *ctx);
/*
 * The tasks unless they are unchanged since a read the caller remembers, so that it may keep what
 * it derived from the list (its JSON) and reuse it. A list version is a number other than 0; two
 * equal versions from one open store mean the tasks were the same at both reads, whoever wrote
 * in between (this process, another instance, another program on the same database). Versions
 * are not ordered: a different one says only "maybe changed". A backend may read lists on up to
 * STORE_LIST_SEQUENCES connections at once, each numbering its reads apart (SQLite): the same
 * tasks can then come with a different version from each, and a caller that finds them the
 * same may remember both versions.
 *
 * Reads the tasks as store_task_list_sent does (sent as there; the read begins after it), and
 * its version. If that is one of known[0..nknown), visits nothing and sets *version to it;
 * otherwise visits every task of that same read and sets *version to its version, or to 0 if
 * the backend cannot tell (then keep nothing). nknown 0 always reads. Counts as a list in the
 * store's metrics.
 */
/* The most connections a backend reads lists on at once, each with versions of its own. */
#define STORE_LIST_SEQUENCES 4
enum store_status store_task_list_if_changed(struct store *store, const uint64_t *known,
                                             size_t nknown, uint64_t *version, store_sent_fn sent,
                                             void *arg, task_visit_fn visit, void *ctx);
/* Whether version is one of known[0..n). */
bool store_version_known(const uint64_t *known, size_t n, uint64_t version);
/* One task, visited once; STORE_NOT_FOUND if there is none with that id. */
enum store_status store_task_get(struct store *store, int64_t id, task_visit_fn visit, void *ctx);
/*
 * The tasks whose ids are among the n ids: each task that exists is visited once, in no
 * particular order; ids without a task are skipped (not an error). Counts as one get in the
 * store's metrics. Used to batch concurrent GETs of one task (handlers/task.c).
 */
enum store_status store_task_get_many(struct store *store, const int64_t *ids, size_t n,
                                      task_visit_fn visit, void *ctx);
/* Inserts in->title/priority/complete (in->id is ignored) and visits the new row. */
enum store_status store_task_create(struct store *store, const struct task *in, task_visit_fn visit,
                                    void *ctx);
/*
 * Inserts the n tasks of in (their ids are ignored) in one transaction: all of them or none. On
 * STORE_OK visits each new row once, in the order of in (ids ascend in that order); on failure
 * visits nothing. STORE_ERROR means the database refused the statement and rolled it back, so
 * each task may be tried again alone; STORE_UNAVAILABLE means the database is busy or gone and
 * the outcome may be unknown. Counts as one create in the store's metrics. Used to batch
 * concurrent POSTs (handlers/task.c).
 */
enum store_status store_task_create_many(struct store *store, const struct task *in, size_t n,
                                         task_visit_fn visit, void *ctx);
/* Applies patch to task id and visits the row as it is afterwards. */
enum store_status store_task_update(struct store *store, int64_t id, const struct task_patch *patch,
                                    task_visit_fn visit, void *ctx);
enum store_status store_task_delete(struct store *store, int64_t id);
/*
 * Applies patches[k] to task ids[k], for each of the n distinct ids, and visits each updated row
 * once, as it is afterwards, in no particular order; ids without a task are skipped (not an
 * error). With store_writes_in_order the ids need not be distinct: the writes apply in their
 * order, and each is visited in that order, as it left its row. One transaction (PostgreSQL: one
 * statement; SQLite: one commit): STORE_ERROR means the database refused it and nothing changed, so
 * each task may be tried again alone; STORE_UNAVAILABLE means the database is busy or gone and the
 * outcome may be unknown. Counts as one update in the store's metrics. Used to batch concurrent
 * PUTs and PATCHes (handlers/task.c).
 */
enum store_status store_task_update_many(struct store *store, const int64_t *ids,
                                         const struct task_patch *patches, size_t n,
                                         task_visit_fn visit, void *ctx);
/* Deletes the tasks whose ids are among the n distinct ids and visits each deleted task once
 * (only its id is set), in no particular order; otherwise as store_task_update_many (a repeated
 * id, with store_writes_in_order: the first delete of it finds the task). Counts as one delete. */
enum store_status store_task_delete_many(struct store *store, const int64_t *ids, size_t n,
                                         task_visit_fn visit, void *ctx);
/* True if store_task_update_many and store_task_delete_many take an id more than once, applying
 * the writes one after another (SQLite, one transaction of single statements); false if the ids
 * must be distinct (PostgreSQL: one statement for all of them). */
bool store_writes_in_order(const struct store *store);

/*
 * Schema commands for the CLI. Each prints one line per step to out (what it does, e.g.
 * "Dropping and recreating database: app"), and on failure returns STORE_ERROR or
 * STORE_UNAVAILABLE with one line for the operator in err.
 *
 * store_updatedb: the original's `updatedb`: unless skip_create_db, drop and recreate the
 * database (PostgreSQL, through the "postgres" maintenance database; SQLite: remove the file);
 * then drop and recreate table tasks and seed "1st Task", "2nd Task", "3rd Task" (priority 0,
 * not complete). Destructive by design.
 * store_migrate: create what is missing (table, indexes), never drop or change data.
 */
enum store_status store_updatedb(const struct config *cfg, bool skip_create_db, FILE *out,
                                 char *err, size_t errlen);
enum store_status store_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen);

/*
 * store_backup: a consistent copy of the embedded store in file dest, taken while a server may
 * be using the database (SQLite's online backup API: one read snapshot, writers go on). The copy
 * is written to a temporary file beside dest, checked (PRAGMA integrity_check), synced, and
 * renamed to dest; an existing dest is an error unless replace. Prints what it does to out. The
 * copy is a self-contained file (rollback journal, no -wal). Backends without a backup of their
 * own (PostgreSQL: pg_dump, snapshots) return STORE_ERROR with a message saying so.
 */
enum store_status store_backup(const struct config *cfg, const char *dest, bool replace, FILE *out,
                               char *err, size_t errlen);

/* What the store has done since it was opened, and its pool now, for /metrics. */
struct store_stats {
    uint64_t calls[STORE_OP_COUNT][STORE_STATUS_COUNT]; /* by operation and -status */
    uint64_t op_ns[STORE_OP_COUNT];                     /* time spent in calls, by operation */
    int pool_size;   /* the pool: zeros where a backend has none */
    int in_use;      /* taken by a caller (connected or being connected) */
    int unconnected; /* free slots without a connection: never connected yet, or dropped
                        while the database was down or unreachable */
    int waiting;
};
/* A snapshot: each counter is read atomically, the set of them not at one instant. */
void store_stats(struct store *store, struct store_stats *out);

/* A short constant name for a status, for logs: "ok", "not found", ... */
const char *store_status_name(enum store_status status);

#endif
