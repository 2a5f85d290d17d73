/*
 * test_fuzz_replay.c — feeds every fuzz seed (tests/fuzz/corpus/toml) and every saved crash
 * (tests/fuzz/regression/toml) to toml_parse in the normal build, so past findings stay fixed
 * without libFuzzer. Run from the repository root, or with TCA_BUILD=<root>/build (make check).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "file_util.h"
#include "tap.h"
#include "util/buf.h"

static int count_items(const struct toml_item *item, void *ctx, char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    if (item->line < 1 || !item->key || !item->value)
        return -1;
    ++*(int *)ctx;
    return 0;
}

static int replay_dir(const char *root, const char *sub)
{
    char dirpath[4096];
    struct dirent *de;
    struct buf data = BUF_INIT;
    int files = 0;
    DIR *d;

    snprintf(dirpath, sizeof(dirpath), "%s%s", root, sub);
    d = opendir(dirpath);
    if (!ok(d != NULL, sub)) {
        printf("#   cannot open %s\n", dirpath);
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        char path[8192], name[8300];
        struct toml_error err;
        int items = 0, rc;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
        if (!read_file(path, &data)) {
            ok(0, path);
            continue;
        }
        rc = toml_parse(data.data, data.len, count_items, &items, &err);
        snprintf(name, sizeof(name), "%s/%s: %s", sub, de->d_name, rc == 0 ? "parsed" : "rejected");
        ok((rc == 0 && err.line == 0) ||
               (rc == -1 && err.line >= 1 && err.msg[0] && !strchr(err.msg, '\n')),
           name);
        if (rc < 0)
            printf("#   line %d: %s\n", err.line, err.msg);
        files++;
    }
    closedir(d);
    buf_release(&data);
    return files;
}

int main(void)
{
    const char *build = getenv("TCA_BUILD");
    char root[4096] = "";

    if (build && build[0]) {
        snprintf(root, sizeof(root), "%s/../", build);
    }
    ok(replay_dir(root, "tests/fuzz/corpus/toml") >= 3, "the seed corpus has inputs");
    replay_dir(root, "tests/fuzz/regression/toml");
    return done_testing();
}
