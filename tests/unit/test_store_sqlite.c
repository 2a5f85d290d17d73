/*
 * test_store_sqlite.c — what only the SQLite backend does: the file and its failures.
 *
 * File permissions mean nothing to root, so when run as root the test drops to the user
 * nobody (65534) first, in a temp directory it hands to that user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include "store/store.h"
#include "store_test_util.h"
#include "tap.h"
#include "util/array.h"

static char *tmpdir;

static void drop_root(void)
{
    if (geteuid() != 0)
        return;
    if (chown(tmpdir, 65534, 65534) != 0 || setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
        setuid(65534) != 0) {
        printf("Bail out! cannot drop root to test file permissions: %s\n", strerror(errno));
        exit(255);
    }
    diag("running as nobody (65534): permissions are only tested without root");
}

static enum store_status try_open(const struct config *cfg, struct store **store, char *err)
{
    err[0] = '\0';
    return store_open(cfg, store, err, STORE_ERRMSG_MAX);
}

static int64_t create(struct store *store, const char *title)
{
    struct rows r = {0};
    struct task in = {.title = title, .title_len = strlen(title), .priority = 1};
    enum store_status st = store_task_create(store, &in, collect_visit, &r);
    int64_t id = st == STORE_OK && r.n == 1 ? r.v[0].id : (int64_t)st;
    rows_release(&r);
    return id;
}

static size_t count(struct store *store, enum store_status *st)
{
    struct rows r = {0};
    *st = store_task_list(store, collect_visit, &r);
    size_t n = r.n;
    rows_release(&r);
    return n;
}

/* Runs one SQL statement on path directly and returns its first column as text (or ""). */
static void sql_direct(const char *path, const char *sql, char *out, size_t outlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(out, outlen, "(error)");
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
        else if (rc == SQLITE_DONE)
            out[0] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void test_created_on_first_use(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096], got[64];
    struct store *store = NULL;
    enum store_status st;
    snprintf(dir, sizeof(dir), "%s/first", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);

    ok(!file_exists(path), "no database file yet");
    is_int(try_open(&cfg, &store, err), STORE_OK, "open creates the database");
    ok(file_exists(path), "the file exists after open");
    is_int(count(store, &st), 0, "a new database has no tasks");
    is_int(st, STORE_OK, "list works on a new database");
    int64_t id = create(store, "kept");
    is_int(id, 1, "the first task gets id 1");
    sql_direct(path, "PRAGMA journal_mode", got, sizeof(got));
    is_str(got, "wal", "the database is in WAL mode");
    store_free(store);

    store = NULL;
    is_int(try_open(&cfg, &store, err), STORE_OK, "reopen");
    struct rows r = {0};
    is_int(store_task_get(store, id, collect_visit, &r), STORE_OK, "the task survives reopen");
    ok(r.n == 1 && row_is(&r.v[0], "kept", 4, 1, false), "with its values");
    rows_release(&r);
    store_free(store);
    sql_direct(path, "SELECT group_concat(name, ',') FROM sqlite_master", got, sizeof(got));
    is_str(got, "tasks,sqlite_sequence,tasks_priority_id", "schema: table tasks and its index");
}

