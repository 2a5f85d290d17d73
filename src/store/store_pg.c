/*
 * store_pg.c — the PostgreSQL backend: a fixed pool of libpq connections, each with the task
 * statements prepared, shared by every worker thread.
 *
 * A caller takes a connection from the pool (waiting at most DbPoolTimeout ms), runs one
 * prepared statement with binary parameters and results, and puts the connection back before it
 * visits the rows (the PGresult owns them). Connections are made at open (in the background, ready
 * one by one) and remade on use when they die; while the database is down, one caller at a time
 * probes it, with a growing pause between attempts, and every other caller fails at once with
 * STORE_UNAVAILABLE: a dead database must turn into a fast 503, not into workers queueing behind
 * connect timeouts.
 *
 * A statement that fails because its connection died is run again on a fresh connection only
 * when it is a read: a write may have been applied before the line went dead, and running it
 * twice could duplicate a task.
 *
 * Connecting and wording PostgreSQL's messages (one line, password masked) are pg_connect.c's;
 * the schema commands (`updatedb`, `migrate`) are pg_schema.c's. The password is the one
 * setting that may change: when it comes from VTT_DBPASSWORD_FILE and the server refuses it, the
 * file is read again (conn_connect, ADR 0020).
 *
 * The list version of store.h is the list statement's own snapshot (pg_current_snapshot()): the
 * statement returns the tasks only if it differs from the one the caller knows (ADR 0026).
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "log.h"
#include "store/pg_connect.h"
#include "store/pg_schema.h"
#include "store/store_backend.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errbuf.h"
#include "util/xalloc.h"

/* Type oids from PostgreSQL's catalog/pg_type.h; they are fixed. */
#define OID_BOOL       16
#define OID_INT4       23
#define OID_TEXT       25
#define OID_BOOL_ARRAY 1000
#define OID_INT4_ARRAY 1007
#define OID_TEXT_ARRAY 1009

/* Pauses between reconnect attempts while the database is down. */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
/* How long past DbStatementTimeout we wait for an answer before we call the connection dead:
 * the server ends a statement at its timeout, so silence beyond that means the network or the
 * server is gone without a word (a dropped route, a frozen host), which TCP alone would only
 * notice after tcp_user_timeout (10 s) plus a reconnect. */
#define ANSWER_GRACE_MS 1000
/* The health check's SELECT 1 gets at most this long, so a load balancer sees 503 in time. */
#define PING_DEADLINE_MS 2000

enum stmt {
    STMT_PING,
    STMT_LIST,
    STMT_LIST_IF_CHANGED,
    STMT_GET,
    STMT_GET_MANY,
    STMT_INSERT,
    STMT_INSERT_MANY,
    STMT_UPDATE,
    STMT_UPDATE_MANY,
    STMT_DELETE,
    STMT_DELETE_MANY,
    STMT_COUNT
};

static const struct {
    const char *name;
    const char *sql;
    int nparams;
    Oid types[4];
} stmts[STMT_COUNT] = {
    [STMT_PING] = {"tca_ping", "SELECT 1", 0, {0}},
    [STMT_LIST] = {"tca_list",
                   "SELECT id, completed, priority, title FROM tasks ORDER BY priority, id",
                   0,
                   {0}},
    /* The list unless the statement's snapshot is still $1 (ADR 0026): that snapshot in column 0
     * of every row; the tasks, or when unchanged (or none) one row of NULLs, in columns 1..4. */
    [STMT_LIST_IF_CHANGED] = {"tca_list_if_changed",
                              "SELECT s.snap, t.id, t.completed, t.priority, t.title "
                              "FROM (SELECT pg_current_snapshot()::text) AS s(snap) "
                              "LEFT JOIN LATERAL (SELECT id, completed, priority, title "
                              "FROM tasks WHERE s.snap IS DISTINCT FROM $1) AS t ON true "
                              "ORDER BY t.priority, t.id",
                              1,
                              {OID_TEXT}},
    [STMT_GET] = {"tca_get",
                  "SELECT id, completed, priority, title FROM tasks WHERE id = $1",
                  1,
                  {OID_INT4}},
    [STMT_GET_MANY] = {"tca_get_many",
                       "SELECT id, completed, priority, title FROM tasks WHERE id = ANY($1)",
                       1,
                       {OID_INT4_ARRAY}},
    [STMT_INSERT] = {"tca_insert",
                     "INSERT INTO tasks (completed, priority, title) VALUES ($1, $2, $3) "
                     "RETURNING id, completed, priority, title",
                     3,
                     {OID_BOOL, OID_INT4, OID_TEXT}},
    /* Rows go in, and take their ids, in the order of the arrays. */
    [STMT_INSERT_MANY] = {"tca_insert_many",
                          "INSERT INTO tasks (completed, priority, title) SELECT c, p, t "
                          "FROM unnest($1::boolean[], $2::integer[], $3::text[]) "
                          "WITH ORDINALITY AS u(c, p, t, n) ORDER BY n "
                          "RETURNING id, completed, priority, title",
                          3,
                          {OID_BOOL_ARRAY, OID_INT4_ARRAY, OID_TEXT_ARRAY}},
    /* A NULL parameter leaves its column as it is: that is how a PATCH's missing fields travel. */
    [STMT_UPDATE] = {"tca_update",
                     "UPDATE tasks SET title = COALESCE($2, title), "
                     "priority = COALESCE($3, priority), completed = COALESCE($4, completed) "
                     "WHERE id = $1 RETURNING id, completed, priority, title",
                     4,
                     {OID_INT4, OID_TEXT, OID_INT4, OID_BOOL}},
    /* The same for several tasks, one row of the arrays each (ids distinct); a NULL element
     * leaves its column as it is. Statements that write several rows lock them first, in the
     * order of their ids: two of them running at once then never wait for each other in a
     * cycle (a deadlock, which PostgreSQL breaks only after deadlock_timeout, 1 s). */
    [STMT_UPDATE_MANY] = {"tca_update_many",
                          "WITH u AS (SELECT * FROM unnest($1::integer[], $2::text[], "
                          "$3::integer[], $4::boolean[]) AS u(id, title, priority, completed)), "
                          "l AS (SELECT id FROM tasks WHERE id IN (SELECT id FROM u) "
                          "ORDER BY id FOR UPDATE) "
                          "UPDATE tasks AS t SET title = COALESCE(u.title, t.title), "
                          "priority = COALESCE(u.priority, t.priority), "
                          "completed = COALESCE(u.completed, t.completed) "
                          "FROM u, l WHERE t.id = u.id AND t.id = l.id "
                          "RETURNING t.id, t.completed, t.priority, t.title",
                          4,
                          {OID_INT4_ARRAY, OID_TEXT_ARRAY, OID_INT4_ARRAY, OID_BOOL_ARRAY}},
    [STMT_DELETE] = {"tca_delete", "DELETE FROM tasks WHERE id = $1", 1, {OID_INT4}},
    [STMT_DELETE_MANY] = {"tca_delete_many",
                          "WITH l AS (SELECT id FROM tasks WHERE id = ANY($1) "
                          "ORDER BY id FOR UPDATE) "
                          "DELETE FROM tasks WHERE id IN (SELECT id FROM l) RETURNING id",
                          1,
                          {OID_INT4_ARRAY}},
};

