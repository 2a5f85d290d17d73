/*
 * test_store_contract.c — the contract of store.h, run against whichever backend the environment
 * selects, so both backends pass the same suite.
 *
 *   TCA_TEST_DBTYPE=postgres  TCA_TEST_DBHOST, TCA_TEST_DBPORT, TCA_TEST_DBUSER,
 *                             TCA_TEST_DBPASSWORD, TCA_TEST_DBNAME name a throwaway database
 *                             (updatedb drops and recreates it)
 *   otherwise                 SQLite in a fresh temp directory
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "log.h"
#include "store/store.h"
#include "store_test_util.h"
#include "tap.h"
#include "util/array.h"

/* What store.h says updatedb seeds. */
static const char *const seed_titles[3] = {"1st Task", "2nd Task", "3rd Task"};

static struct config cfg;
static char *tmpdir;
static char db_path[4096];

/* The only backend-specific part: the config. */
static void setup_config(void)
{
    const char *type = getenv("TCA_TEST_DBTYPE");
    if (type && strcmp(type, "postgres") == 0) {
        const char *port = getenv("TCA_TEST_DBPORT");
        memset(&cfg, 0, sizeof(cfg));
        cfg.db_type = DB_POSTGRES;
        cfg.db_type_name = "postgres";
        cfg.db_host = getenv("TCA_TEST_DBHOST") ? getenv("TCA_TEST_DBHOST") : "127.0.0.1";
        cfg.db_port = port ? atoi(port) : 5432;
        cfg.db_user = getenv("TCA_TEST_DBUSER") ? getenv("TCA_TEST_DBUSER") : "postgres";
        cfg.db_password = getenv("TCA_TEST_DBPASSWORD") ? getenv("TCA_TEST_DBPASSWORD") : "";
        cfg.db_name = getenv("TCA_TEST_DBNAME") ? getenv("TCA_TEST_DBNAME") : "tca_test";
        cfg.db_sslmode = "disable";
        cfg.db_sslrootcert = "";
        cfg.db_pool_size = 4;
        cfg.db_connect_timeout = 5;
        cfg.db_statement_timeout = 5000;
        cfg.db_pool_timeout = 2000;
        printf("# backend postgres: %s:%d/%s\n", cfg.db_host, cfg.db_port, cfg.db_name);
    } else {
        tmpdir = test_tmpdir();
        test_sqlite_config(&cfg, tmpdir, db_path);
        printf("# backend sqlite: %s\n", db_path);
    }
}

static struct store *open_store(const char *name)
{
    char err[STORE_ERRMSG_MAX] = "";
    struct store *store = NULL;
    enum store_status st = store_open(&cfg, &store, err, sizeof(err));
    if (!ok(st == STORE_OK && store, name)) {
        printf("#   %s: %s\n", store_status_name(st), err);
        exit(done_testing() + 1);
    }
    return store;
}

/* Runs updatedb or migrate with output captured; returns the status and the output (caller
 * frees). */
static enum store_status run_schema(bool migrate, bool skip, char **output)
{
    char err[STORE_ERRMSG_MAX] = "";
    size_t len;
    FILE *out = open_memstream(output, &len);
    enum store_status st = migrate ? store_migrate(&cfg, out, err, sizeof(err))
                                   : store_updatedb(&cfg, skip, out, err, sizeof(err));
    fclose(out);
    if (st != STORE_OK)
        printf("#   %s: %s\n", store_status_name(st), err);
    return st;
}

static int64_t create(struct store *store, const char *title, size_t len, int32_t priority,
                      bool complete)
{
    struct rows r = {0};
    struct task in = {
        .id = 999, .priority = priority, .complete = complete, .title = title, .title_len = len};
    enum store_status st = store_task_create(store, &in, collect_visit, &r);
    int64_t id = st == STORE_OK && r.n == 1 ? r.v[0].id : -1;
    rows_release(&r);
    return id;
}