static void test_not_a_database(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], want[4300], dir[4096];
    unsigned char bytes[8192], after[8192];
    struct store *store = (struct store *)&store;
    snprintf(dir, sizeof(dir), "%s/bolt", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);

    int fd = open("/dev/urandom", O_RDONLY);
    ok(fd >= 0 && read(fd, bytes, sizeof(bytes)) == (ssize_t)sizeof(bytes), "random bytes");
    close(fd);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ok(fd >= 0 && write(fd, bytes, sizeof(bytes)) == (ssize_t)sizeof(bytes),
       "a file of random bytes where the database should be");
    close(fd);

    snprintf(want, sizeof(want),
             "'%s' is not a SQLite database (a BoltDB file from the Go original? move it away)",
             path);
    is_int(try_open(&cfg, &store, err), STORE_ERROR, "open fails with STORE_ERROR");
    ok(store == NULL, "and no store");
    is_str(err, want, "the message says what the file probably is");

    char *output = NULL;
    size_t len;
    FILE *out = open_memstream(&output, &len);
    err[0] = '\0';
    is_int(store_migrate(&cfg, out, err, sizeof(err)), STORE_ERROR, "migrate fails too");
    is_str(err, want, "with the same message");
    err[0] = '\0';
    is_int(store_updatedb(&cfg, true, out, err, sizeof(err)), STORE_ERROR,
           "updatedb --skip-create-db fails too");
    is_str(err, want, "with the same message");
    fclose(out);
    free(output);

    fd = open(path, O_RDONLY);
    ok(fd >= 0 && read(fd, after, sizeof(after)) == (ssize_t)sizeof(after) &&
           memcmp(bytes, after, sizeof(bytes)) == 0,
       "the foreign file is left untouched");
    close(fd);
    ok(!file_exists(strcat(strcpy(want, path), "-wal")), "no -wal file was left beside it");

    output = NULL;
    out = open_memstream(&output, &len);
    is_int(store_updatedb(&cfg, false, out, err, sizeof(err)), STORE_OK,
           "updatedb (drop and recreate) replaces it");
    fclose(out);
    char line[4200];
    snprintf(line, sizeof(line), "Dropping and recreating database: %s\n", path);
    ok(output && strncmp(output, line, strlen(line)) == 0, "updatedb says it drops the file");
    free(output);
    store = NULL;
    enum store_status st;
    is_int(try_open(&cfg, &store, err), STORE_OK, "then it opens");
    is_int(count(store, &st), 3, "with the three seeds");
    store_free(store);
}

static void test_unwritable_directory(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096];
    struct store *store = NULL;
    snprintf(dir, sizeof(dir), "%s/ro-dir", tmpdir);
    mkdir(dir, 0500);
    test_sqlite_config(&cfg, dir, path);
    is_int(try_open(&cfg, &store, err), STORE_ERROR, "open in an unwritable directory fails");
    ok(strstr(err, path) && strstr(err, "Permission denied"),
       "the message names the file and the cause");
    printf("#   %s\n", err);
    chmod(dir, 0700);
}

static void test_read_only_file(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096];
    struct store *store = NULL;
    enum store_status st;
    snprintf(dir, sizeof(dir), "%s/ro-file", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);
    is_int(try_open(&cfg, &store, err), STORE_OK, "open a new database");
    int64_t id = create(store, "read me");
    store_free(store);
    chmod(path, 0400);

    store = NULL;
    is_int(try_open(&cfg, &store, err), STORE_OK, "a read-only file still opens");
    if (!store) {
        printf("#   %s\n", err);
        return;
    }
    is_int(count(store, &st), 1, "reads work on a read-only file");
    is_int(st, STORE_OK, "list is ok");
    is_int(create(store, "no"), STORE_ERROR, "create fails with STORE_ERROR");
    struct task_patch p = {.has_priority = true, .value = {.priority = 5}};
    struct rows r = {0};
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_ERROR,
           "update fails with STORE_ERROR");
    is_int(r.n, 0, "a failed update visits nothing");
    is_int(store_task_delete(store, id), STORE_ERROR, "delete fails with STORE_ERROR");
    is_int(store_task_get(store, id, collect_visit, &r), STORE_OK, "get still works");
    ok(r.n == 1 && row_is(&r.v[0], "read me", 7, 1, false), "and the task is unchanged");
    is_int(store_ping(store), STORE_OK, "ping works");
    rows_release(&r);
    store_free(store);

    /* The same file in a directory that became read-only (think: a read-only mount). */
    chmod(dir, 0500);
    store = NULL;
    st = try_open(&cfg, &store, err);
    if (st == STORE_OK) {
        is_int(count(store, &st), 1, "read-only file and directory: reads work");
        is_int(create(store, "no"), STORE_ERROR, "read-only file and directory: create fails");
        store_free(store);
    } else {
        is_int(st, STORE_ERROR, "read-only file and directory: open fails with STORE_ERROR");
        ok(strstr(err, path) != NULL, "naming the file");
        printf("#   %s\n", err);
    }
    /* SQLite made -wal and -shm as read-only as the file: an operator fixes all three. */
    chmod(dir, 0700);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char name[4200];
        snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
        chmod(name, 0600);
    }
    store = NULL;
    is_int(try_open(&cfg, &store, err), STORE_OK, "writable again: open");
    is_int(create(store, "yes") > id, 1, "writes work again");
    is_int(count(store, &st), 2, "and nothing was lost");
    store_free(store);
}