struct pg_conn {
    PGconn *pg;        /* NULL while not connected */
    unsigned prepared; /* bit (1 << enum stmt) set once that statement is prepared */
};

struct pg_store {
    struct store base;
    struct pg_target target; /* target.password is guarded by secret_lock */
    char options[64];        /* the session settings of every pooled connection */
    char *password_file;     /* VTT_DBPASSWORD_FILE, re-read when the password is refused */
    pthread_mutex_t secret_lock;
    unsigned password_gen; /* bumped each time the password changes */
    int pool_timeout_ms;
    int answer_deadline_ms, ping_deadline_ms; /* see ANSWER_GRACE_MS */

    pthread_t filler; /* makes the first connections (fill_pool), joined by pg_free */
    bool filling;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t freed;
    struct pg_conn *conns;
    struct pg_conn **idle; /* stack of free connections; the warmest on top */
    int nconns, nidle;
    int filled;   /* slots fill_pool has put in the pool so far */
    int waiting;  /* callers waiting for a free connection */
    bool down;    /* the last connect attempt failed */
    bool probing; /* a caller is trying to connect while down */
    int backoff_ms;
    struct timespec retry_at; /* no attempt before this while down */

    /* List versions (store.h): the snapshot of the last list read and the version it got. */
    pthread_mutex_t snap_lock; /* guards the three below */
    char *snap;                /* pg_current_snapshot() as text, or NULL */
    uint64_t snap_version;
    uint64_t versions; /* the last version handed out */
};

/* ---- the pool ---- */

static void conn_drop(struct pg_conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    c->prepared = 0;
}

/* ---- the password, which may change (VTT_DBPASSWORD_FILE re-read) ---- */

/* One line of msg with the current password masked. */
static void masked_line(struct pg_store *s, char *dst, size_t dstlen, const char *msg)
{
    pthread_mutex_lock(&s->secret_lock);
    pg_one_line(dst, dstlen, msg, s->target.password);
    pthread_mutex_unlock(&s->secret_lock);
}

/* Connects with the current password; *gen is the password's generation it used. */
static PGconn *connect_current(struct pg_store *s, unsigned *gen, bool *asked, char *err,
                               size_t errlen)
{
    struct pg_target t;
    struct pg_params p;

    pthread_mutex_lock(&s->secret_lock);
    t = s->target; /* the other strings never change */
    t.password = xstrdup(s->target.password);
    *gen = s->password_gen;
    pthread_mutex_unlock(&s->secret_lock);
    pg_params_init(&p, &t, t.dbname, s->options);
    PGconn *pg = pg_connect(&t, &p, asked, err, errlen);
    explicit_bzero(t.password, strlen(t.password));
    free(t.password);
    return pg;
}

/*
 * After the server refused a connection made with password generation used_gen: reads
 * VTT_DBPASSWORD_FILE again and, if it holds another password (the secret was rotated), makes
 * that the password of every later connection. Returns whether a connect should be tried again
 * at once: the password changed, here or in another thread, since used_gen.
 */
static bool password_reload(struct pg_store *s, unsigned used_gen)
{
    char err[STORE_ERRMSG_MAX];
    char *fresh = NULL;
    bool retry, swapped = false;

    if (config_read_secret_file(s->password_file, &fresh, err, sizeof err) < 0) {
        log_warn("PostgreSQL refused the connection and the password cannot be read again: %s",
                 err);
        return false;
    }
    pthread_mutex_lock(&s->secret_lock);
    retry = s->password_gen != used_gen;
    if (!retry && strcmp(fresh, s->target.password) != 0) {
        char *old = s->target.password;
        s->target.password = fresh;
        fresh = old;
        s->password_gen++;
        retry = swapped = true;
    }
    pthread_mutex_unlock(&s->secret_lock);
    explicit_bzero(fresh, strlen(fresh));
    free(fresh);
    if (swapped)
        log_warn("PostgreSQL refused the connection: VTT_DBPASSWORD_FILE holds a new password, "
                 "connecting with it");
    else if (!retry)
        log_debug("PostgreSQL refused the connection; VTT_DBPASSWORD_FILE is unchanged");
    return retry;
}

