/*
 * cmd.h — the subcommands of TechChallengeApp, one file each.
 *
 * Each gets the arguments after its own name (argv[0] is the command name) and the loaded
 * configuration, prints what it does, and returns the process exit status. A command marked
 * NO_ARGS in main.c's table is run only with argc == 1: main refuses any argument first.
 */
#ifndef CMD_H
#define CMD_H

struct config;

int cmd_serve(int argc, char **argv, const struct config *cfg);
int cmd_updatedb(int argc, char **argv, const struct config *cfg);
int cmd_migrate(int argc, char **argv, const struct config *cfg);
int cmd_healthcheck(int argc, char **argv, const struct config *cfg);
int cmd_config(int argc, char **argv, const struct config *cfg);
int cmd_backup(int argc, char **argv, const struct config *cfg);

#endif