static void test_updatedb_seeds(void)
{
    char *output = NULL;
    is_int(run_schema(false, false, &output), STORE_OK, "updatedb succeeds");
    ok(output && strstr(output, "Dropping and recreating table: tasks\n"),
       "updatedb says it recreates the table");
    ok(output && strstr(output, "Seeding table with data\n"), "updatedb says it seeds");
    free(output);

    struct store *store = open_store("store opens after updatedb");
    struct rows r = {0};
    is_int(store_task_list(store, collect_visit, &r), STORE_OK, "list after updatedb");
    is_int(r.n, 3, "updatedb seeds three tasks");
    for (size_t i = 0; i < 3 && i < r.n; i++) {
        char name[80];
        snprintf(name, sizeof(name), "seed %zu is '%s', priority 0, not complete, id %zu", i + 1,
                 seed_titles[i], i + 1);
        ok(r.v[i].id == (int64_t)i + 1 &&
               row_is(&r.v[i], seed_titles[i], strlen(seed_titles[i]), 0, false),
           name);
    }
    rows_release(&r);
    is_str(store_backend_name(store), cfg.db_type == DB_POSTGRES ? "postgres" : "sqlite",
           "backend name");
    is_int(store_ping(store), STORE_OK, "ping");
    store_free(store);
}

static void test_empty_list_and_stop(struct store *store)
{
    struct rows r = {0};
    for (int64_t id = 1; id <= 3; id++)
        is_int(store_task_delete(store, id), STORE_OK, "delete a seeded task");
    is_int(store_task_list(store, collect_visit, &r), STORE_OK, "list of an empty table");
    is_int(r.n, 0, "an empty list visits nothing");

    for (int i = 0; i < 5; i++)
        create(store, "stop", 4, 0, false);
    rows_reset(&r);
    r.stop_after = 2;
    is_int(store_task_list(store, collect_visit, &r), STORE_OK, "list stopped by the visitor");
    is_int(r.n, 2, "a non-zero visitor return stops the walk");
    rows_release(&r);
}

static void test_create_and_get(struct store *store)
{
    struct rows r = {0};
    struct task in = {
        .id = 12345, .priority = 7, .complete = true, .title = "new task", .title_len = 8};
    is_int(store_task_create(store, &in, collect_visit, &r), STORE_OK, "create");
    is_int(r.n, 1, "create visits the new row once");
    if (r.n == 1) {
        ok(r.v[0].id > 3 && r.v[0].id != 12345, "create returns a new id, ignoring in->id");
        ok(row_is(&r.v[0], "new task", 8, 7, true), "create returns the values stored");
    }
    int64_t id = r.n == 1 ? r.v[0].id : 0;
    rows_reset(&r);
    is_int(store_task_get(store, id, collect_visit, &r), STORE_OK, "get the new task");
    ok(r.n == 1 && r.v[0].id == id && row_is(&r.v[0], "new task", 8, 7, true),
       "get returns what create stored");

    int64_t id2 = create(store, "second", 6, 7, false);
    ok(id2 > id, "the next create gets a larger id");

    static const int64_t missing[] = {0,         -1,       INT32_MAX, (int64_t)INT32_MAX + 1,
                                      INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < ARRAY_SIZE(missing); i++) {
        char name[80];
        rows_reset(&r);
        snprintf(name, sizeof(name), "get id %lld: not found", (long long)missing[i]);
        is_int(store_task_get(store, missing[i], collect_visit, &r), STORE_NOT_FOUND, name);
        ok(r.n == 0, "not found visits nothing");
    }

    int64_t lo = create(store, "min priority", 12, INT32_MIN, false);
    int64_t hi = create(store, "max priority", 12, INT32_MAX, true);
    rows_reset(&r);
    store_task_get(store, lo, collect_visit, &r);
    store_task_get(store, hi, collect_visit, &r);
    ok(r.n == 2 && r.v[0].priority == INT32_MIN && r.v[1].priority == INT32_MAX,
       "priorities INT32_MIN and INT32_MAX round-trip");
    store_task_delete(store, lo);
    store_task_delete(store, hi);
    rows_release(&r);
}

