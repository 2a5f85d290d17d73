/*
 * sqlite_schema.h — the embedded store's schema (private to src/store/).
 */
#ifndef SQLITE_SCHEMA_H
#define SQLITE_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"

/* Creates the tasks table and its index where missing, a line per step to out (if not NULL).
 * On a read-only file with the schema in place there is nothing to write, so it succeeds. */
enum store_status sqlite_ensure_schema(sqlite3 *db, const char *path, FILE *out, char *err,
                                       size_t errlen);

/* `updatedb` and `migrate` on cfg->db_path: the contracts of store.h's store_updatedb and
 * store_migrate. */
enum store_status sqlite_updatedb(const struct config *cfg, bool skip_create_db, FILE *out,
                                  char *err, size_t errlen);
enum store_status sqlite_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen);

#endif
