/*
 * sqlite_conn.c — one connection to the embedded store's file, and SQLite's failures as messages
 * and statuses (sqlite_conn.h).
 */
#include "store/sqlite_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/errbuf.h"
#include "util/xalloc.h"

/* ---- statements ---- */

#define TASK_COLUMNS "id, completed, priority, title"

/* The text of each enum sqlite_stmt. */
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

/* ---- messages ---- */

const char *sqlite_cause(sqlite3 *db, char *tmp, size_t len)
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

void sqlite_open_error(char *err, size_t errlen, const char *path, sqlite3 *db)
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
        snprintf(err, errlen, "cannot open '%s': %s", path, sqlite_cause(db, tmp, sizeof tmp));
    else
        snprintf(err, errlen, "cannot open '%s': out of memory", path);
}

enum store_status sqlite_status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_UNAVAILABLE;
    default:
        return STORE_ERROR;
    }
}

enum store_status sqlite_failed(sqlite3 *db, const char *what, const char *path, char *err,
                                size_t errlen)
{
    char tmp[256];
    errbuf_set(err, errlen, "cannot %s '%s': %s", what, path, sqlite_cause(db, tmp, sizeof tmp));
    return sqlite_status_of(sqlite3_errcode(db));
}

/* ---- connections ---- */

int sqlite_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

void sqlite_conn_close(struct sqlite_conn *c)
{
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

enum store_status sqlite_conn_open(struct sqlite_conn *c, const char *path, bool create,
                                   bool prepare, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    memset(c, 0, sizeof *c);
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, SQLITE_BUSY_TIMEOUT_MS);
    /* The first statement reads the header: this is where a file that is not a database
     * (a BoltDB file) fails, with SQLITE_NOTADB. */
    if (sqlite_exec(c->db, "PRAGMA synchronous = FULL; SELECT count(*) FROM sqlite_master") !=
        SQLITE_OK)
        goto fail;
    return prepare ? sqlite_conn_prepare(c, path, err, errlen) : STORE_OK;

fail:
    sqlite_open_error(err, errlen, path, c->db);
    enum store_status st = c->db ? sqlite_status_of(sqlite3_errcode(c->db)) : STORE_ERROR;
    sqlite_conn_close(c);
    return st;
}

/* WAL mode is stored in the file, so this needs to succeed once per database; a read-only
 * file keeps whatever mode it has. */
enum store_status sqlite_set_wal(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    if (sqlite3_db_readonly(db, "main") == 1)
        return STORE_OK;
    if (sqlite_exec(db, "PRAGMA journal_mode = WAL") != SQLITE_OK)
        return sqlite_failed(db, "set WAL mode on", path, err, errlen);
    return STORE_OK;
}

enum store_status sqlite_conn_prepare(struct sqlite_conn *c, const char *path, char *err,
                                      size_t errlen)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i],
                               NULL) != SQLITE_OK) {
            sqlite_open_error(err, errlen, path, c->db);
            enum store_status st = sqlite_status_of(sqlite3_errcode(c->db));
            sqlite_conn_close(c);
            return st;
        }
    }
    return STORE_OK;
}