static void test_id_limit(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096], got[64];
    struct store *store = NULL;
    snprintf(dir, sizeof(dir), "%s/ids", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);
    is_int(try_open(&cfg, &store, err), STORE_OK, "open");
    create(store, "first");
    store_free(store);
    sql_direct(path, "UPDATE sqlite_sequence SET seq = 2147483645 WHERE name = 'tasks'", got,
               sizeof(got));
    is_str(got, "", "move the id sequence near INT32_MAX");

    store = NULL;
    try_open(&cfg, &store, err);
    is_int(create(store, "almost"), 2147483646, "id INT32_MAX - 1");
    is_int(create(store, "last"), INT32_MAX, "id INT32_MAX");
    is_int(create(store, "one too many"), STORE_ERROR, "past INT32_MAX: STORE_ERROR");
    struct rows r = {0};
    is_int(store_task_get(store, INT32_MAX, collect_visit, &r), STORE_OK, "get INT32_MAX");
    ok(r.n == 1 && row_is(&r.v[0], "last", 4, 1, false), "the last task is intact");
    rows_release(&r);
    enum store_status st;
    is_int(count(store, &st), 3, "no row beyond INT32_MAX was added");
    store_free(store);
}

/* A batch of writes is one transaction (store.h): if the database refuses one of them, none is
 * kept, so that each may be tried again alone. A trigger refuses the second write of each call. */
static void test_write_batches_all_or_nothing(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096], got[64];
    struct store *store = NULL;
    snprintf(dir, sizeof(dir), "%s/batches", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);
    is_int(try_open(&cfg, &store, err), STORE_OK, "open");
    int64_t a = create(store, "a"), keep = create(store, "keep");
    sql_direct(path,
               "CREATE TRIGGER refuse_update BEFORE UPDATE ON tasks WHEN NEW.title = 'refused' "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END",
               got, sizeof(got));
    sql_direct(path,
               "CREATE TRIGGER refuse_delete BEFORE DELETE ON tasks WHEN OLD.title = 'keep' "
               "BEGIN SELECT RAISE(ABORT, 'kept'); END",
               got, sizeof(got));
    int64_t ids[] = {a, keep};
    struct task_patch patches[] = {
        {.has_title = true, .value = {.title = "changed", .title_len = 7}},
        {.has_title = true, .value = {.title = "refused", .title_len = 7}},
    };
    struct rows r = {0};
    is_int(store_task_update_many(store, ids, patches, 2, collect_visit, &r), STORE_ERROR,
           "an update batch with a refused write: STORE_ERROR");
    ok(r.n == 0, "and visits nothing");
    rows_reset(&r);
    store_task_get(store, a, collect_visit, &r);
    ok(r.n == 1 && row_is(&r.v[0], "a", 1, 1, false), "the other update was rolled back");
    rows_reset(&r);
    is_int(store_task_update_many(store, ids, patches, 1, collect_visit, &r), STORE_OK,
           "alone, it is applied");
    ok(r.n == 1 && row_is(&r.v[0], "changed", 7, 1, false), "as it was visited");
    rows_reset(&r);

    is_int(store_task_delete_many(store, ids, 2, collect_visit, &r), STORE_ERROR,
           "a delete batch with a refused delete: STORE_ERROR");
    ok(r.n == 0, "and visits nothing");
    is_int(store_task_get(store, a, collect_visit, &r), STORE_OK,
           "the other delete was rolled back");
    rows_release(&r);
    store_free(store);
}

