/*
 * test_store_pg.c — the PostgreSQL backend against a real server: tasks, schema commands,
 * connect failures, pool exhaustion, statement timeout and recovery after a crash.
 *
 * The server comes from the TCA_TEST_DB* variables (tests/lib/pg.sh). Run without them (as
 * `make check` does), the test starts its own throwaway cluster through tests/lib/with-pg.sh.
 * The crash test runs the TCA_TEST_PG_CRASH / TCA_TEST_PG_RESUME commands the harness exports.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "log.h"
#include "store/store.h"
#include "tap.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define WRONG_PASSWORD "Wr0ng-s3cret-pw"

static const char *const seed_titles[3] = {"1st Task", "2nd Task", "3rd Task"};

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static struct config test_config(const char *dbname)
{
    struct config c = {0};
    c.db_type = DB_POSTGRES;
    c.db_type_name = "postgres";
    c.db_host = (char *)env("TCA_TEST_DBHOST");
    c.db_port = atoi(env("TCA_TEST_DBPORT"));
    c.db_user = (char *)env("TCA_TEST_DBUSER");
    c.db_password = (char *)env("TCA_TEST_DBPASSWORD");
    c.db_name = (char *)dbname;
    c.db_sslmode = "prefer";
    c.db_sslrootcert = "";
    c.db_pool_size = 4;
    c.db_connect_timeout = 2;
    c.db_statement_timeout = 2000;
    c.db_pool_timeout = 500;
    return c;
}

/* Prints text (lines) as TAP comments. */
static void diag_lines(const char *text)
{
    for (const char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        printf("#   %.*s\n", end ? (int)(end - line) : (int)strlen(line), line);
    }
}

/* Where the schema commands print when the test does not look at it. */
static FILE *quiet(void)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    return devnull;
}

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- a superuser connection of our own, for setting things up ---- */

static PGconn *admin_connect(const char *dbname)
{
    const char *keys[] = {"host", "port", "user", "password", "dbname", NULL};
    const char *values[] = {env("TCA_TEST_DBHOST"),
                            env("TCA_TEST_DBPORT"),
                            env("TCA_TEST_DBUSER"),
                            env("TCA_TEST_DBPASSWORD"),
                            dbname,
                            NULL};
    PGconn *pg = PQconnectdbParams(keys, values, 0);
    if (PQstatus(pg) != CONNECTION_OK)
        printf("# admin connection to %s failed: %s", dbname, PQerrorMessage(pg));
    PQsetNoticeProcessor(pg, no_notices, NULL);
    return pg;
}

static bool admin_exec(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType rs = PQresultStatus(res);
    bool good = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;
    if (!good)
        printf("# %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    return good;
}

/* The first column of the first row of a query, as a number (-1 on error). */
static long admin_number(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    long n = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        n = atol(PQgetvalue(res, 0, 0));
    else
        printf("# %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    return n;
}

/* ---- collecting visited tasks ---- */

struct collected {
    int n;
    struct {
        int64_t id;
        int32_t priority;
        bool complete;
        char *title;
        size_t title_len;
    } t[64];
};

static int collect(const struct task *task, void *ctx)
{
    struct collected *c = ctx;
    if (c->n >= 64)
        return 1;
    c->t[c->n].id = task->id;
    c->t[c->n].priority = task->priority;
    c->t[c->n].complete = task->complete;
    c->t[c->n].title = xmalloc(task->title_len + 1);
    memcpy(c->t[c->n].title, task->title, task->title_len + 1);
    c->t[c->n].title_len = task->title_len;
    c->n++;
    return 0;
}

static int ignore(const struct task *task, void *ctx)
{
    (void)task;
    (void)ctx;
    return 0;
}

static void collected_reset(struct collected *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->t[i].title);
    c->n = 0;
}

static int list_count(struct store *s)
{
    struct collected c = {0};
    enum store_status st = store_task_list(s, collect, &c);
    int n = c.n;
    collected_reset(&c);
    return st == STORE_OK ? n : -1;
}

static int64_t create(struct store *s, const char *title, int32_t priority, bool complete)
{
    struct task in = {0, priority, complete, title, strlen(title)};
    struct collected c = {0};
    enum store_status st = store_task_create(s, &in, collect, &c);
    int64_t id = st == STORE_OK && c.n == 1 ? c.t[0].id : -1;
    collected_reset(&c);
    return id;
}

/* ---- capturing the log (stderr) ---- */

static int saved_stderr = -1;
static FILE *capture_file;

static void capture_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    saved_stderr = dup(STDERR_FILENO);
    dup2(fileno(capture_file), STDERR_FILENO);
}

/* Stops capturing without echoing (for logs too long to show); caller frees. */
static char *capture_end_quiet(void)
{
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    rewind(capture_file);
    while ((n = fread(chunk, 1, sizeof chunk, capture_file)) > 0)
        buf_append(&b, chunk, n);
    fclose(capture_file);
    buf_putc(&b, '\0');
    return buf_detach(&b, NULL);
}

/* Stops capturing; returns what was logged (caller frees) and echoes it as TAP comments. */
static char *capture_end(void)
{
    char *log = capture_end_quiet();
    diag_lines(log);
    return log;
}

/* ---- the tests ---- */

