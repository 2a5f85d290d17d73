/*
 * schema.c — `updatedb [-s|--skip-create-db]` (the original's destructive reseed) and
 * `migrate` (create what is missing, never drop: the one to run on every deploy).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "store/store.h"

static int finish(const char *command, enum store_status status, const char *err)
{
    if (status == STORE_OK)
        return 0;
    fprintf(stderr, "TechChallengeApp: %s failed: %s\n", command, err);
    return 1;
}

int cmd_updatedb(int argc, char **argv, const struct config *cfg)
{
    bool skip_create_db = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--skip-create-db") == 0) {
            skip_create_db = true;
        } else {
            fprintf(stderr,
                    "TechChallengeApp: updatedb: unknown option '%s' (usage: updatedb "
                    "[-s|--skip-create-db])\n",
                    argv[i]);
            return 2;
        }
    }
    char err[STORE_ERRMSG_MAX] = "";
    enum store_status st = store_updatedb(cfg, skip_create_db, stdout, err, sizeof err);
    fflush(stdout);
    return finish("updatedb", st, err);
}

int cmd_migrate(int argc, char **argv, const struct config *cfg)
{
    (void)argc; /* NO_ARGS: main.c refused any argument */
    (void)argv;
    char err[STORE_ERRMSG_MAX] = "";
    enum store_status st = store_migrate(cfg, stdout, err, sizeof err);
    fflush(stdout);
    return finish("migrate", st, err);
}
