/*
 * store_test_util.h — helpers shared by the store tests: a visitor that copies rows, and the
 * throwaway SQLite directory.
 */
#ifndef STORE_TEST_UTIL_H
#define STORE_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "store/store.h"
#include "util/xalloc.h"

struct row {
    int64_t id;
    int32_t priority;
    bool complete;
    char *title;
    size_t title_len;
};

/* Rows copied by collect_visit; stop_after > 0 makes the visitor ask to stop after that many. */
struct rows {
    struct row *v;
    size_t n, cap;
    size_t stop_after;
};

static inline int collect_visit(const struct task *t, void *ctx)
{
    struct rows *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    struct row *row = &r->v[r->n++];
    row->id = t->id;
    row->priority = t->priority;
    row->complete = t->complete;
    row->title = xmalloc(t->title_len + 1);
    memcpy(row->title, t->title, t->title_len);
    row->title[t->title_len] = '\0';
    row->title_len = t->title_len;
    return r->stop_after && r->n >= r->stop_after;
}

static inline void rows_reset(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].title);
    r->n = 0;
    r->stop_after = 0;
}

static inline void rows_release(struct rows *r)
{
    rows_reset(r);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static inline bool row_is(const struct row *row, const char *title, size_t len, int32_t priority,
                          bool complete)
{
    return row->title_len == len && memcmp(row->title, title, len) == 0 &&
           row->priority == priority && row->complete == complete;
}

/* A fresh temp directory (caller frees the string); aborts if none can be made. */
static inline char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = xmalloc(4096);
    snprintf(dir, 4096, "%s/tca-store-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(255);
    }
    return dir;
}

/* Removes the files directly inside dir, then dir. */
static inline void test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[8192];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* A config for SQLite at dir/tasks.db (path is caller-owned storage of at least 4096 bytes). */
static inline void test_sqlite_config(struct config *cfg, const char *dir, char *path)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(path, 4096, "%s/tasks.db", dir);
    cfg->db_type = DB_SQLITE;
    cfg->db_type_name = "sqlite";
    cfg->db_path = path;
    cfg->db_pool_size = 4;
    cfg->db_pool_timeout = 2000;
    cfg->db_connect_timeout = 5;
    cfg->db_statement_timeout = 5000;
}

#endif
