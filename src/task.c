/*
 * task.c — see task.h. JSON reading is jansson's: it rejects invalid UTF-8, "\u0000" inside
 * strings (which no database text column can hold), and nesting beyond its depth limit.
 */
#include "task.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "util/xalloc.h"

enum field { FIELD_TITLE, FIELD_PRIORITY, FIELD_COMPLETE, FIELD_COUNT };

/* Accepted key spellings (compared case-insensitively) and the field each sets. */
static const struct {
    const char *key;
    enum field field;
} field_keys[] = {
    {"title", FIELD_TITLE},
    {"priority", FIELD_PRIORITY},
    {"complete", FIELD_COMPLETE},
    {"completed", FIELD_COMPLETE},
};

/* jansson quotes the offending input in its messages ("invalid escape near '"\\ <LF>'"):
 * control characters (a newline, an escape sequence for a terminal) become '?', so a message
 * stays one line wherever it is shown or logged. */
static void make_printable(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

static int set_field(struct task_input *in, enum field field, json_t *value, char *err,
                     size_t errlen)
{
    struct task_patch *p = &in->patch;
    switch (field) {
    case FIELD_TITLE: {
        if (!json_is_string(value))
            return fail(err, errlen, "title must be a string");
        size_t len = json_string_length(value);
        if (len == 0)
            return fail(err, errlen, "title must not be empty");
        if (len > TASK_TITLE_MAX) {
            snprintf(err, errlen, "title must be at most %d bytes", TASK_TITLE_MAX);
            return -1;
        }
        in->owned = xstrndup(json_string_value(value), len);
        p->value.title = in->owned;
        p->value.title_len = len;
        p->has_title = true;
        return 0;
    }
    case FIELD_PRIORITY: {
        if (!json_is_integer(value))
            return fail(err, errlen, "priority must be an integer");
        json_int_t n = json_integer_value(value);
        if (n < INT32_MIN || n > INT32_MAX)
            return fail(err, errlen, "priority must be between -2147483648 and 2147483647");
        p->value.priority = (int32_t)n;
        p->has_priority = true;
        return 0;
    }
    case FIELD_COMPLETE:
        if (!json_is_boolean(value))
            return fail(err, errlen, "complete must be true or false");
        p->value.complete = json_is_true(value);
        p->has_complete = true;
        return 0;
    case FIELD_COUNT:
        break;
    }
    return fail(err, errlen, "unknown field");
}

static int decode_object(json_t *root, enum task_decode_mode mode, struct task_input *in, char *err,
                         size_t errlen)
{
    bool seen[FIELD_COUNT] = {false};
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        for (size_t i = 0; i < sizeof field_keys / sizeof field_keys[0]; i++) {
            if (strcasecmp(key, field_keys[i].key) != 0)
                continue;
            enum field f = field_keys[i].field;
            if (seen[f])
                return fail(err, errlen, "a field appears more than once");
            seen[f] = true;
            if (!json_is_null(value) && set_field(in, f, value, err, errlen) != 0)
                return -1;
        }
    }
    const struct task_patch *p = &in->patch;
    if (mode != TASK_DECODE_PATCH && !p->has_title)
        return fail(err, errlen, "title is required");
    if (mode == TASK_DECODE_PATCH && !p->has_title && !p->has_priority && !p->has_complete)
        return fail(err, errlen, "nothing to update: give title, priority or complete");
    if (mode != TASK_DECODE_PATCH)
        in->patch.has_priority = in->patch.has_complete = true; /* absent means 0 / false */
    return 0;
}

int task_decode(const char *body, size_t len, enum task_decode_mode mode, struct task_input *in,
                char *err, size_t errlen)
{
    memset(in, 0, sizeof *in);
    if (len == 0)
        return fail(err, errlen, "request body must be a JSON object");
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        make_printable(err);
        return -1;
    }
    int rc = json_is_object(root) ? decode_object(root, mode, in, err, errlen)
                                  : fail(err, errlen, "request body must be a JSON object");
    json_decref(root);
    if (rc != 0)
        task_input_release(in);
    return rc;
}

void task_input_release(struct task_input *in)
{
    free(in->owned);
    memset(in, 0, sizeof *in);
}

void task_encode(struct buf *out, const struct task *task)
{
    buf_printf(out, "{\"id\":%lld,\"priority\":%d,\"title\":", (long long)task->id,
               (int)task->priority);
    json_put_string(out, task->title, task->title_len);
    buf_puts(out, task->complete ? ",\"complete\":true}" : ",\"complete\":false}");
}

int task_id_parse(const char *seg, size_t len, int64_t *id)
{
    if (len == 0)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return -1;
        if (n > (INT64_MAX - 9) / 10)
            n = INT64_MAX; /* saturate: no task has this id */
        else
            n = n * 10 + (seg[i] - '0');
    }
    *id = n;
    return 0;
}
