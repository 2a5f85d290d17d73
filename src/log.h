/*
 * log.h — one line per event on stderr: JSON objects (for CloudWatch and log shippers) or
 * human-readable text on a terminal.
 *
 * Each line carries the time, the level, the request id of the request the calling thread is
 * serving (if any; see log_set_request_id) and the message. In text, control characters in the
 * message, the request id and field values are written as \xHH: a value a client sent cannot
 * split a line or reach the terminal as an escape sequence (JSON escapes them anyway). Never pass a
 * secret in a message: the log goes wherever the operator ships it.
 *
 * log_init is called once at start-up, before threads; the rest is thread-safe (lines from
 * different threads never interleave).
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_format {
    LOG_FORMAT_AUTO, /* json unless stderr is a terminal */
    LOG_FORMAT_JSON,
    LOG_FORMAT_TEXT,
};

enum log_level {
    LOG_DEBUG,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
};

void log_init(enum log_level level, enum log_format format);

/*
 * Buffering for a busy server (serve turns it on): info and debug lines are collected and
 * written together at most a few milliseconds later (or at 32 KiB), which saves a write(2) per
 * request; a warning or an error writes everything before it and itself at once.
 * log_buffer_stop writes what is left (call it before exit). A crash loses at most the last
 * few milliseconds of info lines.
 */
void log_buffer_start(void);
void log_buffer_stop(void);

/* Whether a message at level would be written (to skip building it). */
bool log_enabled(enum log_level level);

/* Writes one line with "msg" formatted by printf rules. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* The request id the calling thread is working for; NULL when it is between requests. The
 * string must stay valid until the next call. */
void log_set_request_id(const char *request_id);
const char *log_request_id(void);

/* A field of an access-log line; str NULL means the value is the number num. */
struct log_field {
    const char *key;
    const char *str;
    long long num;
};

/* Writes one line at level with message msg and the given extra fields (the access log). */
void log_fields(enum log_level level, const char *msg, const struct log_field *fields, size_t n);

#endif
