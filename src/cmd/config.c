/*
 * config.c — `TechChallengeApp config`: the effective configuration, one key per line, with
 * where each value came from (the default, conf.toml:LINE, VTT_<KEY>, VTT_DBPASSWORD_FILE);
 * DbUser and DbPassword masked, as everywhere. The lines are TOML ("Key" = "value"), so the
 * output can be read back as a conf.toml once the masked values are filled in.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"

/* Writes s as a TOML basic string. */
static void put_toml_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void print_key(const char *key, const char *value, const char *source, void *ctx)
{
    FILE *out = ctx;
    int width = fprintf(out, "\"%s\" = ", key);
    put_toml_string(out, value);
    width += (int)strlen(value) + 2;
    fprintf(out, "%*s # %s\n", width < 44 ? 44 - width : 1, "", source);
}

int cmd_config(int argc, char **argv, const struct config *cfg)
{
    (void)argc; /* NO_ARGS: main.c refused any argument */
    (void)argv;
    printf("# TechChallengeApp %s (git %s): the effective configuration and where each value "
           "came from\n",
           TCA_VERSION, TCA_GIT_REV);
    config_each_source(cfg, print_key, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