/* A new connection may reach another database (a restore, a new endpoint), whose snapshots
 * could be spelled like this one's: the next list reads its tasks again (ADR 0026). */
static void forget_list_snapshot(struct pg_store *s)
{
    pthread_mutex_lock(&s->snap_lock);
    free(s->snap);
    s->snap = NULL;
    pthread_mutex_unlock(&s->snap_lock);
}

/*
 * Connects c. Statements are prepared on a connection when it first runs them (run): preparing
 * a statement on tasks waits for a lock on it, so a connection must not wait behind a LOCK TABLE
 * or a migration for statements nobody asked for yet — least of all the health check's.
 *
 * When the password comes from VTT_DBPASSWORD_FILE and the server refused the connection after
 * asking for it, the file is read again, and a new password in it is tried at once (once): a
 * rotated secret is picked up on the next connect, without a restart (ADR 0020). Each failed
 * connect reads the file at most once, and failed connects are already spaced by the back-off.
 */
static bool conn_connect(struct pg_store *s, struct pg_conn *c, char *err, size_t errlen)
{
    unsigned gen;
    bool asked;

    c->prepared = 0;
    c->pg = connect_current(s, &gen, &asked, err, errlen);
    if (!c->pg && asked && s->password_file && password_reload(s, gen))
        c->pg = connect_current(s, &gen, &asked, err, errlen);
    if (c->pg)
        forget_list_snapshot(s);
    return c->pg != NULL;
}

/*
 * Whether c holds a connection not known to be dead. A connection the server closed while it sat
 * idle (restart, failover, idle timeout) has the server's farewell and EOF waiting on its
 * socket: reading them before sending anything means no statement, and above all no write, is
 * sent down a line already known to be dead.
 */
static bool conn_alive(struct pg_conn *c)
{
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    for (int i = 0; i < 4; i++) {
        struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(c->pg))
            return false;
        PGnotify *n;
        while ((n = PQnotifies(c->pg)))
            PQfreemem(n);
    }
    return PQstatus(c->pg) == CONNECTION_OK;
}

/*
 * Makes sure c is connected. While the database is down (the last attempt failed) only one
 * caller at a time tries, and not before retry_at; the others get STORE_UNAVAILABLE at once.
 */
static enum store_status conn_ready(struct pg_store *s, struct pg_conn *c)
{
    if (conn_alive(c))
        return STORE_OK;
    if (c->pg) {
        char msg[STORE_ERRMSG_MAX];
        masked_line(s, msg, sizeof msg, PQerrorMessage(c->pg));
        log_warn("PostgreSQL connection closed, reconnecting: %s", msg);
        conn_drop(c);
    }

    pthread_mutex_lock(&s->lock);
    if (s->down && (s->probing || !clock_passed(&s->retry_at))) {
        pthread_mutex_unlock(&s->lock);
        log_debug("PostgreSQL unavailable: waiting before the next connection attempt");
        return STORE_UNAVAILABLE;
    }
    bool probe = s->down;
    s->probing = s->probing || probe;
    pthread_mutex_unlock(&s->lock);

    char err[STORE_ERRMSG_MAX];
    bool connected = conn_connect(s, c, err, sizeof err);

    pthread_mutex_lock(&s->lock);
    bool was_down = s->down;
    if (probe)
        s->probing = false;
    if (connected) {
        s->down = false;
        s->backoff_ms = 0;
    } else {
        s->backoff_ms = s->down ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (s->backoff_ms < BACKOFF_MIN_MS)
            s->backoff_ms = BACKOFF_MIN_MS;
        if (s->backoff_ms > BACKOFF_MAX_MS)
            s->backoff_ms = BACKOFF_MAX_MS;
        s->down = true;
        s->retry_at = clock_deadline_ms(s->backoff_ms);
    }
    int backoff = s->backoff_ms;
    pthread_mutex_unlock(&s->lock);

    if (!connected) {
        log_error("%s (next attempt in %d ms)", err, backoff);
        return STORE_UNAVAILABLE;
    }
    if (was_down)
        log_info("connected to PostgreSQL at %s:%d again", s->target.host, s->target.port);
    return STORE_OK;
}

static struct pg_conn *pool_get(struct pg_store *s)
{
    struct timespec deadline = clock_deadline_ms(s->pool_timeout_ms);
    struct pg_conn *c = NULL;

    pthread_mutex_lock(&s->lock);
    s->waiting++;
    while (s->nidle == 0)
        if (pthread_cond_timedwait(&s->freed, &s->lock, &deadline) != 0 && s->nidle == 0)
            break;
    s->waiting--;
    if (s->nidle > 0)
        c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->lock);
    if (!c)
        log_warn("no PostgreSQL connection free within %d ms (DbPoolSize %d)", s->pool_timeout_ms,
                 s->nconns);
    return c;
}

