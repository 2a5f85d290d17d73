/*
 * log.c — see log.h.
 *
 * Each line is built in a thread-local buffer. Unbuffered (the default), each line is one
 * write(2) to stderr. Once log_buffer_start has run (serve does), info and debug lines are
 * appended to a shared buffer instead, written out when it holds LOG_BUFFER_MAX bytes or
 * LOG_FLUSH_MS after its first line (by a flusher thread), and before any warning or error line,
 * which is still written at once: errors are never delayed, lines never reordered, and a crash
 * loses at most the last LOG_FLUSH_MS of info lines. log_buffer_stop writes what is left.
 */

#include "log.h"

#include <errno.h>
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

#define LOG_BUFFER_MAX (32 * 1024)
#define LOG_FLUSH_MS   5

/* The shared buffer: lines in arrival order. write_lock keeps whole buffers in order: it is taken
 * (under lock) before the lock is dropped to write one out. */
static struct {
    pthread_mutex_t lock, write_lock;
    pthread_cond_t wake;
    struct buf pending, spare;
    bool on, stop;
    pthread_t flusher;
} out = {PTHREAD_MUTEX_INITIALIZER,
         PTHREAD_MUTEX_INITIALIZER,
         PTHREAD_COND_INITIALIZER,
         BUF_INIT,
         BUF_INIT,
         false,
         false,
         0};

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

/* The time as 2024-01-02T03:04:05.678Z; the part up to the seconds is formatted once a second
 * per thread (this runs for every request). */
static void put_time(struct buf *b)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    long ms = ts.tv_nsec / 1000000;
    char frac[6] = {
        '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z', 0};
    buf_append(b, cached, cached_len);
    buf_append(b, frac, 5);
}

static void put_num(struct buf *b, long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    buf_append(b, tmp + i, sizeof tmp - i);
}

/* Text for a text-format line: control characters (C0 and DEL) become \xHH, so a value a client
 * chose (a request path) can neither split the line nor send escape sequences to the terminal
 * the log is read on. */
static void put_text(struct buf *line, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        buf_append(line, s + start, i - start);
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        buf_append(line, esc, sizeof esc);
        start = i + 1;
    }
    buf_append(line, s + start, len - start);
}

static void begin_line(struct buf *line, enum log_level level)
{
    buf_reset(line);
    if (as_json) {
        buf_puts(line, "{\"time\":\"");
        put_time(line);
        buf_puts(line, "\",\"level\":\"");
        buf_puts(line, level_names[level]);
        buf_putc(line, '"');
        if (current_request_id) {
            buf_puts(line, ",\"request_id\":");
            json_put_string(line, current_request_id, strlen(current_request_id));
        }
    } else {
        put_time(line);
        buf_printf(line, " %-5s", level_names[level]);
        if (current_request_id) {
            buf_puts(line, " [");
            put_text(line, current_request_id, strlen(current_request_id));
            buf_putc(line, ']');
        }
    }
}

static void put_msg(struct buf *line, const char *msg, size_t len)
{
    if (as_json) {
        buf_puts(line, ",\"msg\":");
        json_put_string(line, msg, len);
    } else {
        buf_putc(line, ' ');
        put_text(line, msg, len);
    }
}

static void write_all(const char *p, size_t left)
{
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report it */
        p += n;
        left -= (size_t)n;
    }
}

/* Called with out.lock held; returns with it released, the pending lines (and then extra, if
 * any) written. */
static void flush_locked(const struct buf *extra)
{
    struct buf full = out.pending;
    out.pending = out.spare;
    out.spare = (struct buf)BUF_INIT;
    pthread_mutex_lock(&out.write_lock);
    pthread_mutex_unlock(&out.lock);
    if (full.len)
        write_all(full.data, full.len);
    if (extra)
        write_all(extra->data, extra->len);
    pthread_mutex_unlock(&out.write_lock);
    buf_reset(&full);
    pthread_mutex_lock(&out.lock);
    if (!out.spare.data)
        out.spare = full; /* keep the memory for the next swap */
    else
        buf_release(&full);
    pthread_mutex_unlock(&out.lock);
}

static void end_line(struct buf *line, enum log_level level)
{
    buf_puts(line, as_json ? "}\n" : "\n");
    pthread_mutex_lock(&out.lock);
    if (!out.on) {
        pthread_mutex_unlock(&out.lock);
        write_all(line->data, line->len);
        return;
    }
    if (level >= LOG_WARN) {
        flush_locked(line);
        return;
    }
    bool first = out.pending.len == 0;
    buf_append(&out.pending, line->data, line->len);
    if (out.pending.len >= LOG_BUFFER_MAX) {
        flush_locked(NULL);
        return;
    }
    if (first)
        pthread_cond_signal(&out.wake);
    pthread_mutex_unlock(&out.lock);
}

static void *flusher(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&out.lock);
    while (!out.stop) {
        if (out.pending.len == 0) {
            pthread_cond_wait(&out.wake, &out.lock);
            continue;
        }
        /* Lines are waiting: give others LOG_FLUSH_MS to join them, then write them all. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += LOG_FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!out.stop && pthread_cond_timedwait(&out.wake, &out.lock, &until) != ETIMEDOUT)
            ;
        flush_locked(NULL);
        pthread_mutex_lock(&out.lock);
    }
    pthread_mutex_unlock(&out.lock);
    return NULL;
}

void log_buffer_start(void)
{
    pthread_mutex_lock(&out.lock);
    bool start = !out.on;
    out.on = true;
    out.stop = false;
    pthread_mutex_unlock(&out.lock);
    if (start && pthread_create(&out.flusher, NULL, flusher, NULL) != 0) {
        pthread_mutex_lock(&out.lock);
        out.on = false;
        pthread_mutex_unlock(&out.lock);
    }
}

void log_buffer_stop(void)
{
    pthread_mutex_lock(&out.lock);
    if (!out.on) {
        pthread_mutex_unlock(&out.lock);
        return;
    }
    out.stop = true;
    pthread_cond_signal(&out.wake);
    pthread_mutex_unlock(&out.lock);
    pthread_join(out.flusher, NULL);
    pthread_mutex_lock(&out.lock);
    out.on = false;
    flush_locked(NULL);
    pthread_mutex_lock(&out.lock);
    buf_release(&out.pending);
    buf_release(&out.spare);
    pthread_mutex_unlock(&out.lock);
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
    end_line(line, level);
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
            buf_puts(line, ",\"");
            buf_puts(line, f->key); /* keys are constants: nothing to escape */
            buf_puts(line, "\":");
            if (f->str)
                json_put_string(line, f->str, strlen(f->str));
            else
                put_num(line, f->num);
        } else if (f->str) {
            buf_printf(line, " %s=", f->key);
            put_text(line, f->str, strlen(f->str));
        } else {
            buf_printf(line, " %s=%lld", f->key, f->num);
        }
    }
    end_line(line, level);
}
