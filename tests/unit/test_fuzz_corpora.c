/*
 * test_fuzz_corpora.c — replays the seed corpora and saved findings of the libFuzzer targets
 * (tests/fuzz/corpus/<target>, tests/fuzz/regression/<target>) in the normal gcc build, no
 * libFuzzer: each target's own checks (assert) run on every file, and for the http target every
 * file goes to a real server in this process. A fixed bug's input stays fixed. (The TOML target
 * has its own replay: test_fuzz_replay.c.) Run from the repository root, or with
 * TCA_BUILD=<root>/build (make check).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "tap.h"
#include "util/buf.h"

#define LLVMFuzzerTestOneInput fuzz_task_input
#include "../fuzz/fuzz_task.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_router_input
#include "../fuzz/fuzz_router.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_http_input
#include "../fuzz/fuzz_http.c"
#include "util/array.h"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

/* Feeds every file of root/dir to fn (an assert stops the test there); returns the count. */
static int replay(const char *root, const char *dir, fuzz_fn fn)
{
    char dirpath[4096];
    struct buf data = BUF_INIT;
    int files = 0;

    snprintf(dirpath, sizeof dirpath, "%s%s", root, dir);
    DIR *d = opendir(dirpath);
    if (!ok(d != NULL, dir)) {
        printf("#   cannot open %s\n", dirpath);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[8192];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        if (!read_file(path, &data)) {
            ok(0, path);
            continue;
        }
        char name[4200];
        snprintf(name, sizeof name, "%s/%s", dir, de->d_name);
        fflush(stdout);
        ok(fn((const uint8_t *)data.data, data.len) == 0, name);
        files++;
    }
    closedir(d);
    buf_release(&data);
    return files;
}

int main(void)
{
    static const struct {
        const char *name;
        fuzz_fn fn;
    } targets[] = {
        {"task", fuzz_task_input},
        {"router", fuzz_router_input},
        {"http", fuzz_http_input},
    };
    const char *build = getenv("TCA_BUILD");
    char root[4096] = "";

    if (build && build[0])
        snprintf(root, sizeof root, "%s/../", build);
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        char corpus[64], regression[64];
        snprintf(corpus, sizeof corpus, "tests/fuzz/corpus/%s", targets[i].name);
        snprintf(regression, sizeof regression, "tests/fuzz/regression/%s", targets[i].name);
        char name[128];
        int n = replay(root, corpus, targets[i].fn);
        snprintf(name, sizeof name, "%s: the seed corpus has inputs (%d)", corpus, n);
        ok(n >= 5, name);
        replay(root, regression, targets[i].fn);
    }
    fuzz_http_stop();
    return done_testing();
}