static void pool_put(struct pg_store *s, struct pg_conn *c)
{
    pthread_mutex_lock(&s->lock);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

/*
 * A statement got no answer in time. The idle connections share its path to the server, so they
 * are most likely silent too: drop them, and mark the database down so that one caller at a time
 * probes it (conn_ready) while every other caller gets STORE_UNAVAILABLE at once instead of
 * waiting out its own deadline.
 */
static void pool_mark_unreachable(struct pg_store *s)
{
    pthread_mutex_lock(&s->lock);
    for (int k = 0; k < s->nidle; k++)
        conn_drop(s->idle[k]);
    s->down = true;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->retry_at = clock_deadline_ms(BACKOFF_MIN_MS);
    pthread_mutex_unlock(&s->lock);
}

/* Binary parameters of one statement; a NULL value is SQL NULL. */
struct pg_args {
    const char *values[4];
    int lengths[4];
    int formats[4];
    unsigned char int4[2][4];
    unsigned char boolean[2];
    store_sent_fn sent; /* called once, just before the statement is first sent */
    void *sent_arg;
};

static void args_int4(struct pg_args *a, int i, int slot, int32_t v)
{
    uint32_t u = (uint32_t)v;
    a->int4[slot][0] = (unsigned char)(u >> 24);
    a->int4[slot][1] = (unsigned char)(u >> 16);
    a->int4[slot][2] = (unsigned char)(u >> 8);
    a->int4[slot][3] = (unsigned char)u;
    a->values[i] = (const char *)a->int4[slot];
    a->lengths[i] = 4;
    a->formats[i] = 1;
}

static void args_bool(struct pg_args *a, int i, int slot, bool v)
{
    a->boolean[slot] = v;
    a->values[i] = (const char *)&a->boolean[slot];
    a->lengths[i] = 1;
    a->formats[i] = 1;
}

static void args_bytes(struct pg_args *a, int i, const char *s, size_t len)
{
    a->values[i] = s;
    a->lengths[i] = (int)len;
    a->formats[i] = 1;
}

static void put_u32(struct buf *b, uint32_t v)
{
    unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v};
    buf_append(b, be, 4);
}

/* A one-dimensional array without NULLs of n elements of type elem, in PostgreSQL's binary
 * format (array_recv): this header, then each element as its length and its bytes. */
static void array_begin(struct buf *b, Oid elem, size_t n)
{
    put_u32(b, 1); /* dimensions */
    put_u32(b, 0); /* no NULLs */
    put_u32(b, elem);
    put_u32(b, (uint32_t)n);
    put_u32(b, 1); /* lower bound */
}

static void array_add(struct buf *b, const void *data, size_t len)
{
    put_u32(b, (uint32_t)len);
    buf_append(b, data, len);
}

/* An int4[] of task ids (1..INT32_MAX: store.c passes no others). */
static void array_ids(struct buf *b, const int64_t *ids, size_t n)
{
    array_begin(b, OID_INT4, n);
    for (size_t k = 0; k < n; k++) {
        put_u32(b, 4);
        put_u32(b, (uint32_t)ids[k]);
    }
}

/* A NULL element; the array's header says it has NULLs. */
static void array_add_null(struct buf *b)
{
    memcpy(b->data + 4, "\0\0\0\1", 4); /* the has-NULLs flag, right after the dimensions */
    put_u32(b, 0xffffffffu);            /* length -1 */
}

/* Whether a result reports success; NULL (no result at all) does not. */
static bool result_ok(const PGresult *res)
{
    ExecStatusType rs = PQresultStatus(res);
    return rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK;
}

/*
 * Reads every result of what was just sent on c, up to the server's ReadyForQuery, waiting until
 * deadline at most. On time-out returns NULL with *timed_out set (the connection must be
 * dropped: a result may still arrive on it).
 *
 * Reading to the end is what makes a success mean "committed". A statement runs in an implicit
 * transaction that commits at the protocol's Sync, after the server has already produced the
 * rows and CommandComplete: a commit that then fails (a deferred constraint, a serialization
 * failure, the server killed mid-commit) arrives as an error, or as a broken connection, after a
 * result that looks successful. So the first result is returned only when every result was a
 * success and the connection is still good; otherwise the first failure is returned, or NULL
 * when the connection broke without one (PQresultStatus(NULL) is PGRES_FATAL_ERROR).
 */
static PGresult *await_results(struct pg_conn *c, const struct timespec *deadline, bool *timed_out)
{
    PGresult *first = NULL, *failure = NULL, *res;
    for (;;) {
        while (PQisBusy(c->pg)) {
            int left = clock_left_ms(deadline);
            if (left == 0) {
                PQclear(first);
                PQclear(failure);
                *timed_out = true;
                return NULL;
            }
            struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
            int rc = poll(&pfd, 1, left);
            if (rc < 0 && errno != EINTR)
                break;
            if (rc > 0 && !PQconsumeInput(c->pg))
                break; /* the connection broke: PQgetResult reports it */
        }
        if (!(res = PQgetResult(c->pg)))
            break;
        if (!first)
            first = res;
        else if (!failure && !result_ok(res))
            failure = res;
        else
            PQclear(res);
    }
    if (!failure && !result_ok(first))
        return first;
    if (!failure && PQstatus(c->pg) == CONNECTION_OK)
        return first;
    PQclear(first);
    return failure; /* NULL when the connection broke after a success without an error result */
}

/* Prepares statement i on c, if it is not yet: NULL when it is ready, else the failure (or NULL
 * with *timed_out set). A statement on tasks waits for a lock on the table to prepare. */
