/*
 * test_log.c — the log's lines (log.h), read from a file standing in for stderr: JSON lines a
 * parser reads back exactly, levels, request ids, access-log fields, text lines that keep a
 * client's control characters away from the terminal, the buffer's ordering, and threads whose
 * lines never interleave.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "util/buf.h"

static FILE *captured; /* stderr's stand-in */
static long read_upto; /* what earlier calls of take() returned */

/* What was written to stderr since the last call (the caller frees). */
static char *take(void)
{
    fflush(captured);
    long end = ftell(captured);
    struct buf b = BUF_INIT;
    buf_grow(&b, (size_t)(end - read_upto));
    b.len = (size_t)pread(fileno(captured), b.data, (size_t)(end - read_upto), read_upto);
    b.data[b.len] = '\0';
    read_upto = end;
    return buf_detach(&b, NULL);
}

/* Parses the one JSON line in text; NULL (and a diagnostic) if it is not exactly one. */
static json_t *one_json_line(const char *text)
{
    size_t len = strlen(text);
    json_error_t error;
    if (len == 0 || text[len - 1] != '\n' || strchr(text, '\n') != text + len - 1) {
        printf("#   not one line: '%s'\n", text);
        return NULL;
    }
    json_t *v = json_loadb(text, len - 1, 0, &error);
    if (!v)
        printf("#   not JSON (%s): %s", error.text, text);
    return v;
}

static const char *field(json_t *line, const char *key)
{
    return json_string_value(json_object_get(line, key));
}

static void test_json_lines(void)
{
    log_init(LOG_INFO, LOG_FORMAT_JSON);
    log_info("hello %d", 42);
    char *text = take();
    json_t *line = one_json_line(text);
    is_str(field(line, "msg"), "hello 42", "a JSON line carries the message");
    is_str(field(line, "level"), "info", "and the level");
    const char *time = field(line, "time");
    ok(time && strlen(time) == 24 && time[10] == 'T' && time[19] == '.' && time[23] == 'Z',
       "and the time, as 2024-01-02T03:04:05.678Z");
    ok(json_object_get(line, "request_id") == NULL, "and no request id between requests");
    json_decref(line);
    free(text);

    log_debug("not shown");
    text = take();
    is_str(text, "", "a level below the minimum writes nothing");
    ok(!log_enabled(LOG_DEBUG) && log_enabled(LOG_ERROR), "log_enabled says so");
    free(text);

    log_set_request_id("req-1");
    log_error("quote \" backslash \\ newline \n escape \x1b end");
    log_set_request_id(NULL);
    text = take();
    line = one_json_line(text);
    is_str(field(line, "request_id"), "req-1", "the request id of the calling thread");
    is_str(field(line, "msg"), "quote \" backslash \\ newline \n escape \x1b end",
           "a message with quotes and control characters reads back exactly, on one line");
    json_decref(line);
    free(text);

    struct log_field fields[] = {
        {"path", "/a\"b\x01", 0},
        {"status", NULL, 404},
        {"low", NULL, -9223372036854775807LL - 1},
        {"zero", NULL, 0},
    };
    log_fields(LOG_INFO, "request", fields, 4);
    text = take();
    line = one_json_line(text);
    is_str(field(line, "path"), "/a\"b\x01", "a string field reads back exactly");
    ok(json_integer_value(json_object_get(line, "status")) == 404 &&
           json_integer_value(json_object_get(line, "low")) == -9223372036854775807LL - 1 &&
           json_is_integer(json_object_get(line, "zero")),
       "number fields are JSON integers, the most negative one included");
    json_decref(line);
    free(text);
}

static void test_text_lines(void)
{
    log_init(LOG_INFO, LOG_FORMAT_TEXT);
    struct log_field fields[] = {{"path", "/a\x1b[31mb\r\nX\x7f", 0}, {"status", NULL, 400}};
    log_set_request_id("id\x1b]0;x\x07");
    log_fields(LOG_INFO, "request \x1b[2J", fields, 2);
    log_set_request_id(NULL);
    char *text = take();
    size_t len = strlen(text);
    bool clean = len > 0 && text[len - 1] == '\n';
    for (size_t i = 0; i + 1 < len; i++)
        clean = clean && (unsigned char)text[i] >= 0x20 && text[i] != 0x7f;
    ok(clean, "a text line holds no control character but its final newline");
    ok(strstr(text, " info  [id\\x1b]0;x\\x07] request \\x1b[2J path=/a\\x1b[31mb\\x0d\\x0aX\\x7f "
                    "status=400\n") != NULL,
       "they are written as \\xHH in the request id, the message and the fields");
    if (!clean)
        printf("#   got: %s", text);
    free(text);

    log_warn("plain %s", "text");
    text = take();
    ok(strstr(text, " warn  plain text\n") != NULL, "a plain message is written as it is");
    free(text);
}

static void test_buffer_order(void)
{
    log_init(LOG_INFO, LOG_FORMAT_TEXT);
    log_buffer_start();
    log_info("one");
    log_info("two");
    log_warn("three");
    char *text = take(); /* a warning writes what waits before it, then itself, at once */
    const char *one = strstr(text, " one\n"), *two = strstr(text, " two\n"),
               *three = strstr(text, " three\n");
    ok(one && two && three && one < two && two < three,
       "a warning is written at once, after the info lines before it, in order");
    free(text);
    log_info("four");
    log_buffer_stop();
    text = take();
    ok(strstr(text, " four\n") != NULL, "log_buffer_stop writes what is left");
    free(text);
}

#define WRITERS 4
#define LINES   2000

static void *writer(void *arg)
{
    long id = *(const long *)arg;
    char rid[16];
    snprintf(rid, sizeof rid, "w%ld", id);
    log_set_request_id(rid);
    for (long i = 0; i < LINES; i++) {
        struct log_field f[] = {{"writer", NULL, id}, {"seq", NULL, i}, {"pad", rid, 0}};
        log_fields(i % 97 == 0 ? LOG_WARN : LOG_INFO, "line", f, 3);
    }
    return NULL;
}

static void test_threads(void)
{
    log_init(LOG_INFO, LOG_FORMAT_JSON);
    log_buffer_start();
    pthread_t t[WRITERS];
    static const long ids[WRITERS] = {0, 1, 2, 3};
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&t[i], NULL, writer, (void *)&ids[i]);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    log_buffer_stop();
    char *text = take();
    long next[WRITERS] = {0};
    int lines = 0, bad = 0;
    for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        json_error_t error;
        json_t *v = json_loadb(p, (size_t)(nl - p), 0, &error);
        json_int_t w = json_integer_value(json_object_get(v, "writer"));
        json_int_t seq = json_integer_value(json_object_get(v, "seq"));
        if (!v || w < 0 || w >= WRITERS || seq != next[w])
            bad++;
        else
            next[w]++;
        lines++;
        json_decref(v);
    }
    is_int(lines, WRITERS * LINES, "every line of 4 threads is written once");
    is_int(bad, 0, "each a whole JSON line, each thread's in the order it wrote them");
    free(text);
}

int main(void)
{
    captured = tmpfile();
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(captured), STDERR_FILENO);

    test_json_lines();
    test_text_lines();
    test_buffer_order();
    test_threads();

    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(captured);
    return done_testing();
}
