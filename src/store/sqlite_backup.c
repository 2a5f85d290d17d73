/*
 * sqlite_backup.c — `backup`: a consistent, checked copy of the embedded store's file while the
 * server runs, moved into place atomically and synced (sqlite_backup.h).
 */
#include "store/sqlite_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "store/sqlite_conn.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* fsyncs the file or directory at path. */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The directory part of path ("." if none), for fsync after a rename. Caller frees. */
static char *dir_of(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        free(dir);
        return xstrdup(".");
    }
    slash[slash == dir ? 1 : 0] = '\0';
    return dir;
}

/* Moves tmp to dest; without replace, fails with EEXIST if dest exists (atomically). */
static int move_into_place(const char *tmp, const char *dest, bool replace)
{
    if (replace)
        return rename(tmp, dest);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A file system without RENAME_NOREPLACE: link() refuses an existing name too. */
    if (link(tmp, dest) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

/* Runs a one-value query on db; copies the text of the first column into out. */
static bool query_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st;
    bool ok = false;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        snprintf(out, outlen, "%s", text ? (const char *)text : "");
        ok = true;
    }
    sqlite3_finalize(st);
    return ok;
}

/*
 * Copies the open database src into the new file tmp with the online backup API, in one step:
 * one read transaction, so the copy is the database as of one instant, while the server's
 * writer goes on (WAL). Then makes the copy self-contained and checks it.
 */
static enum store_status copy_database(sqlite3 *src, const char *tmp, long long *tasks, char *err,
                                       size_t errlen)
{
    char tmp_cause[256], check[256], count[32];
    sqlite3 *dst = NULL;
    enum store_status st = STORE_ERROR;

    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        sqlite_open_error(err, errlen, tmp, dst);
        goto out;
    }
    sqlite3_extended_result_codes(dst, 1);
    sqlite3_busy_timeout(dst, SQLITE_BUSY_TIMEOUT_MS);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, errlen, "cannot start the backup into '%s': %s", tmp,
                 sqlite_cause(dst, tmp_cause, sizeof tmp_cause));
        goto out;
    }
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot copy the database into '%s': %s", tmp,
                 rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? "the database stayed locked"
                                                          : sqlite3_errstr(rc));
        st = sqlite_status_of(rc);
        goto out;
    }
    /* The copy carries the source's WAL flag; a backup is one file. */
    if (sqlite_exec(dst, "PRAGMA journal_mode = DELETE") != SQLITE_OK) {
        snprintf(err, errlen, "cannot finish '%s': %s", tmp,
                 sqlite_cause(dst, tmp_cause, sizeof tmp_cause));
        goto out;
    }
    if (!query_text(dst, "PRAGMA integrity_check", check, sizeof check) ||
        strcmp(check, "ok") != 0) {
        snprintf(err, errlen, "the copy in '%s' fails its integrity check: %s", tmp,
                 check[0] ? check : sqlite_cause(dst, tmp_cause, sizeof tmp_cause));
        goto out;
    }
    *tasks = query_text(dst, "SELECT count(*) FROM tasks", count, sizeof count)
                 ? strtoll(count, NULL, 10)
                 : -1;
    st = STORE_OK;
out:
    if (sqlite3_close(dst) != SQLITE_OK && st == STORE_OK) {
        snprintf(err, errlen, "cannot close '%s'", tmp);
        st = STORE_ERROR;
    }
    return st;
}

enum store_status sqlite_backup(const struct config *cfg, const char *dest, bool replace, FILE *out,
                                char *err, size_t errlen)
{
    const char *path = cfg->db_path;
    struct stat src_st, dest_st;
    struct buf tmp = BUF_INIT;
    struct sqlite_conn src = {0};
    enum store_status st = STORE_ERROR;
    long long tasks = -1;
    char *dir = NULL;

    if (stat(path, &src_st) != 0) {
        snprintf(err, errlen, "cannot back up '%s': %s", path, strerror(errno));
        return STORE_ERROR;
    }
    if (stat(dest, &dest_st) == 0) {
        if (dest_st.st_dev == src_st.st_dev && dest_st.st_ino == src_st.st_ino) {
            snprintf(err, errlen, "'%s' is the database itself: back up to another file", dest);
            return STORE_ERROR;
        }
        if (!replace) {
            snprintf(err, errlen, "'%s' already exists (--force replaces it)", dest);
            return STORE_ERROR;
        }
        if (!S_ISREG(dest_st.st_mode)) {
            snprintf(err, errlen, "'%s' is not a regular file", dest);
            return STORE_ERROR;
        }
    }
    fprintf(out, "Backing up '%s' to '%s'\n", path, dest);
    fflush(out);

    /* Read-write without create: a reader of a WAL database needs the -shm file, which a
     * read-only connection could not make when no server runs. */
    st = sqlite_conn_open(&src, path, false, false, err, errlen);
    if (st != STORE_OK)
        goto out;
    buf_printf(&tmp, "%s.tmp-XXXXXX", dest);
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file beside '%s': %s", dest,
                 strerror(errno));
        st = STORE_ERROR;
        buf_reset(&tmp);
        goto out;
    }
    close(fd);
    st = copy_database(src.db, tmp.data, &tasks, err, errlen);
    if (st != STORE_OK)
        goto out;
    st = STORE_ERROR;
    if (sync_path(tmp.data) != 0) {
        snprintf(err, errlen, "cannot sync '%s': %s", tmp.data, strerror(errno));
        goto out;
    }
    if (move_into_place(tmp.data, dest, replace) != 0) {
        if (errno == EEXIST)
            snprintf(err, errlen, "'%s' already exists (--force replaces it)", dest);
        else
            snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp.data, dest,
                     strerror(errno));
        goto out;
    }
    buf_reset(&tmp); /* it is dest now */
    dir = dir_of(dest);
    if (sync_path(dir) != 0) {
        snprintf(err, errlen, "cannot sync directory '%s': %s", dir, strerror(errno));
        goto out;
    }
    if (stat(dest, &dest_st) != 0)
        dest_st.st_size = 0;
    fprintf(out, "Backup complete: '%s', %lld tasks, %lld bytes, integrity ok\n", dest, tasks,
            (long long)dest_st.st_size);
    st = STORE_OK;
out:
    if (tmp.len) {
        unlink(tmp.data);
        buf_printf(&tmp, "-journal");
        unlink(tmp.data);
    }
    sqlite_conn_close(&src);
    free(dir);
    buf_release(&tmp);
    fflush(out);
    return st;
}