static void test_create_many(struct store *store)
{
    /* Same titles twice, empty and multi-byte ones, quotes and array syntax: every task keeps
     * its own values and they come back in the order given. */
    struct task in[] = {
        {.id = 1, .priority = 3, .complete = false, .title = "batch a", .title_len = 7},
        {.id = 1,
         .priority = INT32_MIN,
         .complete = true,
         .title = "{\"x\",NULL}",
         .title_len = 10},
        {.id = 1, .priority = 0, .complete = false, .title = "", .title_len = 0},
        {.id = 1, .priority = 3, .complete = false, .title = "batch a", .title_len = 7},
        {.id = 1,
         .priority = INT32_MAX,
         .complete = true,
         .title = "\xe2\x82\xac'); --",
         .title_len = 9},
    };
    size_t n = ARRAY_SIZE(in);
    struct rows r = {0};
    is_int(store_task_create_many(store, in, n, collect_visit, &r), STORE_OK, "create many");
    is_int((int)r.n, (int)n, "create many visits each new row once");
    bool same = r.n == n, ascending = r.n == n;
    for (size_t k = 0; k < r.n && k < n; k++) {
        same =
            same && row_is(&r.v[k], in[k].title, in[k].title_len, in[k].priority, in[k].complete);
        ascending = ascending && r.v[k].id > 3 && (k == 0 || r.v[k].id > r.v[k - 1].id);
    }
    ok(same, "in the order given, with the values given");
    ok(ascending, "with new ids ascending in that order");
    bool stored = r.n == n;
    for (size_t k = 0; k < r.n && stored; k++) {
        struct rows one = {0};
        stored = store_task_get(store, r.v[k].id, collect_visit, &one) == STORE_OK && one.n == 1 &&
                 row_is(&one.v[0], in[k].title, in[k].title_len, in[k].priority, in[k].complete);
        rows_release(&one);
    }
    ok(stored, "every task is stored as returned");
    for (size_t k = 0; k < r.n; k++)
        store_task_delete(store, r.v[k].id);
    rows_reset(&r);
    is_int(store_task_create_many(store, in, 1, collect_visit, &r), STORE_OK, "create one");
    ok(r.n == 1 && row_is(&r.v[0], "batch a", 7, 3, false), "as create does");
    if (r.n == 1)
        store_task_delete(store, r.v[0].id);
    rows_release(&r);
}

static void test_get_many(struct store *store)
{
    int64_t a = create(store, "many a", 6, 1, false), b = create(store, "many b", 6, 2, true);
    int64_t ids[] = {b, 0, a, INT64_MAX, b, (int64_t)INT32_MAX, -5, a};
    struct rows r = {0};
    is_int(store_task_get_many(store, ids, ARRAY_SIZE(ids), collect_visit, &r), STORE_OK,
           "get many");
    bool found_a = false, found_b = false;
    for (size_t k = 0; k < r.n; k++) {
        found_a = found_a || (r.v[k].id == a && row_is(&r.v[k], "many a", 6, 1, false));
        found_b = found_b || (r.v[k].id == b && row_is(&r.v[k], "many b", 6, 2, true));
    }
    ok(r.n == 2 && found_a && found_b,
       "each existing task once, repeated and impossible ids skipped");
    rows_reset(&r);
    int64_t none[] = {0, INT64_MIN};
    is_int(store_task_get_many(store, none, 2, collect_visit, &r), STORE_OK,
           "get many of ids no task can have");
    ok(r.n == 0, "visits nothing");
    store_task_delete(store, a);
    store_task_delete(store, b);
    rows_release(&r);
}