static void test_updatedb(void)
{
    const char *name = "my-db\"x";
    struct config cfg = test_config(name);
    char err[STORE_ERRMSG_MAX] = "";
    char *out_text = NULL;
    size_t out_len = 0;
    FILE *out = open_memstream(&out_text, &out_len);

    enum store_status st = store_updatedb(&cfg, false, out, err, sizeof err);
    fclose(out);
    is_int(st, STORE_OK, "updatedb creates a database whose name needs quoting");
    if (st != STORE_OK)
        printf("# %s\n", err);
    is_str(out_text,
           "Dropping and recreating database: my-db\"x\n"
           "Dropping and recreating table: tasks\n"
           "Seeding table with data\n",
           "updatedb prints each step");
    free(out_text);

    struct store *s = NULL;
    is_int(store_open(&cfg, &s, err, sizeof err), STORE_OK, "store opens on the new database");
    is_str(store_backend_name(s), "postgres", "backend is postgres");
    struct collected c = {0};
    is_int(store_task_list(s, collect, &c), STORE_OK, "list the seeded tasks");
    is_int(c.n, 3, "three tasks seeded");
    for (int i = 0; i < c.n && i < 3; i++) {
        char name_buf[64];
        snprintf(name_buf, sizeof name_buf, "seed %d is '%s', priority 0, not complete", i + 1,
                 seed_titles[i]);
        ok(c.t[i].id == i + 1 && strcmp(c.t[i].title, seed_titles[i]) == 0 &&
               c.t[i].priority == 0 && !c.t[i].complete,
           name_buf);
    }
    collected_reset(&c);

    /* The database is in use: a second updatedb cannot drop it, and says so in one line. */
    st = store_updatedb(&cfg, false, quiet(), err, sizeof err);
    is_int(st, STORE_ERROR, "updatedb of a database in use fails");
    ok(strstr(err, "cannot drop database 'my-db\"x': ") == err && !strchr(err, '\n'),
       "the message names the database, on one line");
    printf("# %s\n", err);

    /* updatedb -s: tables only, data wiped, ids start again. */
    ok(create(s, "extra", 1, false) == 4, "a fourth task is created");
    out = open_memstream(&out_text, &out_len);
    st = store_updatedb(&cfg, true, out, err, sizeof err);
    fclose(out);
    is_int(st, STORE_OK, "updatedb -s succeeds while the store is open");
    is_str(out_text, "Dropping and recreating table: tasks\nSeeding table with data\n",
           "updatedb -s does not touch the database");
    free(out_text);
    store_task_list(s, collect, &c);
    ok(c.n == 3 && c.t[2].id == 3, "updatedb -s leaves exactly the three seeded tasks");
    collected_reset(&c);
    store_free(s);

    /* The default DbName "postgres" is recreated through template1. */
    cfg = test_config("postgres");
    st = store_updatedb(&cfg, false, quiet(), err, sizeof err);
    is_int(st, STORE_OK, "updatedb recreates the database named postgres");
    if (st != STORE_OK)
        printf("# %s\n", err);
}

static int stop_after_two(const struct task *task, void *ctx)
{
    int *calls = ctx;
    (void)task;
    return ++*calls == 2;
}