/* List versions (store.h): unchanged tasks keep their version and are not visited again; any
 * commit — through the store or by another connection — changes it, and the tasks come back. */
static size_t list_since_any(struct store *store, const uint64_t *known, size_t n,
                             uint64_t *version, struct rows *r)
{
    rows_reset(r);
    if (store_task_list_if_changed(store, known, n, version, NULL, NULL, collect_visit, r) !=
        STORE_OK)
        return (size_t)-1;
    return r->n;
}

static size_t list_since(struct store *store, uint64_t known, uint64_t *version, struct rows *r)
{
    return list_since_any(store, &known, known != 0, version, r);
}

static void test_list_versions(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096], got[64];
    struct store *store = NULL;
    struct rows r = {0};
    snprintf(dir, sizeof(dir), "%s/versions", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);
    is_int(try_open(&cfg, &store, err), STORE_OK, "open");
    create(store, "one");
    uint64_t v1 = 0, v2 = 0, v3 = 0, v4 = 0;
    is_int(list_since(store, 0, &v1, &r), 1, "known 0: the tasks are read");
    ok(v1 != 0, "the embedded store has list versions");
    is_int(list_since(store, v1, &v2, &r), 0, "unchanged: nothing is visited");
    ok(v2 == v1, "and the version is the one known");

    create(store, "two");
    is_int(list_since(store, v1, &v3, &r), 2, "after a create through the store: read again");
    ok(v3 != v1, "with another version");

    sql_direct(path, "UPDATE tasks SET title = 'changed elsewhere' WHERE title = 'one'", got,
               sizeof(got));
    is_int(list_since(store, v3, &v4, &r), 2, "after a commit by another connection: read again");
    ok(v4 != v3 && r.n == 2 && row_is(&r.v[0], "changed elsewhere", 17, 1, false),
       "with another version, and that commit in it");
    is_int(list_since(store, v4, &v1, &r), 0, "then unchanged again");
    rows_release(&r);
    store_free(store);
}

/* Lists side by side (ADR 0033): while one list holds a lister, the next runs on another, whose
 * versions are its own; a version is known if it is any of those given. */
struct nested_list {
    struct store *store;
    const uint64_t *outer; /* the outer read's version, set before its rows are visited */
    uint64_t inner;
    size_t inner_rows;
    enum store_status st;
    bool done;
};

static int list_inside(const struct task *t, void *ctx)
{
    (void)t;
    struct nested_list *n = ctx;
    if (!n->done) { /* the outer read holds its lister: this one runs on another */
        struct rows r = {0};
        n->done = true;
        n->st = store_task_list_if_changed(n->store, n->outer, 1, &n->inner, NULL, NULL,
                                           collect_visit, &r);
        n->inner_rows = r.n;
        rows_release(&r);
    }
    return 0;
}