/* Several tasks updated and deleted in one call: each as its own call would, missing and
 * impossible ids skipped; a patch changes only the fields it has. */
static void test_update_delete_many(struct store *store)
{
    int64_t a = create(store, "um a", 4, 1, false), b = create(store, "um b", 4, 2, false);
    int64_t ids[] = {a, b, 0, (int64_t)INT32_MAX};
    struct task_patch patches[4] = {
        {.has_title = true,
         .has_priority = true,
         .has_complete = true,
         .value = {.title = "new a", .title_len = 5, .priority = 9, .complete = true}},
        {.has_complete = true, .value = {.complete = true}},
        {.has_title = true, .value = {.title = "x", .title_len = 1}},
        {.has_title = true, .value = {.title = "y", .title_len = 1}},
    };
    struct rows r = {0};
    is_int(store_task_update_many(store, ids, patches, ARRAY_SIZE(ids), collect_visit, &r),
           STORE_OK, "update many");
    bool found_a = false, found_b = false;
    for (size_t k = 0; k < r.n; k++) {
        found_a = found_a || (r.v[k].id == a && row_is(&r.v[k], "new a", 5, 9, true));
        found_b = found_b || (r.v[k].id == b && row_is(&r.v[k], "um b", 4, 2, true));
    }
    ok(r.n == 2 && found_a && found_b,
       "each existing task visited once as updated; a patch keeps the fields it lacks");
    rows_reset(&r);
    is_int(store_task_get(store, b, collect_visit, &r), STORE_OK, "the update is stored");
    ok(r.n == 1 && row_is(&r.v[0], "um b", 4, 2, true), "as it was visited");
    rows_reset(&r);

    int64_t del[] = {b, -1, a, (int64_t)INT32_MAX};
    is_int(store_task_delete_many(store, del, ARRAY_SIZE(del), collect_visit, &r), STORE_OK,
           "delete many");
    ok(r.n == 2 && ((r.v[0].id == a && r.v[1].id == b) || (r.v[0].id == b && r.v[1].id == a)),
       "each deleted task's id visited once, missing and impossible ids skipped");
    rows_reset(&r);
    is_int(store_task_get(store, a, collect_visit, &r), STORE_NOT_FOUND, "the tasks are gone");
    is_int(store_task_delete_many(store, del, ARRAY_SIZE(del), collect_visit, &r), STORE_OK,
           "deleting them again is no error");
    ok(r.n == 0, "and visits nothing");
    rows_release(&r);
}

static void test_titles_byte_exact(struct store *store)
{
    static const char *const titles[] = {
        "100%",
        "%s%n%d%%",
        "%\"",
        "it's \"quoted\"",
        "back\\slash \\\\ \\n",
        "tab\there\nnewline\rcr",
        "\x01\x02\x1b[31m\x7f",
        "emoji \xf0\x9f\x98\x80 and \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
        "\xf0\x9d\x84\x9e (U+1D11E) \xe2\x82\xac \xc3\xa9",
        "'); DROP TABLE tasks;--",
        "Robert'); DELETE FROM tasks WHERE ('1'='1",
        "$1 $$ :name ?1 ? @x",
        "<script>alert(1)</script>",
        "  leading and trailing spaces  ",
        "",
    };
    struct rows r = {0};
    char name[160];
    for (size_t i = 0; i < ARRAY_SIZE(titles); i++) {
        size_t len = strlen(titles[i]);
        int64_t id = create(store, titles[i], len, 1, false);
        rows_reset(&r);
        enum store_status st = store_task_get(store, id, collect_visit, &r);
        snprintf(name, sizeof(name), "title %zu (%zu bytes) round-trips byte for byte", i, len);
        ok(id > 0 && st == STORE_OK && r.n == 1 && row_is(&r.v[0], titles[i], len, 1, false), name);
    }

    char big[1025];
    for (size_t i = 0; i < 1024; i++)
        big[i] = (char)('a' + i % 26);
    big[1024] = '\0';
    int64_t id = create(store, big, 1024, 2, true);
    rows_reset(&r);
    store_task_get(store, id, collect_visit, &r);
    ok(r.n == 1 && row_is(&r.v[0], big, 1024, 2, true), "a 1024-byte title round-trips");

    /* The title length is what counts, not a NUL: only the first 3 bytes of "abcdef". */
    id = create(store, "abcdef", 3, 0, false);
    rows_reset(&r);
    store_task_get(store, id, collect_visit, &r);
    ok(r.n == 1 && row_is(&r.v[0], "abc", 3, 0, false) && r.v[0].title[3] == '\0',
       "title_len bounds the title");

    rows_reset(&r);
    is_int(store_task_list(store, collect_visit, &r), STORE_OK, "table tasks still there");
    rows_release(&r);
}