static PGresult *prepare_bounded(struct pg_conn *c, enum stmt i, const struct timespec *deadline,
                                 bool *timed_out)
{
    if (c->prepared & (1u << i))
        return NULL;
    if (!PQsendPrepare(c->pg, stmts[i].name, stmts[i].sql, stmts[i].nparams, stmts[i].types))
        return PQmakeEmptyPGresult(c->pg, PGRES_FATAL_ERROR);
    PGresult *res = await_results(c, deadline, timed_out);
    if (*timed_out)
        return NULL;
    if (!result_ok(res))
        return res ? res : PQmakeEmptyPGresult(c->pg, PGRES_FATAL_ERROR);
    PQclear(res);
    c->prepared |= 1u << i;
    return NULL;
}

/* PQexecPrepared with a deadline: the statement's result by await_results' rules. */
static PGresult *exec_bounded(struct pg_conn *c, enum stmt i, const struct pg_args *args,
                              const struct timespec *deadline, bool *timed_out)
{
    if (!PQsendQueryPrepared(c->pg, stmts[i].name, stmts[i].nparams, args->values, args->lengths,
                             args->formats, 1))
        return NULL;
    return await_results(c, deadline, timed_out);
}

/*
 * Runs statement i with args on a pooled connection. On STORE_OK *out is the result (the caller
 * clears it) and the connection is already back in the pool. Reads (retry_read) whose connection
 * turns out dead run once more on a fresh one; writes never do (see the top of the file).
 */
static enum store_status run(struct pg_store *s, enum stmt i, const struct pg_args *args,
                             bool retry_read, PGresult **out)
{
    static const struct pg_args no_args;
    enum store_status st = STORE_UNAVAILABLE;
    struct pg_conn *c = pool_get(s);

    *out = NULL;
    if (!c)
        return STORE_UNAVAILABLE;
    if (!args)
        args = &no_args;
    for (int attempt = 0; attempt < 2; attempt++) {
        st = conn_ready(s, c);
        if (st != STORE_OK)
            break;
        int deadline_ms = i == STMT_PING ? s->ping_deadline_ms : s->answer_deadline_ms;
        struct timespec deadline = clock_deadline_ms(deadline_ms);
        bool timed_out = false;
        PGresult *res = prepare_bounded(c, i, &deadline, &timed_out);
        if (!res && !timed_out) {
            if (args->sent && attempt == 0)
                args->sent(args->sent_arg);
            res = exec_bounded(c, i, args, &deadline, &timed_out);
        }
        if (timed_out) {
            log_error("no answer from PostgreSQL at %s:%d within %d ms during %s: connection "
                      "dropped, the database is treated as unreachable",
                      s->target.host, s->target.port, deadline_ms, stmts[i].name);
            PQclear(res); /* NULL by the contracts above; cleared all the same */
            conn_drop(c);
            pool_mark_unreachable(s);
            st = STORE_UNAVAILABLE;
            break;
        }
        if (result_ok(res)) {
            *out = res;
            break;
        }

        char msg[STORE_ERRMSG_MAX];
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool lost = pg_failure_is_lost(c->pg, res);
        pthread_mutex_lock(&s->secret_lock);
        pg_result_message(msg, sizeof msg, c->pg, res, s->target.password);
        pthread_mutex_unlock(&s->secret_lock);
        if (lost && retry_read && attempt == 0) {
            log_warn("PostgreSQL connection lost during %s, retrying once: %s", stmts[i].name, msg);
            PQclear(res);
            conn_drop(c);
            continue;
        }
        if (lost) {
            log_error("PostgreSQL connection lost during %s: %s", stmts[i].name, msg);
            st = STORE_UNAVAILABLE;
            conn_drop(c);
        } else if (pg_failure_is_transient(res)) {
            log_warn("PostgreSQL %s failed (SQLSTATE %s): %s", stmts[i].name, state, msg);
            st = STORE_UNAVAILABLE;
        } else {
            log_error("PostgreSQL %s failed (SQLSTATE %s): %s", stmts[i].name,
                      state ? state : "none", msg);
            st = STORE_ERROR;
        }
        PQclear(res);
        break;
    }
    pool_put(s, c);
    return st;
}

/* ---- rows ---- */

/* A big-endian integer column of 2, 4 or 8 bytes (the original's SERIAL is 4). */
static int64_t get_int(const PGresult *res, int row, int col)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
    int len = PQgetlength(res, row, col);
    uint64_t u = 0;
    for (int k = 0; k < len; k++)
        u = u << 8 | p[k];
    if (len > 0 && len < 8 && (p[0] & 0x80))
        u |= ~(uint64_t)0 << (8 * len); /* sign-extend */
    return (int64_t)u;
}

/* Row row of res (id, completed, priority, title from column col on) as a task; the title
 * stays in res. */
static struct task row_task_at(const PGresult *res, int row, int col)
{
    return (struct task){
        .id = get_int(res, row, col),
        .complete = PQgetlength(res, row, col + 1) == 1 && PQgetvalue(res, row, col + 1)[0] != 0,
        .priority = (int32_t)get_int(res, row, col + 2),
        .title = PQgetvalue(res, row, col + 3),
        .title_len = (size_t)PQgetlength(res, row, col + 3),
    };
}

static struct task row_task(const PGresult *res, int row)
{
    return row_task_at(res, row, 0);
}

/* Visits the rows of res; returns how many there were. */
static int visit_rows(const PGresult *res, task_visit_fn visit, void *ctx)
{
    int n = PQntuples(res);
    for (int row = 0; row < n; row++) {
        struct task t = row_task(res, row);
        if (visit(&t, ctx) != 0)
            break;
    }
    return n;
}

