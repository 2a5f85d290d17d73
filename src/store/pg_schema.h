/*
 * pg_schema.h — the PostgreSQL backend's schema commands (private to src/store/): `updatedb`
 * and `migrate`, with the contracts of store.h's store_updatedb and store_migrate.
 */
#ifndef PG_SCHEMA_H
#define PG_SCHEMA_H

#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"

enum store_status pg_updatedb(const struct config *cfg, bool skip_create_db, FILE *out, char *err,
                              size_t errlen);
enum store_status pg_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen);

#endif