static void test_list_order(struct store *store)
{
    struct rows r = {0};
    create(store, "p5 a", 4, 5, false);
    create(store, "p-1", 3, -1, false);
    create(store, "p5 b", 4, 5, false);
    create(store, "p0", 2, 0, true);
    is_int(store_task_list(store, collect_visit, &r), STORE_OK, "list");
    bool sorted = r.n > 0;
    for (size_t i = 1; i < r.n; i++) {
        const struct row *a = &r.v[i - 1], *b = &r.v[i];
        if (a->priority > b->priority || (a->priority == b->priority && a->id >= b->id))
            sorted = false;
    }
    ok(sorted, "list is ordered by priority, then id");
    ok(r.n > 0 && r.v[0].priority == -1, "the lowest priority comes first");
    rows_release(&r);
}

/* store_task_list_if_changed: the same tasks, in the same order, as store_task_list; nothing
 * visited exactly when the version is one of those known; a write always brings the tasks back. */
static void test_list_if_changed(struct store *store)
{
    struct rows all = {0}, r = {0};
    uint64_t v1, v2, v3;
    store_task_list(store, collect_visit, &all);
    is_int(store_task_list_if_changed(store, NULL, 0, &v1, NULL, NULL, collect_visit, &r), STORE_OK,
           "list if changed, nothing known");
    bool same = r.n == all.n && r.n > 0;
    for (size_t i = 0; same && i < r.n; i++)
        same = r.v[i].id == all.v[i].id && strcmp(r.v[i].title, all.v[i].title) == 0;
    ok(same, "nothing known: every task, in list order");
    ok(v1 != 0, "a version");

    rows_reset(&r);
    is_int(store_task_list_if_changed(store, &v1, 1, &v2, NULL, NULL, collect_visit, &r), STORE_OK,
           "list if changed since that version");
    ok(v2 == v1 ? r.n == 0 : r.n == all.n, "nothing visited exactly when the version is known");
    ok(v2 == v1, "no write in between: unchanged");

    int64_t id = create(store, "after the version", 17, 0, false);
    rows_reset(&r);
    store_task_list_if_changed(store, &v2, 1, &v3, NULL, NULL, collect_visit, &r);
    bool found = false;
    for (size_t i = 0; i < r.n; i++)
        found |= r.v[i].id == id;
    ok(v3 != v2 && found, "after a create: another version, and the new task");
    store_task_delete(store, id);
    rows_release(&r);
    rows_release(&all);
}

