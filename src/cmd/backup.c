/*
 * backup.c — `TechChallengeApp backup [--force] FILE`: a consistent copy of the embedded
 * (SQLite) store in FILE, safe while the server runs (store_backup). Exit 0 when FILE holds a
 * checked copy, 1 when the backup failed (FILE then is as it was), 2 on a usage error.
 *
 * PostgreSQL has backups of its own that know more than we could (pg_dump, point-in-time
 * recovery, RDS snapshots): for DbType=postgres this says so and exits 1.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "store/store.h"

#define USAGE "usage: backup [--force] FILE"

int cmd_backup(int argc, char **argv, const struct config *cfg)
{
    const char *dest = NULL;
    bool replace = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            replace = true;
        } else if (argv[i][0] == '-' || argv[i][0] == '\0' || dest) {
            fprintf(stderr, "TechChallengeApp: backup: unexpected argument '%s' (" USAGE ")\n",
                    argv[i]);
            return 2;
        } else {
            dest = argv[i];
        }
    }
    if (!dest) {
        fprintf(stderr, "TechChallengeApp: backup: no FILE given (" USAGE ")\n");
        return 2;
    }
    if (cfg->db_type == DB_POSTGRES) {
        fprintf(stderr,
                "TechChallengeApp: backup copies the embedded store (DbType sqlite); with "
                "DbType postgres use PostgreSQL's own tools: pg_dump (e.g. pg_dump -Fc -h HOST "
                "-U USER -d %s -f FILE) or, on RDS, automated backups and snapshots\n",
                cfg->db_name);
        return 1;
    }
    char err[STORE_ERRMSG_MAX] = "";
    if (store_backup(cfg, dest, replace, stdout, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "TechChallengeApp: backup failed: %s\n", err);
        return 1;
    }
    return 0;
}