static void test_tasks(void)
{
    struct config cfg = test_config("my-db\"x");
    char err[STORE_ERRMSG_MAX];
    struct store *s = NULL;
    struct collected c = {0};

    is_int(store_updatedb(&cfg, true, quiet(), err, sizeof err), STORE_OK, "updatedb -s");
    is_int(store_open(&cfg, &s, err, sizeof err), STORE_OK, "store opens");

    struct task in = {0, 5, true, "five", 4};
    is_int(store_task_create(s, &in, collect, &c), STORE_OK, "create");
    ok(c.n == 1 && c.t[0].id == 4 && c.t[0].priority == 5 && c.t[0].complete &&
           strcmp(c.t[0].title, "five") == 0,
       "create visits the new row with its id");
    collected_reset(&c);

    is_int(store_task_get(s, 4, collect, &c), STORE_OK, "get");
    ok(c.n == 1 && c.t[0].id == 4 && strcmp(c.t[0].title, "five") == 0, "get visits the row");
    collected_reset(&c);
    is_int(store_task_get(s, 999, collect, &c), STORE_NOT_FOUND, "get of a missing id");
    is_int(c.n, 0, "nothing visited");

    struct task_patch patch = {.has_title = true, .value = {.title = "FIVE", .title_len = 4}};
    is_int(store_task_update(s, 4, &patch, collect, &c), STORE_OK, "update title only");
    ok(c.n == 1 && strcmp(c.t[0].title, "FIVE") == 0 && c.t[0].priority == 5 && c.t[0].complete,
       "only the title changed");
    collected_reset(&c);
    patch =
        (struct task_patch){.has_priority = true, .has_complete = true, .value = {.priority = -3}};
    is_int(store_task_update(s, 4, &patch, collect, &c), STORE_OK, "update priority and complete");
    ok(c.n == 1 && strcmp(c.t[0].title, "FIVE") == 0 && c.t[0].priority == -3 && !c.t[0].complete,
       "priority and complete changed, title kept");
    collected_reset(&c);
    is_int(store_task_update(s, 999, &patch, collect, &c), STORE_NOT_FOUND, "update missing id");

    create(s, "p2", 2, false);
    create(s, "p1", 1, false);
    store_task_list(s, collect, &c);
    bool ordered = c.n == 6;
    for (int i = 1; i < c.n; i++)
        ordered =
            ordered && (c.t[i - 1].priority < c.t[i].priority ||
                        (c.t[i - 1].priority == c.t[i].priority && c.t[i - 1].id < c.t[i].id));
    ok(ordered, "list is ordered by priority, then id");
    ok(c.n == 6 && c.t[0].id == 4 && strcmp(c.t[5].title, "p2") == 0, "list order as expected");
    collected_reset(&c);

    is_int(store_task_delete(s, 4), STORE_OK, "delete");
    is_int(store_task_delete(s, 4), STORE_NOT_FOUND, "delete again is not found");
    is_int(store_task_get(s, 4, collect, &c), STORE_NOT_FOUND, "deleted task is gone");
    is_int(store_task_delete(s, INT64_C(1) << 40), STORE_NOT_FOUND, "huge id is not found");

    /* Titles that try to be SQL, or format strings, are stored and returned byte for byte. */
    static const char *const nasty[] = {
        "'); DROP TABLE tasks; --",
        "Robert'); DELETE FROM tasks WHERE ('1'='1",
        "\\'; SELECT pg_sleep(10); --",
        "$1 $2 %s %n %d \"quoted\" \\x00 \\\\",
        "E'\\x41' || chr(65)",
        "unicode: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
        "  leading and trailing spaces  ",
        "",
    };
    int stored = 0;
    for (size_t i = 0; i < ARRAY_SIZE(nasty); i++) {
        int64_t id = create(s, nasty[i], 0, false);
        if (id > 0 && store_task_get(s, id, collect, &c) == STORE_OK && c.n == 1 &&
            c.t[0].title_len == strlen(nasty[i]) &&
            memcmp(c.t[0].title, nasty[i], c.t[0].title_len) == 0)
            stored++;
        else
            printf("# title not stored verbatim: %s\n", nasty[i]);
        collected_reset(&c);
    }
    is_int(stored, (int)ARRAY_SIZE(nasty), "SQL-like titles stored verbatim");

    char *big = xmalloc(100001);
    for (int i = 0; i < 100000; i++)
        big[i] = (char)('a' + i % 26);
    big[100000] = '\0';
    int64_t id = create(s, big, 0, false);
    store_task_get(s, id, collect, &c);
    ok(c.n == 1 && c.t[0].title_len == 100000 && memcmp(c.t[0].title, big, 100000) == 0,
       "a 100000-byte title round-trips");
    collected_reset(&c);
    free(big);
    is_int(list_count(s), 5 + (int)ARRAY_SIZE(nasty) + 1,
           "table intact after the injection attempts");

    /* A visitor that stops early stops the walk. */
    int calls = 0;
    is_int(store_task_list(s, stop_after_two, &calls), STORE_OK, "list with a visitor that stops");
    is_int(calls, 2, "the walk stops when the visitor says so");
    is_int(store_ping(s), STORE_OK, "ping");
    store_free(s);
}

static void test_migrate(void)
{
    char err[STORE_ERRMSG_MAX] = "";
    char *out_text = NULL;
    size_t out_len = 0;
    struct config cfg = test_config("tca_test");

    FILE *out = open_memstream(&out_text, &out_len);
    enum store_status st = store_migrate(&cfg, out, err, sizeof err);
    fclose(out);
    is_int(st, STORE_OK, "migrate on an empty database");
    ok(out_text && strstr(out_text, "Creating table: tasks\n") &&
           strstr(out_text, "Creating index: tasks_priority_id_idx"),
       "migrate says it creates the table and the index");
    diag_lines(out_text);
    free(out_text);

    struct store *s = NULL;
    store_open(&cfg, &s, err, sizeof err);
    is_int(list_count(s), 0, "the new table is empty");
    create(s, "kept", 0, false);

    out = open_memstream(&out_text, &out_len);
    st = store_migrate(&cfg, out, err, sizeof err);
    fclose(out);
    is_int(st, STORE_OK, "migrate again");
    ok(out_text && strstr(out_text, "Table tasks exists") &&
           strstr(out_text, "Index tasks_priority_id_idx exists"),
       "the second migrate finds everything in place");
    free(out_text);
    is_int(list_count(s), 1, "migrate keeps the data");
    store_free(s);

    /* A table made by the Go original (no index), with its data. */
    PGconn *admin = admin_connect("postgres");
    admin_exec(admin, "DROP DATABASE IF EXISTS go_original");
    admin_exec(admin, "CREATE DATABASE go_original");
    PQfinish(admin);
    admin = admin_connect("go_original");
    admin_exec(admin, "CREATE TABLE tasks (id SERIAL PRIMARY KEY, completed boolean NOT NULL, "
                      "priority integer NOT NULL, title text NOT NULL)");
    admin_exec(admin, "INSERT INTO tasks (completed, priority, title) VALUES (false, 0, '1st "
                      "Task'), (true, 2, 'old'), (false, 1, 'older')");
    cfg = test_config("go_original");
    st = store_migrate(&cfg, quiet(), err, sizeof err);
    is_int(st, STORE_OK, "migrate on the original's table");
    is_int(admin_number(admin, "SELECT count(*) FROM pg_indexes WHERE indexname = "
                               "'tasks_priority_id_idx'"),
           1, "the index was added");
    PQfinish(admin);
    store_open(&cfg, &s, err, sizeof err);
    struct collected c = {0};
    store_task_list(s, collect, &c);
    ok(c.n == 3 && strcmp(c.t[1].title, "older") == 0 && strcmp(c.t[2].title, "old") == 0 &&
           c.t[2].complete,
       "the original's rows are all there and read right");
    collected_reset(&c);
    ok(create(s, "new", 0, false) == 4, "new rows continue the original's sequence");
    store_free(s);

    /* A table that is not ours is not touched, and the message says why. */
    admin = admin_connect("go_original");
    admin_exec(admin, "DROP TABLE tasks");
    admin_exec(admin, "CREATE TABLE tasks (name text)");
    PQfinish(admin);
    st = store_migrate(&cfg, quiet(), err, sizeof err);
    is_int(st, STORE_ERROR, "migrate refuses a tasks table with other columns");
    printf("# %s\n", err);
}