/* Runs a statement that returns rows and visits them; no row is STORE_NOT_FOUND when
 * missing_is_not_found. */
static enum store_status run_rows(struct store *store, enum stmt i, const struct pg_args *args,
                                  bool retry_read, bool missing_is_not_found, task_visit_fn visit,
                                  void *ctx)
{
    PGresult *res;
    enum store_status st = run((struct pg_store *)store, i, args, retry_read, &res);
    if (st != STORE_OK)
        return st;
    if (PQntuples(res) == 0 && missing_is_not_found)
        st = STORE_NOT_FOUND;
    else
        visit_rows(res, visit, ctx);
    PQclear(res);
    return st;
}

/* ---- the backend ---- */

static enum store_status pg_ping(struct store *store)
{
    PGresult *res;
    enum store_status st = run((struct pg_store *)store, STMT_PING, NULL, true, &res);
    PQclear(res);
    return st;
}

static enum store_status pg_task_list(struct store *store, store_sent_fn sent, void *arg,
                                      task_visit_fn visit, void *ctx)
{
    struct pg_args a = {.sent = sent, .sent_arg = arg};
    return run_rows(store, STMT_LIST, &a, true, false, visit, ctx);
}

/* The version for a list read at snapshot snap: the same as the last read's if the snapshot is
 * the same (the same snapshot sees the same rows), else a new one. */
static uint64_t snap_version(struct pg_store *s, const char *snap)
{
    pthread_mutex_lock(&s->snap_lock);
    if (!s->snap || strcmp(s->snap, snap) != 0) {
        free(s->snap);
        s->snap = xstrdup(snap);
        s->snap_version = ++s->versions;
    }
    uint64_t version = s->snap_version;
    pthread_mutex_unlock(&s->snap_lock);
    return version;
}

/*
 * One statement: its snapshot, and the tasks unless that snapshot is the last one read, and its
 * version is known (the store remembers one snapshot: its reads are one sequence).
 * Two equal snapshots (xmin, xmax and the transactions in progress) see the same committed
 * transactions, so the same rows, in any table, whichever instance wrote them; a write that
 * was acknowledged committed before, so a snapshot taken after it differs from any taken before.
 */
static enum store_status pg_task_list_if_changed(struct store *store, const uint64_t *known,
                                                 size_t nknown, uint64_t *version,
                                                 store_sent_fn sent, void *arg, task_visit_fn visit,
                                                 void *ctx)
{
    struct pg_store *s = (struct pg_store *)store;
    struct pg_args a = {.sent = sent, .sent_arg = arg};
    char *known_snap = NULL;
    uint64_t known_version = 0;
    pthread_mutex_lock(&s->snap_lock);
    if (s->snap && store_version_known(known, nknown, s->snap_version)) {
        known_snap = xstrdup(s->snap);
        known_version = s->snap_version;
    }
    pthread_mutex_unlock(&s->snap_lock);
    if (known_snap)
        args_bytes(&a, 0, known_snap, strlen(known_snap));
    /* else $1 is NULL, which no snapshot is: the tasks come back */

    PGresult *res;
    enum store_status st = run(s, STMT_LIST_IF_CHANGED, &a, true, &res);
    if (st == STORE_OK && (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))) {
        log_error("PostgreSQL %s returned no snapshot", stmts[STMT_LIST_IF_CHANGED].name);
        st = STORE_ERROR;
    }
    if (st == STORE_OK) {
        const char *snap = PQgetvalue(res, 0, 0);
        if (known_snap && strcmp(snap, known_snap) == 0) {
            *version = known_version; /* unchanged: the row of NULLs, nothing to visit */
        } else {
            *version = snap_version(s, snap);
            int n = PQntuples(res);
            for (int row = 0; row < n && !PQgetisnull(res, row, 1); row++) {
                struct task t = row_task_at(res, row, 1);
                if (visit(&t, ctx) != 0)
                    break;
            }
        }
    }
    PQclear(res);
    free(known_snap);
    return st;
}

static enum store_status pg_task_get(struct store *store, int64_t id, task_visit_fn visit,
                                     void *ctx)
{
    struct pg_args a = {0};
    args_int4(&a, 0, 0, (int32_t)id);
    return run_rows(store, STMT_GET, &a, true, true, visit, ctx);
}

static enum store_status pg_task_get_many(struct store *store, const int64_t *ids, size_t n,
                                          task_visit_fn visit, void *ctx)
{
    struct buf array = BUF_INIT;
    array_ids(&array, ids, n);
    struct pg_args a = {0};
    args_bytes(&a, 0, array.data, array.len);
    enum store_status st = run_rows(store, STMT_GET_MANY, &a, true, false, visit, ctx);
    buf_release(&array);
    return st;
}

static enum store_status pg_task_create(struct store *store, const struct task *in,
                                        task_visit_fn visit, void *ctx)
{
    struct pg_args a = {0};
    args_bool(&a, 0, 0, in->complete);
    args_int4(&a, 1, 0, in->priority);
    args_bytes(&a, 2, in->title, in->title_len);
    return run_rows(store, STMT_INSERT, &a, false, false, visit, ctx);
}

struct row_id {
    int64_t id;
    int row;
};

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const struct row_id *)a)->id, y = ((const struct row_id *)b)->id;
    return (x > y) - (x < y);
}