static void test_list_versions_side_by_side(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096];
    struct store *store = NULL;
    struct rows r = {0};
    snprintf(dir, sizeof(dir), "%s/side", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);
    is_int(try_open(&cfg, &store, err), STORE_OK, "open");
    create(store, "one");
    create(store, "two");
    uint64_t outer = 0, v = 0;
    struct nested_list n = {.store = store, .outer = &outer};
    is_int(store_task_list_if_changed(store, NULL, 0, &outer, NULL, NULL, list_inside, &n),
           STORE_OK, "a list");
    is_int(n.st, STORE_OK, "and one inside it, while the first holds its connection");
    ok(n.inner != 0 && n.inner != outer && n.inner_rows == 2,
       "the inner one has a version of its own, so it read the same tasks again");
    uint64_t both[2] = {n.inner, outer};
    is_int(list_since_any(store, both, 2, &v, &r), 0, "known among several versions: not read");
    ok(v == outer, "and the version is the one of them this read has");
    is_int(list_since_any(store, &n.inner, 1, &v, &r), 2,
           "only the other connection's version known: read again");
    create(store, "three");
    is_int(list_since_any(store, both, 2, &v, &r), 3, "after a create: read again");
    ok(!store_version_known(both, 2, v), "with a version not among the old ones");
    rows_release(&r);
    store_free(store);
    test_rmdir(dir); /* the top directory's clean-up removes files only */
}

/* Descriptors this process has open. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n - 1; /* opendir's own */
}

/* Readers held at once: each list's visitor waits (up to 5 s) until all are inside. */
#define READERS 4
static pthread_mutex_t inside_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inside_cond = PTHREAD_COND_INITIALIZER;
static int inside, inside_max;

static int wait_for_all(const struct task *t, void *ctx)
{
    (void)t;
    (void)ctx;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&inside_lock);
    if (++inside > inside_max)
        inside_max = inside;
    pthread_cond_broadcast(&inside_cond);
    while (inside < READERS && pthread_cond_timedwait(&inside_cond, &inside_lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&inside_lock);
    return 1; /* one row is enough */
}

static void *list_once(void *store)
{
    return (void *)(intptr_t)store_task_list(store, wait_for_all, NULL);
}

static void test_readers_on_first_use(void)
{
    struct config cfg;
    char path[4096], err[STORE_ERRMSG_MAX], dir[4096];
    struct store *store = NULL;
    snprintf(dir, sizeof(dir), "%s/readers", tmpdir);
    mkdir(dir, 0700);
    test_sqlite_config(&cfg, dir, path);
    cfg.db_pool_size = READERS;
    is_int(try_open(&cfg, &store, err), STORE_OK, "open with 4 readers");
    create(store, "one");
    store_free(store);

    int before = open_fds();
    store = NULL;
    try_open(&cfg, &store, err);
    int at_open = open_fds() - before;
    /* The writer holds the file, its WAL and the shared memory; a reader the file and WAL. */
    ok(at_open <= 5, "open opens the writer and one reader, not all four");
    printf("# descriptors: %d at open\n", at_open);

    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[i], NULL, list_once, store);
    int failed = 0;
    for (int i = 0; i < READERS; i++) {
        void *st;
        pthread_join(th[i], &st);
        failed += (intptr_t)st != STORE_OK;
    }
    is_int(failed, 0, "four lists at once: each gets a reader");
    is_int(inside_max, READERS, "... all four held at the same time (three opened on demand)");
    ok(open_fds() - before > at_open, "the readers opened on demand stay open");
    printf("# descriptors: %d after four lists at once\n", open_fds() - before);
    store_free(store);
    is_int(open_fds(), before, "store_free closes every reader");
}

int main(void)
{
    log_init(LOG_WARN, LOG_FORMAT_TEXT);
    tmpdir = test_tmpdir();
    drop_root();

    test_created_on_first_use();
    test_not_a_database();
    test_unwritable_directory();
    test_read_only_file();
    test_id_limit();
    test_write_batches_all_or_nothing();
    test_list_versions();
    test_list_versions_side_by_side();
    test_readers_on_first_use();

    test_rmdir(tmpdir); /* the subdirectories first */
    const char *subdirs[] = {"first", "bolt",    "ro-dir",   "ro-file",
                             "ids",   "batches", "versions", "readers"};
    for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
        char sub[4200];
        snprintf(sub, sizeof(sub), "%s/%s", tmpdir, subdirs[i]);
        test_rmdir(sub);
    }
    test_rmdir(tmpdir);
    free(tmpdir);
    return done_testing();
}