/* A port nothing listens on: bound then closed at once. */
static int dead_port(void)
{
    FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                    "print(s.getsockname()[1])'",
                    "r");
    int port = 0;
    if (p && fscanf(p, "%d", &port) != 1)
        port = 0;
    if (p)
        pclose(p);
    return port;
}

static void test_connect_failures(void)
{
    char err[STORE_ERRMSG_MAX] = "";
    char prefix[128];
    struct config cfg = test_config("tca_test");
    cfg.db_password = WRONG_PASSWORD;
    snprintf(prefix, sizeof prefix,
             "cannot connect to PostgreSQL at %s:%s: ", env("TCA_TEST_DBHOST"),
             env("TCA_TEST_DBPORT"));

    enum store_status st = store_migrate(&cfg, quiet(), err, sizeof err);
    is_int(st, STORE_UNAVAILABLE, "migrate with a wrong password fails");
    printf("# %s\n", err);
    ok(strncmp(err, prefix, strlen(prefix)) == 0, "the message says where it tried to connect");
    ok(strstr(err, "password authentication failed") != NULL, "and why");
    ok(!strstr(err, WRONG_PASSWORD) && !strstr(err, env("TCA_TEST_DBPASSWORD")) &&
           !strchr(err, '\n'),
       "one line, no password in it");
    st = store_updatedb(&cfg, false, quiet(), err, sizeof err);
    is_int(st, STORE_UNAVAILABLE, "updatedb with a wrong password fails");
    ok(strncmp(err, prefix, strlen(prefix)) == 0 && !strstr(err, WRONG_PASSWORD),
       "with the same clear message");

    /* The server opens anyway (the password may be fixed on the server side), and says why it
     * cannot work yet. */
    struct store *s = NULL;
    capture_begin();
    st = store_open(&cfg, &s, err, sizeof err);
    enum store_status ping = s ? store_ping(s) : STORE_ERROR;
    char *log = capture_end();
    is_int(st, STORE_OK, "store opens with a wrong password");
    is_int(ping, STORE_UNAVAILABLE, "and is unavailable");
    ok(strstr(log, "cannot connect to PostgreSQL at") && strstr(log, "password authentication"),
       "the log says why");
    ok(!strstr(log, WRONG_PASSWORD) && !strstr(log, env("TCA_TEST_DBPASSWORD")),
       "the log holds no password");
    free(log);
    store_free(s);

    /* Nothing listening on the port. */
    int port = dead_port();
    cfg = test_config("tca_test");
    cfg.db_port = port;
    snprintf(prefix, sizeof prefix,
             "cannot connect to PostgreSQL at %s:%d: ", env("TCA_TEST_DBHOST"), port);
    st = store_migrate(&cfg, quiet(), err, sizeof err);
    is_int(st, STORE_UNAVAILABLE, "migrate against a dead port fails");
    printf("# %s\n", err);
    ok(strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, "Connection refused") &&
           !strstr(err, env("TCA_TEST_DBPASSWORD")),
       "the message names host, port and cause, and no password");

    capture_begin();
    long t0 = now_ms();
    st = store_open(&cfg, &s, err, sizeof err);
    int unavailable = 0;
    for (int i = 0; i < 20; i++)
        unavailable += store_ping(s) == STORE_UNAVAILABLE;
    long took = now_ms() - t0;
    log = capture_end();
    is_int(st, STORE_OK, "store opens with the database down");
    is_int(unavailable, 20, "every call is unavailable");
    ok(took < 3000, "and fails fast");
    printf("# open + 20 calls took %ld ms\n", took);
    free(log);
    store_free(s);
}

