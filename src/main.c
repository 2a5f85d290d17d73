/*
 * main.c — TechChallengeApp's command line: global options, then a command from the table.
 *
 *   TechChallengeApp [--config PATH] serve | updatedb [-s] | migrate | healthcheck [--live]
 *                                    | config | backup [--force] FILE
 *   TechChallengeApp --version | --help | help
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "log.h"
#include "util/array.h"

/* Flags of a command (git's RUN_SETUP and the like): checked here, before it runs. */
#define NO_ARGS 1 /* takes no arguments after its name */

struct command {
    const char *name;
    int (*run)(int argc, char **argv, const struct config *cfg);
    const char *summary;
    unsigned flags;
};

static const struct command commands[] = {
    {"serve", cmd_serve, "Serve the to-do web app and API on ListenHost:ListenPort", NO_ARGS},
    {"updatedb", cmd_updatedb,
     "Drop and recreate the database and table tasks, with seed data "
     "(-s, --skip-create-db: table only)",
     0},
    {"migrate", cmd_migrate, "Create the database schema if missing; never drops data", NO_ARGS},
    {"healthcheck", cmd_healthcheck,
     "Exit 0 if the running server's /healthcheck/ says OK (--live: /livez/, no database)", 0},
    {"config", cmd_config, "Print the effective configuration and where each value came from",
     NO_ARGS},
    {"backup", cmd_backup,
     "Copy the embedded (SQLite) store to FILE while the server runs (--force: overwrite)", 0},
};

static void usage(FILE *out)
{
    fprintf(out, "TechChallengeApp — the Servian Tech Challenge to-do app.\n\n"
                 "Usage:\n  TechChallengeApp [--config PATH] COMMAND [OPTIONS]\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "Show this help");
    fprintf(out, "\nOptions:\n"
                 "  --config PATH  Read settings from PATH instead of ./conf.toml\n"
                 "  --version      Print the version\n"
                 "  -h, --help     Show this help\n\n"
                 "Every setting in conf.toml can be overridden by VTT_<KEY> (e.g. "
                 "VTT_LISTENPORT=8080).\n");
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0) {
            /* "TechChallengeApp version X.Y.Z" comes first, as the original prints it: scripts
             * parse it. */
            printf("TechChallengeApp version %s (git %s)\n", TCA_VERSION, TCA_GIT_REV);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
        } else {
            fprintf(stderr, "TechChallengeApp: unknown option '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i == argc || strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return 0;
    }
    const struct command *command = find_command(argv[i]);
    if (!command) {
        fprintf(stderr, "TechChallengeApp: unknown command '%s'\n\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if ((command->flags & NO_ARGS) && i + 1 < argc) {
        fprintf(stderr, "TechChallengeApp: %s takes no arguments (got '%s')\n", command->name,
                argv[i + 1]);
        return 2;
    }

    struct config cfg;
    char err[CONFIG_ERRMSG_MAX];
    if (config_load(&cfg, config_path, err, sizeof err) != 0) {
        fprintf(stderr, "TechChallengeApp: %s\n", err);
        return 1;
    }
    log_init(cfg.log_level, cfg.log_format);
    int status = command->run(argc - i, argv + i, &cfg);
    config_release(&cfg);
    return status;
}
