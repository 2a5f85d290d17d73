/*
 * sqlite_conn.h — one connection to the embedded store's file (private to src/store/): opening
 * it with the pragmas every connection needs, its prepared task statements, and SQLite's
 * failures worded as one line and mapped to a store status. Shared by the backend
 * (store_sqlite.c, which pools connections) and the file commands (sqlite_schema.c,
 * sqlite_backup.c).
 */
#ifndef SQLITE_CONN_H
#define SQLITE_CONN_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* How long a connection waits for another process's lock before SQLITE_BUSY. */
#define SQLITE_BUSY_TIMEOUT_MS 5000

/* The statements every task connection has prepared (sqlite_conn_prepare). */
enum sqlite_stmt {
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

/* Zeroed when closed; stmt[i] is NULL until prepared. */
struct sqlite_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
};

/* Opens path read-write (creating it if create) with synchronous=FULL, reading the header (a
 * file that is not a database fails here) and, if prepare, prepares the statements. On failure
 * c is closed and err says why ("cannot create '<path>': ..." and the like). */
enum store_status sqlite_conn_open(struct sqlite_conn *c, const char *path, bool create,
                                   bool prepare, char *err, size_t errlen);

/* Prepares the statements on an open connection (once the schema exists); on failure c is
 * closed and err says why. */
enum store_status sqlite_conn_prepare(struct sqlite_conn *c, const char *path, char *err,
                                      size_t errlen);

/* Finalizes the statements and closes; an unopened (zeroed) c is fine. */
void sqlite_conn_close(struct sqlite_conn *c);

/* sqlite3_exec with no callback: SQLite's result code. */
int sqlite_exec(sqlite3 *db, const char *sql);

/* Puts the file in WAL mode (stored in the file); a read-only file keeps its mode. */
enum store_status sqlite_set_wal(sqlite3 *db, const char *path, char *err, size_t errlen);

/* The cause of a failed call on db as one line, written into tmp: SQLite's message and the
 * system error. Returns tmp. */
const char *sqlite_cause(sqlite3 *db, char *tmp, size_t len);

/* The message for a file that did not open (db may be NULL: out of memory). */
void sqlite_open_error(char *err, size_t errlen, const char *path, sqlite3 *db);

/* STORE_UNAVAILABLE for a busy or locked database (try again), STORE_ERROR otherwise. */
enum store_status sqlite_status_of(int rc);

/* "cannot <what> '<path>': <cause>" into err, and the status of db's last failure. */
enum store_status sqlite_failed(sqlite3 *db, const char *what, const char *path, char *err,
                                size_t errlen);

#endif
