/*
 * store_sqlite_stub.c — TEMPORARY: lets the store-pg branch link before store_sqlite.c exists.
 * Drop this file (its commit is titled "TEMP: sqlite stub") when merging store-sqlite.
 */
#include "store/store_backend.h"

const struct store_backend store_sqlite_backend = {.name = "sqlite-stub"};