static void test_update(struct store *store)
{
    struct rows r = {0};
    int64_t id = create(store, "before", 6, 3, false);
    struct task_patch p = {0};

    p.has_title = true;
    p.value.title = "after 100%";
    p.value.title_len = strlen(p.value.title);
    p.value.priority = 99; /* not applied: has_priority is false */
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_OK, "patch title");
    ok(r.n == 1 && r.v[0].id == id && row_is(&r.v[0], "after 100%", 10, 3, false),
       "patch title changes the title only");

    memset(&p, 0, sizeof(p));
    p.has_priority = true;
    p.value.priority = -42;
    p.value.title = "ignored";
    p.value.title_len = 7;
    rows_reset(&r);
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_OK, "patch priority");
    ok(r.n == 1 && row_is(&r.v[0], "after 100%", 10, -42, false),
       "patch priority changes the priority only");

    memset(&p, 0, sizeof(p));
    p.has_complete = true;
    p.value.complete = true;
    rows_reset(&r);
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_OK, "patch complete");
    ok(r.n == 1 && row_is(&r.v[0], "after 100%", 10, -42, true),
       "patch complete changes complete only");

    memset(&p, 0, sizeof(p));
    rows_reset(&r);
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_OK, "empty patch");
    ok(r.n == 1 && row_is(&r.v[0], "after 100%", 10, -42, true), "empty patch changes nothing");

    p = (struct task_patch){.has_title = true,
                            .has_priority = true,
                            .has_complete = true,
                            .value = {.id = 777,
                                      .title = "put \xf0\x9f\x98\x80",
                                      .title_len = 8,
                                      .priority = 8,
                                      .complete = false}};
    rows_reset(&r);
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_OK, "put all fields");
    ok(r.n == 1 && r.v[0].id == id && row_is(&r.v[0], "put \xf0\x9f\x98\x80", 8, 8, false),
       "put changes all fields, not the id");
    rows_reset(&r);
    store_task_get(store, id, collect_visit, &r);
    ok(r.n == 1 && row_is(&r.v[0], "put \xf0\x9f\x98\x80", 8, 8, false), "get sees the update");

    rows_reset(&r);
    is_int(store_task_update(store, INT32_MAX, &p, collect_visit, &r), STORE_NOT_FOUND,
           "update of a missing id: not found");
    is_int(store_task_update(store, 0, &p, collect_visit, &r), STORE_NOT_FOUND,
           "update of id 0: not found");
    is_int(store_task_update(store, (int64_t)INT32_MAX + 1, &p, collect_visit, &r), STORE_NOT_FOUND,
           "update of id INT32_MAX+1: not found");
    ok(r.n == 0, "a failed update visits nothing");
    rows_release(&r);
}

static void test_delete(struct store *store)
{
    struct rows r = {0};
    int64_t id = create(store, "doomed", 6, 0, false);
    is_int(store_task_delete(store, id), STORE_OK, "delete");
    is_int(store_task_get(store, id, collect_visit, &r), STORE_NOT_FOUND,
           "get after delete: not found");
    is_int(store_task_delete(store, id), STORE_NOT_FOUND, "delete twice: not found");
    struct task_patch p = {.has_priority = true};
    is_int(store_task_update(store, id, &p, collect_visit, &r), STORE_NOT_FOUND,
           "update after delete: not found");
    is_int(store_task_delete(store, INT32_MAX), STORE_NOT_FOUND, "delete a missing id");
    is_int(store_task_delete(store, -1), STORE_NOT_FOUND, "delete id -1");
    is_int(store_task_delete(store, INT64_MAX), STORE_NOT_FOUND, "delete id INT64_MAX");
    int64_t next = create(store, "after", 5, 0, false);
    ok(next > id, "the id of the deleted last task is not reused");
    ok(r.n == 0, "nothing was visited");
    rows_release(&r);
}

/* ---- concurrency ---- */

#define THREADS    8
#define PER_THREAD 50

