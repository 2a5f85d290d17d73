/*
 * log.c — see log.h.
 *
 * Each line is built in a thread-local buffer and written with a single write(2) to stderr.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "util/buf.h"
#include "util/xalloc.h"

static enum log_level min_level = LOG_INFO;
static bool as_json = true;
static _Thread_local const char *current_request_id;
/* Each thread builds its lines in its own buffer, freed when the thread exits (line_key). */
static _Thread_local struct buf *line_buf;
static pthread_key_t line_key;
static pthread_once_t line_key_once = PTHREAD_ONCE_INIT;

static const char *const level_names[] = {
    [LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn", [LOG_ERROR] = "error"};

void log_init(enum log_level level, enum log_format format)
{
    min_level = level;
    as_json = format == LOG_FORMAT_JSON || (format == LOG_FORMAT_AUTO && !isatty(STDERR_FILENO));
}

bool log_enabled(enum log_level level)
{
    return level >= min_level;
}

void log_set_request_id(const char *request_id)
{
    current_request_id = request_id;
}

const char *log_request_id(void)
{
    return current_request_id;
}

static void free_line_buf(void *b)
{
    buf_release(b);
    free(b);
}

static void create_line_key(void)
{
    pthread_key_create(&line_key, free_line_buf);
}

/* The calling thread's line buffer, made on first use. */
static struct buf *thread_line(void)
{
    if (!line_buf) {
        pthread_once(&line_key_once, create_line_key);
        line_buf = xcalloc(1, sizeof *line_buf);
        pthread_setspecific(line_key, line_buf);
    }
    return line_buf;
}

static void put_time(struct buf *b)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    buf_grow(b, 32);
    b->len += strftime(b->data + b->len, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(b, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void begin_line(struct buf *line, enum log_level level)
{
    buf_reset(line);
    if (as_json) {
        buf_puts(line, "{\"time\":\"");
        put_time(line);
        buf_printf(line, "\",\"level\":\"%s\"", level_names[level]);
        if (current_request_id) {
            buf_puts(line, ",\"request_id\":");
            json_put_string(line, current_request_id, strlen(current_request_id));
        }
    } else {
        put_time(line);
        buf_printf(line, " %-5s", level_names[level]);
        if (current_request_id)
            buf_printf(line, " [%s]", current_request_id);
    }
}

static void put_msg(struct buf *line, const char *msg, size_t len)
{
    if (as_json) {
        buf_puts(line, ",\"msg\":");
        json_put_string(line, msg, len);
    } else {
        buf_putc(line, ' ');
        buf_append(line, msg, len);
    }
}

static void end_line(struct buf *line)
{
    buf_puts(line, as_json ? "}\n" : "\n");
    const char *p = line->data;
    size_t left = line->len;
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, p, left);
        if (n <= 0)
            return; /* nowhere left to report it */
        p += n;
        left -= (size_t)n;
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    struct buf *line = thread_line();
    begin_line(line, level);
    put_msg(line, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    end_line(line);
}

void log_fields(enum log_level level, const char *msg, const struct log_field *fields, size_t n)
{
    if (!log_enabled(level))
        return;
    struct buf *line = thread_line();
    begin_line(line, level);
    put_msg(line, msg, strlen(msg));
    for (size_t i = 0; i < n; i++) {
        const struct log_field *f = &fields[i];
        if (as_json) {
            buf_printf(line, ",\"%s\":", f->key);
            if (f->str)
                json_put_string(line, f->str, strlen(f->str));
            else
                buf_printf(line, "%lld", f->num);
        } else if (f->str) {
            buf_printf(line, " %s=%s", f->key, f->str);
        } else {
            buf_printf(line, " %s=%lld", f->key, f->num);
        }
    }
    end_line(line);
}