static void test_statement_timeout(void)
{
    char err[STORE_ERRMSG_MAX];
    struct config cfg = test_config("tca_test");
    struct store *s = NULL;
    cfg.db_statement_timeout = 1000;
    store_open(&cfg, &s, err, sizeof err);
    is_int(store_ping(s), STORE_OK, "store up");

    PGconn *admin = admin_connect("tca_test");
    admin_exec(admin, "BEGIN");
    admin_exec(admin, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    capture_begin();
    long t0 = now_ms();
    enum store_status st = store_task_list(s, ignore, NULL);
    long took = now_ms() - t0;
    is_int(st, STORE_UNAVAILABLE, "a list blocked by a lock times out as unavailable");
    ok(took >= 900 && took < 5000, "after about the statement timeout");
    printf("# took %ld ms (statement timeout 1000 ms)\n", took);
    struct task in = {0, 0, false, "blocked", 7};
    is_int(store_task_create(s, &in, ignore, NULL), STORE_UNAVAILABLE, "a blocked create too");
    free(capture_end());
    admin_exec(admin, "ROLLBACK");
    is_int(admin_number(admin, "SELECT count(*) FROM tasks WHERE title = 'blocked'"), 0,
           "the timed-out create left nothing");
    is_int(list_count(s), 1, "the store works again once the lock is gone");
    PQfinish(admin);
    store_free(s);
}

/*
 * A write that fails when its transaction commits. Over the extended protocol the server sends a
 * statement's rows and CommandComplete before the implicit transaction commits at Sync, so a
 * client that stops reading at the first result reports success for a row that was rolled back
 * (a deferred constraint, a serialization failure under SERIALIZABLE, or a crash between the
 * two: the loss once seen in test_outage_under_load). A deferred constraint trigger fails the
 * commit here, every time.
 */
static void test_failure_at_commit(void)
{
    char err[STORE_ERRMSG_MAX];
    struct config cfg = test_config("tca_test");
    struct store *s = NULL;
    store_open(&cfg, &s, err, sizeof err);
    int64_t id = create(s, "changed at commit", 1, false);
    ok(id > 0, "a task to update and delete");

    PGconn *admin = admin_connect("tca_test");
    admin_exec(admin, "CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$BEGIN RAISE EXCEPTION 'refused at commit' USING ERRCODE = "
                      "'serialization_failure'; END$$");
    admin_exec(admin, "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT OR UPDATE OR DELETE "
                      "ON tasks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                      "fail_at_commit()");
    capture_begin();
    struct task in = {0, 0, false, "rolled back at commit", 21};
    enum store_status created = store_task_create(s, &in, ignore, NULL);
    struct task_patch patch = {.has_title = true, .value = {.title = "x", .title_len = 1}};
    enum store_status updated = store_task_update(s, id, &patch, ignore, NULL);
    enum store_status deleted = store_task_delete(s, id);
    struct task many[2] = {in, in};
    enum store_status created_many = store_task_create_many(s, many, 2, ignore, NULL);
    char *log = capture_end();
    admin_exec(admin, "DROP TRIGGER fail_at_commit ON tasks");
    admin_exec(admin, "DROP FUNCTION fail_at_commit()");

    is_int(created, STORE_UNAVAILABLE, "a create whose commit fails is not acknowledged");
    is_int(updated, STORE_UNAVAILABLE, "nor an update");
    is_int(deleted, STORE_UNAVAILABLE, "nor a delete");
    is_int(created_many, STORE_UNAVAILABLE, "nor a batch of creates");
    ok(strstr(log, "refused at commit") != NULL, "the log says why");
    free(log);
    is_int(admin_number(admin, "SELECT count(*) FROM tasks WHERE title = 'rolled back at commit'"),
           0, "the refused create left nothing");
    is_int(admin_number(admin, "SELECT count(*) FROM tasks WHERE title = 'changed at commit'"), 1,
           "the refused update and delete changed nothing");
    is_int(create(s, "after a refused commit", 0, false) > 0, 1,
           "the connections serve writes again");
    admin_exec(admin, "DELETE FROM tasks WHERE title IN ('changed at commit', "
                      "'after a refused commit')");
    PQfinish(admin);
    store_free(s);
}

struct lister {
    struct store *store;
    enum store_status status;
};

static void *list_thread(void *arg)
{
    struct lister *l = arg;
    struct collected c = {0};
    l->status = store_task_list(l->store, collect, &c);
    collected_reset(&c);
    return NULL;
}

static void test_pool_exhaustion(void)
{
    char err[STORE_ERRMSG_MAX];
    struct config cfg = test_config("tca_test");
    struct store *s = NULL;
    cfg.db_pool_size = 2;
    cfg.db_pool_timeout = 300;
    cfg.db_statement_timeout = 10000;
    store_open(&cfg, &s, err, sizeof err);
    /* Both connections made first (the pool fills in the background, ADR 0022): a list that
     * found the second one still being made would give up after DbPoolTimeout on a loaded
     * machine (an ASan build under the whole suite did: checks 83-88 failed together). */
    struct store_stats stats;
    for (int i = 0; i < 400; i++) {
        store_stats(s, &stats);
        if (stats.unconnected == 0 && stats.in_use == 0)
            break;
        sleep_ms(50);
    }

    /* Two lists wait for a lock, holding both connections. */
    PGconn *admin = admin_connect("tca_test");
    admin_exec(admin, "BEGIN");
    admin_exec(admin, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    struct lister l[2] = {{s, STORE_ERROR}, {s, STORE_ERROR}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, list_thread, &l[i]);
    long waiting = 0;
    /* Up to 20 s: the second connection is made on demand, slowly on a loaded machine. */
    for (int i = 0; i < 400 && waiting < 2; i++) {
        sleep_ms(50);
        waiting = admin_number(admin, "SELECT count(*) FROM pg_stat_activity WHERE "
                                      "application_name = 'TechChallengeApp' AND "
                                      "wait_event_type = 'Lock'");
    }
    is_int(waiting, 2, "both pool connections are busy");
    store_stats(s, &stats);
    ok(stats.pool_size == 2 && stats.in_use == 2 && stats.waiting == 0,
       "store_stats: pool of 2, both in use, nobody waiting");

    capture_begin();
    long t0 = now_ms();
    enum store_status st = store_ping(s);
    long took = now_ms() - t0;
    char *log = capture_end();
    is_int(st, STORE_UNAVAILABLE, "the next caller gets unavailable");
    ok(took >= 250 && took < 3000, "after about DbPoolTimeout");
    printf("# took %ld ms (DbPoolTimeout 300 ms)\n", took);
    ok(strstr(log, "no PostgreSQL connection free within 300 ms") != NULL, "and it is logged");
    free(log);

    admin_exec(admin, "ROLLBACK");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ok(l[0].status == STORE_OK && l[1].status == STORE_OK,
       "the waiting lists finish once unlocked");
    is_int(store_ping(s), STORE_OK, "the pool serves again");
    store_stats(s, &stats);
    ok(stats.in_use == 0, "store_stats: all connections back in the pool");
    PQfinish(admin);
    store_free(s);
}

/* Calls ping until it succeeds; returns the milliseconds it took, or -1 after limit_ms. */
static long wait_available(struct store *s, long limit_ms)
{
    long t0 = now_ms();
    while (now_ms() - t0 < limit_ms) {
        if (store_ping(s) == STORE_OK)
            return now_ms() - t0;
        sleep_ms(50);
    }
    return -1;
}

/*
 * A TCP relay to the test server that can go silent: it then stops passing bytes either way but
 * keeps every connection open, as a dropped route or a frozen host would (no FIN, no RST, no
 * ICMP). One thread, a few connections; every loop is bounded by the stop flag.
 */
#define RELAY_PAIRS 8
struct relay {
    int listen_fd, port;
    int fds[RELAY_PAIRS][2]; /* client side, server side; -1 when free */
    atomic_bool silent, stop;
    pthread_t thread;
};

static int connect_upstream(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(env("TCA_TEST_DBHOST"), env("TCA_TEST_DBPORT"), &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Copies what from has to to; false when from closed or failed. */
static bool relay_pass(int from, int to)
{
    char chunk[16384];
    ssize_t n = read(from, chunk, sizeof chunk);
    for (ssize_t off = 0, w; n > 0 && off < n; off += w)
        if ((w = write(to, chunk + off, (size_t)(n - off))) <= 0)
            return false;
    return n > 0;
}

static void *relay_run(void *arg)
{
    struct relay *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p[1 + 2 * RELAY_PAIRS];
        int owner[1 + 2 * RELAY_PAIRS], n = 0;
        p[n++] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
        bool silent = atomic_load(&r->silent);
        for (int i = 0; i < RELAY_PAIRS && !silent; i++)
            for (int side = 0; side < 2 && r->fds[i][0] >= 0; side++) {
                owner[n] = i * 2 + side;
                p[n++] = (struct pollfd){.fd = r->fds[i][side], .events = POLLIN};
            }
        if (poll(p, (nfds_t)n, 50) <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            int client = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            int server = client >= 0 ? connect_upstream() : -1;
            int i = 0;
            while (i < RELAY_PAIRS && r->fds[i][0] >= 0)
                i++;
            if (client < 0 || server < 0 || i == RELAY_PAIRS) {
                if (client >= 0)
                    close(client);
                if (server >= 0)
                    close(server);
            } else {
                r->fds[i][0] = client;
                r->fds[i][1] = server;
            }
        }
        for (int k = 1; k < n; k++) {
            int i = owner[k] / 2, side = owner[k] % 2;
            if (!p[k].revents || r->fds[i][0] < 0)
                continue;
            if (!relay_pass(r->fds[i][side], r->fds[i][!side])) {
                close(r->fds[i][0]);
                close(r->fds[i][1]);
                r->fds[i][0] = r->fds[i][1] = -1;
            }
        }
    }
    return NULL;
}

static bool relay_start(struct relay *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < RELAY_PAIRS; i++)
        r->fds[i][0] = r->fds[i][1] = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(r->listen_fd, 8) != 0 || getsockname(r->listen_fd, (struct sockaddr *)&a, &len) != 0)
        return false;
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->thread, NULL, relay_run, r) == 0;
}

static void relay_stop(struct relay *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    for (int i = 0; i < RELAY_PAIRS; i++)
        if (r->fds[i][0] >= 0) {
            close(r->fds[i][0]);
            close(r->fds[i][1]);
        }
    close(r->listen_fd);
}

/*
 * The network to the database goes silent under a pooled connection whose next statement is
 * not prepared yet: the PREPARE meets the answer deadline (DbStatementTimeout + 1 s). The call
 * must fail as unavailable within that bound, drop the connection, and leak nothing (ASan's
 * leak check runs at the end of this test program under make asan: a time-out during PREPARE
 * once leaked a result).
 */
static void test_silent_network(void)
{
    char err[STORE_ERRMSG_MAX];
    struct relay relay;
    if (!ok(relay_start(&relay), "a relay to the test server"))
        return;
    struct config cfg = test_config("tca_test");
    cfg.db_host = "127.0.0.1";
    cfg.db_port = relay.port;
    cfg.db_pool_size = 1;
    cfg.db_statement_timeout = 300;
    struct store *s = NULL;
    is_int(store_open(&cfg, &s, err, sizeof err), STORE_OK, "store open through the relay");
    is_int(wait_available(s, 5000) >= 0, 1, "ping answered through the relay");

    atomic_store(&relay.silent, true);
    capture_begin();
    long t0 = now_ms();
    enum store_status st = store_task_get(s, 1, ignore, NULL);
    long took = now_ms() - t0;
    char *log = capture_end();
    is_int(st, STORE_UNAVAILABLE, "a GET whose PREPARE gets no answer is unavailable");
    ok(took >= 1200 && took < 4000, "after the answer deadline (statement timeout + 1 s)");
    printf("# took %ld ms (statement timeout 300 ms + 1 s)\n", took);
    ok(strstr(log, "no answer from PostgreSQL") && strstr(log, "tca_get"),
       "logged, naming the statement");
    free(log);

    atomic_store(&relay.silent, false);
    is_int(wait_available(s, 10000) >= 0, 1, "answered again once the network is back");

    /* Silent again, now under a statement already prepared: the EXECUTE meets the deadline. */
    atomic_store(&relay.silent, true);
    capture_begin();
    t0 = now_ms();
    st = store_ping(s);
    took = now_ms() - t0;
    is_int(st, STORE_UNAVAILABLE, "a ping whose EXECUTE gets no answer is unavailable");
    ok(took >= 1200 && took < 4000, "after the ping's deadline (here the answer deadline)");
    printf("# took %ld ms\n", took);

    /* Past the longest back-off the next call makes a new connection: its start-up gets no
     * answer either, and DbConnectTimeout (2 s) bounds it. */
    sleep_ms(1100);
    t0 = now_ms();
    st = store_ping(s);
    took = now_ms() - t0;
    free(capture_end());
    is_int(st, STORE_UNAVAILABLE, "a new connection on the silent network is unavailable");
    /* libpq 15 counts DbConnectTimeout in whole seconds of the clock: 1 to 2 s here. */
    ok(took >= 900 && took < 5000, "after about DbConnectTimeout");
    printf("# took %ld ms (DbConnectTimeout 2 s)\n", took);

    atomic_store(&relay.silent, false);
    is_int(wait_available(s, 10000) >= 0, 1, "and answered again once the network is back");
    store_free(s);
    relay_stop(&relay);
}

static void test_recovery(void)
{
    char err[STORE_ERRMSG_MAX];
    struct config cfg = test_config("tca_test");
    struct store *s = NULL;
    cfg.db_pool_size = 3;
    store_open(&cfg, &s, err, sizeof err);
    PGconn *admin = admin_connect("tca_test");
    admin_exec(admin, "DELETE FROM tasks");
    PQfinish(admin);

    int acknowledged = 0;
    for (int i = 0; i < 5; i++)
        acknowledged += create(s, "before the crash", 0, false) > 0;
    is_int(acknowledged, 5, "five writes before the crash");

    ok(system(env("TCA_TEST_PG_CRASH")) == 0, "pg_ctl stop -m immediate");
    int unavailable = 0;
    long worst = 0;
    capture_begin();
    for (int i = 0; i < 30; i++) {
        long t0 = now_ms();
        enum store_status st;
        switch (i % 3) {
        case 0:
            st = store_ping(s);
            break;
        case 1:
            st = store_task_list(s, ignore, NULL);
            break;
        default:
            st = create(s, "during the outage", 0, false) > 0 ? STORE_OK : STORE_UNAVAILABLE;
        }
        long took = now_ms() - t0;
        worst = took > worst ? took : worst;
        unavailable += st == STORE_UNAVAILABLE;
        sleep_ms(20);
    }
    char *log = capture_end();
    free(log);
    is_int(unavailable, 30, "every call is unavailable while the server is down");
    ok(worst < 2500, "each fails fast");
    printf("# slowest call while down: %ld ms\n", worst);

    ok(system(env("TCA_TEST_PG_RESUME")) == 0, "pg_ctl start");
    capture_begin();
    long took = wait_available(s, 20000);
    free(capture_end());
    ok(took >= 0, "the store serves again without a restart");
    printf("# available %ld ms after the server was up\n", took);

    /* The other pooled connections died with the server: writes on them must not fail. */
    int writes = 0;
    for (int i = 0; i < 6; i++)
        writes += create(s, "after the restart", 0, false) > 0;
    is_int(writes, 6, "writes succeed on every pooled connection after the restart");
    admin = admin_connect("tca_test");
    is_int(admin_number(admin, "SELECT count(*) FROM tasks WHERE title = 'before the crash'"), 5,
           "every acknowledged write survived");
    is_int(admin_number(admin, "SELECT count(*) FROM tasks WHERE title = 'after the restart'"), 6,
           "no write was duplicated");
    PQfinish(admin);
    store_free(s);

    /* A store opened while the server is down connects once it is up. */
    ok(system(env("TCA_TEST_PG_CRASH")) == 0, "server down again");
    capture_begin();
    enum store_status st = store_open(&cfg, &s, err, sizeof err);
    enum store_status ping = store_ping(s);
    log = capture_end();
    is_int(st, STORE_OK, "store opens with the server down");
    is_int(ping, STORE_UNAVAILABLE, "unavailable at first");
    ok(strstr(log, "cannot connect to PostgreSQL at") != NULL, "the log says why");
    free(log);
    ok(system(env("TCA_TEST_PG_RESUME")) == 0, "server up");
    capture_begin();
    took = wait_available(s, 20000);
    free(capture_end());
    ok(took >= 0, "the store connects once the server is up");
    printf("# available %ld ms after the server was up\n", took);
    is_int(list_count(s), 11, "and reads the data");
    store_free(s);
}

/* ---- writes under load while the server crashes and comes back ---- */

#define LOAD_THREADS 4
#define LOAD_MAX     5000

struct writer {
    struct store *store;
    int index;
    volatile bool *stop;
    bool acked[LOAD_MAX]; /* acked[j]: write j got STORE_OK */
    int ok, unavailable, other, tried;
};

static void *writer_thread(void *arg)
{
    struct writer *w = arg;
    for (int j = 0; j < LOAD_MAX && !*w->stop; j++) {
        char title[64];
        snprintf(title, sizeof title, "load-%d-%d", w->index, j);
        struct task in = {0, 0, false, title, strlen(title)};
        enum store_status st = store_task_create(w->store, &in, ignore, NULL);
        w->tried++;
        w->acked[j] = st == STORE_OK;
        w->ok += st == STORE_OK;
        w->unavailable += st == STORE_UNAVAILABLE;
        w->other += st != STORE_OK && st != STORE_UNAVAILABLE;
        if (st != STORE_OK)
            sleep_ms(5);
    }
    return NULL;
}

static void test_outage_under_load(void)
{
    char err[STORE_ERRMSG_MAX];
    struct config cfg = test_config("tca_test");
    struct store *s = NULL;
    static struct writer w[LOAD_THREADS];
    pthread_t th[LOAD_THREADS];
    volatile bool stop = false;
    cfg.db_pool_size = 3;
    cfg.db_pool_timeout = 200;
    store_open(&cfg, &s, err, sizeof err);

    capture_begin();
    for (int i = 0; i < LOAD_THREADS; i++) {
        w[i] = (struct writer){.store = s, .index = i, .stop = &stop};
        pthread_create(&th[i], NULL, writer_thread, &w[i]);
    }
    sleep_ms(300);
    int crashed = system(env("TCA_TEST_PG_CRASH"));
    sleep_ms(500);
    int resumed = system(env("TCA_TEST_PG_RESUME"));
    long back = wait_available(s, 20000);
    sleep_ms(300);
    stop = true;
    for (int i = 0; i < LOAD_THREADS; i++)
        pthread_join(th[i], NULL);
    free(capture_end_quiet());

    int acked = 0, unavailable = 0, other = 0, tried = 0;
    for (int i = 0; i < LOAD_THREADS; i++) {
        acked += w[i].ok;
        unavailable += w[i].unavailable;
        other += w[i].other;
        tried += w[i].tried;
    }
    ok(crashed == 0 && resumed == 0, "server crashed and restarted under load");
    ok(back >= 0, "the store recovered under load");
    printf("# %d writes tried by %d threads: %d acknowledged, %d unavailable, %d other errors\n",
           tried, LOAD_THREADS, acked, unavailable, other);
    ok(unavailable > 0, "writes were refused while the server was down");
    is_int(other, 0, "no write failed with anything but unavailable");

    PGconn *admin = admin_connect("tca_test");
    PGresult *res = PQexec(admin, "SELECT title FROM tasks WHERE title LIKE 'load-%'");
    static bool present[LOAD_THREADS][LOAD_MAX];
    int rows = PQntuples(res), duplicates = 0;
    for (int r = 0; r < rows; r++) {
        int i, j;
        if (sscanf(PQgetvalue(res, r, 0), "load-%d-%d", &i, &j) == 2 && i >= 0 &&
            i < LOAD_THREADS && j >= 0 && j < LOAD_MAX) {
            duplicates += present[i][j];
            present[i][j] = true;
        }
    }
    PQclear(res);
    PQfinish(admin);
    int lost = 0;
    for (int i = 0; i < LOAD_THREADS; i++)
        for (int j = 0; j < LOAD_MAX; j++)
            lost += w[i].acked[j] && !present[i][j];
    is_int(lost, 0, "every acknowledged write is in the table");
    is_int(duplicates, 0, "no write is in the table twice");
    printf("# %d rows in the table for %d acknowledged writes\n", rows, acked);
    store_free(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!getenv("TCA_TEST_DBHOST")) {
        /* Run under a throwaway cluster (make check runs the test from the repository root). */
        const char *with_pg = "tests/lib/with-pg.sh";
        if (access(with_pg, X_OK) != 0) {
            printf("Bail out! set TCA_TEST_DB* or run from the repository root (%s)\n", with_pg);
            return 1;
        }
        fflush(stdout);
        execl(with_pg, with_pg, argv[0], (char *)NULL);
        printf("Bail out! cannot run %s: %s\n", with_pg, strerror(errno));
        return 1;
    }
    log_init(LOG_INFO, LOG_FORMAT_TEXT);

    test_updatedb();
    test_tasks();
    test_migrate();
    test_connect_failures();
    test_statement_timeout();
    test_failure_at_commit();
    test_pool_exhaustion();
    test_silent_network();
    test_recovery();
    test_outage_under_load();
    return done_testing();
}
