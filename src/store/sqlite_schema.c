/*
 * sqlite_schema.c — the embedded store's table and index: created when missing (at open and by
 * `migrate`), or dropped, recreated and seeded (`updatedb`) (sqlite_schema.h).
 */
#include "store/sqlite_schema.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "store/sqlite_conn.h"
#include "store/store_backend.h"
#include "util/array.h"
#include "util/buf.h"

static const char schema_table[] =
    "CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "completed boolean NOT NULL, priority integer NOT NULL, title text NOT NULL)";
static const char schema_index[] =
    "CREATE INDEX IF NOT EXISTS tasks_priority_id ON tasks (priority, id)";

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

enum store_status sqlite_ensure_schema(sqlite3 *db, const char *path, FILE *out, char *err,
                                       size_t errlen)
{
    bool has_table = table_exists(db, "table", "tasks");
    bool has_index = table_exists(db, "index", "tasks_priority_id");
    if (out)
        fprintf(out, "%s table: tasks\n", has_table ? "Keeping existing" : "Creating");
    if (!has_table && sqlite_exec(db, schema_table) != SQLITE_OK)
        goto fail;
    if (out)
        fprintf(out, "%s index: tasks_priority_id\n", has_index ? "Keeping existing" : "Creating");
    if (!has_index && sqlite_exec(db, schema_index) != SQLITE_OK)
        goto fail;
    return STORE_OK;

fail:
    return sqlite_failed(db, "create table tasks in", path, err, errlen);
}

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
    enum store_status failed = sqlite_failed(db, "seed table tasks in", path, err, errlen);
    sqlite3_finalize(st);
    return failed;
}

enum store_status sqlite_updatedb(const struct config *cfg, bool skip_create_db, FILE *out,
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
    st = sqlite_conn_open(&c, path, true, false, err, errlen);
    if (st != STORE_OK)
        return st;
    st = sqlite_set_wal(c.db, path, err, errlen);
    if (st != STORE_OK)
        goto out;
    fprintf(out, "Dropping and recreating table: tasks\n");
    if (sqlite_exec(c.db, "BEGIN IMMEDIATE; DROP TABLE IF EXISTS tasks") != SQLITE_OK ||
        sqlite_exec(c.db, schema_table) != SQLITE_OK ||
        sqlite_exec(c.db, schema_index) != SQLITE_OK) {
        st = sqlite_failed(c.db, "recreate table tasks in", path, err, errlen);
        goto out;
    }
    fprintf(out, "Seeding table with data\n");
    st = seed(c.db, path, err, errlen);
    if (st != STORE_OK)
        goto out;
    if (sqlite_exec(c.db, "COMMIT") != SQLITE_OK)
        st = sqlite_failed(c.db, "commit to", path, err, errlen);

out:
    /* An open transaction is rolled back by close. */
    sqlite_conn_close(&c);
    return st;
}

enum store_status sqlite_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen)
{
    const char *path = cfg->db_path;
    struct sqlite_conn c;
    enum store_status st;

    fprintf(out, "Opening database: %s\n", path);
    st = sqlite_conn_open(&c, path, true, false, err, errlen);
    if (st != STORE_OK)
        return st;
    st = sqlite_set_wal(c.db, path, err, errlen);
    if (st == STORE_OK)
        st = sqlite_ensure_schema(c.db, path, out, err, errlen);
    sqlite_conn_close(&c);
    return st;
}