/* One INSERT of three arrays. Ids are drawn in insertion order, which is the order of the
 * arrays, so the k-th smallest id returned is the k-th task of in, whatever order RETURNING
 * gives the rows in. */
static enum store_status pg_task_create_many(struct store *store, const struct task *in, size_t n,
                                             task_visit_fn visit, void *ctx)
{
    struct buf completed = BUF_INIT, priority = BUF_INIT, title = BUF_INIT;
    array_begin(&completed, OID_BOOL, n);
    array_begin(&priority, OID_INT4, n);
    array_begin(&title, OID_TEXT, n);
    for (size_t k = 0; k < n; k++) {
        unsigned char b = in[k].complete;
        array_add(&completed, &b, 1);
        put_u32(&priority, 4);
        put_u32(&priority, (uint32_t)in[k].priority);
        array_add(&title, in[k].title, in[k].title_len);
    }
    struct pg_args a = {0};
    args_bytes(&a, 0, completed.data, completed.len);
    args_bytes(&a, 1, priority.data, priority.len);
    args_bytes(&a, 2, title.data, title.len);

    PGresult *res;
    enum store_status st = run((struct pg_store *)store, STMT_INSERT_MANY, &a, false, &res);
    buf_release(&completed);
    buf_release(&priority);
    buf_release(&title);
    if (st != STORE_OK)
        return st;
    int rows = PQntuples(res);
    if ((size_t)rows != n) {
        /* Only a trigger of the operator's that skips rows could do this. Which tasks went in is
         * unknown, so none may be tried again: unavailable, not refused. */
        log_error("PostgreSQL tca_insert_many stored %d rows for %zu tasks", rows, n);
        PQclear(res);
        return STORE_UNAVAILABLE;
    }
    struct row_id *order = xcalloc(n, sizeof *order);
    for (int row = 0; row < rows; row++)
        order[row] = (struct row_id){get_int(res, row, 0), row};
    qsort(order, n, sizeof *order, by_id);
    for (size_t k = 0; k < n && visit; k++) {
        struct task t = row_task(res, order[k].row);
        visit(&t, ctx);
    }
    free(order);
    PQclear(res);
    return STORE_OK;
}

static enum store_status pg_task_update(struct store *store, int64_t id,
                                        const struct task_patch *patch, task_visit_fn visit,
                                        void *ctx)
{
    struct pg_args a = {0};
    args_int4(&a, 0, 0, (int32_t)id);
    if (patch->has_title)
        args_bytes(&a, 1, patch->value.title, patch->value.title_len);
    if (patch->has_priority)
        args_int4(&a, 2, 1, patch->value.priority);
    if (patch->has_complete)
        args_bool(&a, 3, 0, patch->value.complete);
    return run_rows(store, STMT_UPDATE, &a, false, true, visit, ctx);
}

/* One UPDATE of four arrays (ids distinct, store.h). */
static enum store_status pg_task_update_many(struct store *store, const int64_t *ids,
                                             const struct task_patch *patches, size_t n,
                                             task_visit_fn visit, void *ctx)
{
    struct buf id = BUF_INIT, title = BUF_INIT, priority = BUF_INIT, completed = BUF_INIT;
    array_ids(&id, ids, n);
    array_begin(&title, OID_TEXT, n);
    array_begin(&priority, OID_INT4, n);
    array_begin(&completed, OID_BOOL, n);
    for (size_t k = 0; k < n; k++) {
        const struct task_patch *p = &patches[k];
        if (p->has_title)
            array_add(&title, p->value.title, p->value.title_len);
        else
            array_add_null(&title);
        if (p->has_priority) {
            put_u32(&priority, 4);
            put_u32(&priority, (uint32_t)p->value.priority);
        } else {
            array_add_null(&priority);
        }
        unsigned char b = p->value.complete;
        if (p->has_complete)
            array_add(&completed, &b, 1);
        else
            array_add_null(&completed);
    }
    struct pg_args a = {0};
    args_bytes(&a, 0, id.data, id.len);
    args_bytes(&a, 1, title.data, title.len);
    args_bytes(&a, 2, priority.data, priority.len);
    args_bytes(&a, 3, completed.data, completed.len);
    enum store_status st = run_rows(store, STMT_UPDATE_MANY, &a, false, false, visit, ctx);
    buf_release(&id);
    buf_release(&title);
    buf_release(&priority);
    buf_release(&completed);
    return st;
}

static enum store_status pg_task_delete_many(struct store *store, const int64_t *ids, size_t n,
                                             task_visit_fn visit, void *ctx)
{
    struct buf array = BUF_INIT;
    array_ids(&array, ids, n);
    struct pg_args a = {0};
    args_bytes(&a, 0, array.data, array.len);
    PGresult *res;
    enum store_status st = run((struct pg_store *)store, STMT_DELETE_MANY, &a, false, &res);
    buf_release(&array);
    if (st != STORE_OK)
        return st;
    for (int row = 0; row < PQntuples(res) && visit; row++)
        visit(&(struct task){.id = get_int(res, row, 0), .title = ""}, ctx);
    PQclear(res);
    return STORE_OK;
}

static enum store_status pg_task_delete(struct store *store, int64_t id)
{
    struct pg_args a = {0};
    PGresult *res;
    args_int4(&a, 0, 0, (int32_t)id);
    enum store_status st = run((struct pg_store *)store, STMT_DELETE, &a, false, &res);
    if (st == STORE_OK && strcmp(PQcmdTuples(res), "0") == 0)
        st = STORE_NOT_FOUND;
    PQclear(res);
    return st;
}

