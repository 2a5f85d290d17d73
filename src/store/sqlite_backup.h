/*
 * sqlite_backup.h — the embedded store's `backup` command (private to src/store/).
 */
#ifndef SQLITE_BACKUP_H
#define SQLITE_BACKUP_H

#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"

/* Copies cfg->db_path to dest: the contract of store.h's store_backup. */
enum store_status sqlite_backup(const struct config *cfg, const char *dest, bool replace, FILE *out,
                                char *err, size_t errlen);

#endif