struct worker {
    struct store *store;
    int index;
    int64_t ids[PER_THREAD];
    int failures;
    int unsorted_lists;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct rows r = {0};
    char title[64];
    for (int i = 0; i < PER_THREAD; i++) {
        int len = snprintf(title, sizeof(title), "thread %d task %d", w->index, i);
        w->ids[i] = create(w->store, title, (size_t)len, i % 3, false);
        if (w->ids[i] <= 0)
            w->failures++;
        if (i % 5 == 0) {
            rows_reset(&r);
            if (store_task_list(w->store, collect_visit, &r) != STORE_OK)
                w->failures++;
            for (size_t k = 1; k < r.n; k++)
                if (r.v[k - 1].priority > r.v[k].priority ||
                    (r.v[k - 1].priority == r.v[k].priority && r.v[k - 1].id >= r.v[k].id))
                    w->unsorted_lists++;
        }
    }
    rows_release(&r);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_concurrency(struct store *store)
{
    static struct worker workers[THREADS];
    pthread_t threads[THREADS];
    struct rows r = {0};
    store_task_list(store, collect_visit, &r);
    size_t before = r.n;

    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.store = store, .index = i};
        pthread_create(&threads[i], NULL, worker_run, &workers[i]);
    }
    int failures = 0, unsorted = 0;
    static int64_t all[THREADS * PER_THREAD];
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        failures += workers[i].failures;
        unsorted += workers[i].unsorted_lists;
        memcpy(all + i * PER_THREAD, workers[i].ids, sizeof(workers[i].ids));
    }
    is_int(failures, 0, "8 threads creating and listing at once: no failure");
    is_int(unsorted, 0, "concurrent lists are ordered");
    qsort(all, THREADS * PER_THREAD, sizeof(all[0]), cmp_id);
    int dups = 0;
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        dups += all[i] == all[i - 1];
    is_int(dups, 0, "all 400 concurrently created ids are distinct");
    rows_reset(&r);
    store_task_list(store, collect_visit, &r);
    is_int(r.n, before + THREADS * PER_THREAD, "the list grew by 400");
    rows_release(&r);
}

/* ---- schema commands on existing data ---- */

static void test_migrate_keeps_data(void)
{
    struct store *store = open_store("store opens");
    struct rows before = {0}, after = {0};
    store_task_list(store, collect_visit, &before);
    store_free(store);

    char *output = NULL;
    is_int(run_schema(true, false, &output), STORE_OK, "migrate on an existing table");
    ok(output && *output, "migrate says what it does");
    free(output);
    output = NULL;
    is_int(run_schema(true, false, &output), STORE_OK, "migrate again: idempotent");
    free(output);

    store = open_store("store opens after migrate");
    store_task_list(store, collect_visit, &after);
    bool same = before.n == after.n && before.n > 0;
    for (size_t i = 0; same && i < before.n; i++)
        same = before.v[i].id == after.v[i].id &&
               row_is(&after.v[i], before.v[i].title, before.v[i].title_len, before.v[i].priority,
                      before.v[i].complete);
    ok(same, "migrate keeps every task as it was");
    store_free(store);
    rows_release(&before);
    rows_release(&after);

    output = NULL;
    is_int(run_schema(false, true, &output), STORE_OK, "updatedb --skip-create-db");
    free(output);
    store = open_store("store opens after updatedb -s");
    store_task_list(store, collect_visit, &after);
    ok(after.n == 3 && after.v[0].id == 1 && after.v[2].id == 3 &&
           row_is(&after.v[2], "3rd Task", 8, 0, false),
       "updatedb -s recreates the table with the seeds, ids from 1");
    rows_release(&after);
    store_free(store);
}

int main(void)
{
    log_init(LOG_ERROR, LOG_FORMAT_TEXT);
    setup_config();

    test_updatedb_seeds();
    struct store *store = open_store("store opens");
    test_empty_list_and_stop(store);
    test_create_and_get(store);
    test_create_many(store);
    test_get_many(store);
    test_update_delete_many(store);
    test_titles_byte_exact(store);
    test_list_order(store);
    test_list_if_changed(store);
    test_update(store);
    test_delete(store);
    test_concurrency(store);
    is_int(store_ping(store), STORE_OK, "ping after all that");
    store_free(store);
    test_migrate_keeps_data();

    if (tmpdir) {
        test_rmdir(tmpdir);
        free(tmpdir);
    }
    return done_testing();
}