static void pg_stats(struct store *store, struct store_stats *out)
{
    struct pg_store *s = (struct pg_store *)store;
    pthread_mutex_lock(&s->lock);
    out->pool_size = s->nconns;
    /* Slots fill_pool has not reached yet are being connected: unconnected, not in use. */
    out->in_use = s->filled - s->nidle;
    out->unconnected = s->nconns - s->filled;
    for (int k = 0; k < s->nidle; k++) {
        /* A free connection the server has closed (its farewell is waiting on the socket) is
         * dropped now rather than counted as idle: during an outage the gauge shows the pool
         * as it is, not as it was. */
        struct pg_conn *c = s->idle[k];
        if (c->pg && !conn_alive(c))
            conn_drop(c);
        out->unconnected += c->pg == NULL;
    }
    out->waiting = s->waiting;
    pthread_mutex_unlock(&s->lock);
}

/*
 * Connects the pool's connections one after the other, putting each in the pool as soon as it
 * is connected. pg_open starts this in a thread of its own and returns: each connect is a
 * backend start and an authentication (about 30 ms with SCRAM here: eight of them added 0.25 s
 * to start-up, and eight at once still kept the first 200 waiting 0.12 s while they shared the
 * CPUs), and the first request needs only the first of them. A caller finds no idle connection
 * until one is in and waits for it as for any busy pool (DbPoolTimeout). If a connect fails,
 * the database is marked down and the remaining slots enter the pool unconnected: the next
 * caller probes behind the back-off (conn_ready), so a dead or silent database is known once,
 * not found again by each caller (tests/reliability/faults_pg.t).
 */
static void *fill_pool(void *arg)
{
    struct pg_store *s = arg;
    for (int i = 0; i < s->nconns; i++) {
        char msg[STORE_ERRMSG_MAX];
        bool connected = conn_connect(s, &s->conns[i], msg, sizeof msg);
        pthread_mutex_lock(&s->lock);
        if (!connected) {
            s->down = true;
            s->retry_at = clock_deadline_ms(0);
            while (i < s->nconns)
                s->idle[s->nidle++] = &s->conns[i++];
            s->filled = s->nconns;
        } else {
            s->idle[s->nidle++] = &s->conns[i];
            s->filled = i + 1;
        }
        pthread_cond_broadcast(&s->freed);
        pthread_mutex_unlock(&s->lock);
        if (!connected)
            log_warn("%s (will retry when needed)", msg);
    }
    return NULL;
}

static void pg_free(struct store *store)
{
    struct pg_store *s = (struct pg_store *)store;
    if (s->filling)
        pthread_join(s->filler, NULL);
    for (int i = 0; i < s->nconns; i++)
        conn_drop(&s->conns[i]);
    free(s->conns);
    free(s->idle);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
    pg_target_release(&s->target);
    pthread_mutex_destroy(&s->secret_lock);
    pthread_mutex_destroy(&s->snap_lock);
    free(s->snap);
    free(s->password_file);
    free(s);
}

static enum store_status pg_open(const struct config *cfg, struct store **out, char *err,
                                 size_t errlen)
{
    /* DbSslMode needs no check here: config.c accepts only libpq's six modes. */
    if (cfg->db_pool_size < 1) {
        errbuf_set(err, errlen, "invalid DbPoolSize %d: must be at least 1", cfg->db_pool_size);
        return STORE_ERROR;
    }

    struct pg_store *s = xcalloc(1, sizeof *s);
    s->base.backend = &store_pg_backend;
    pg_target_init(&s->target, cfg);
    snprintf(s->options, sizeof s->options, "-c statement_timeout=%d", cfg->db_statement_timeout);
    s->password_file = cfg->db_password_file ? xstrdup(cfg->db_password_file) : NULL;
    pthread_mutex_init(&s->secret_lock, NULL);
    pthread_mutex_init(&s->snap_lock, NULL);
    s->pool_timeout_ms = cfg->db_pool_timeout > 0 ? cfg->db_pool_timeout : 0;
    s->answer_deadline_ms = cfg->db_statement_timeout + ANSWER_GRACE_MS;
    s->ping_deadline_ms =
        s->answer_deadline_ms < PING_DEADLINE_MS ? s->answer_deadline_ms : PING_DEADLINE_MS;

    clock_cond_init(&s->freed);
    pthread_mutex_init(&s->lock, NULL);

    s->nconns = cfg->db_pool_size;
    s->conns = xcalloc((size_t)s->nconns, sizeof *s->conns);
    s->idle = xcalloc((size_t)s->nconns, sizeof(struct pg_conn *));
    s->filling = pthread_create(&s->filler, NULL, fill_pool, s) == 0;
    if (!s->filling)
        fill_pool(s);
    *out = &s->base;
    return STORE_OK;
}

const struct store_backend store_pg_backend = {
    .name = "postgres",
    .open = pg_open,
    .free = pg_free,
    .ping = pg_ping,
    .task_list = pg_task_list,
    .task_list_if_changed = pg_task_list_if_changed,
    .task_get = pg_task_get,
    .task_get_many = pg_task_get_many,
    .task_create = pg_task_create,
    .task_create_many = pg_task_create_many,
    .task_update_many = pg_task_update_many,
    .task_delete_many = pg_task_delete_many,
    .task_update = pg_task_update,
    .task_delete = pg_task_delete,
    .updatedb = pg_updatedb,
    .migrate = pg_migrate,
    .stats = pg_stats,
};
