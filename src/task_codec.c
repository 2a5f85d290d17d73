/*
 * task_codec.c — see task_codec.h. JSON reading is jansson's: it rejects invalid UTF-8, "\u0000"
 * inside strings (which no database text column can hold), and nesting beyond its depth limit.
 *
 * jansson keeps one value per exact key (the last) and iterates keys in the order they were
 * first seen, so it cannot say which of "title" and "Title" came last. After jansson has
 * accepted the whole body, a small scanner walks the members of the top-level object in body
 * order; the value of each member that names a task field is read again by jansson on its own.
 */
#include "task_codec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util/array.h"
#include "util/xalloc.h"

enum field { FIELD_TITLE, FIELD_PRIORITY, FIELD_COMPLETE, FIELD_COUNT };

/* Accepted key spellings (compared ASCII case-insensitively) and the field each sets. */
static const struct {
    const char *key;
    enum field field;
} field_keys[] = {
    {"title", FIELD_TITLE},
    {"priority", FIELD_PRIORITY},
    {"complete", FIELD_COMPLETE},
    {"completed", FIELD_COMPLETE},
};

/* A span of the body: [p, end). */
struct span {
    const char *p;
    const char *end;
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

/* ---- the member scanner (its input is text jansson has accepted) ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p is at a '"': returns the byte after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* p is at the first byte of a value: returns the byte after it, or NULL. */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        size_t depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

/*
 * Steps to the next member of the object; *cur starts just after the '{'. Returns 1 with the
 * key (quotes included) and value spans set, 0 at the closing '}', -1 if the text is not what
 * jansson accepted (a bug; the caller refuses the body).
 */
static int next_member(const char **cur, const char *end, struct span *key, struct span *value)
{
    const char *p = skip_ws(*cur, end);
    if (p < end && *p == ',')
        p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return 0;
    if (p >= end || *p != '"')
        return -1;
    key->p = p;
    key->end = p = skip_string(p, end);
    if (!p)
        return -1;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return -1;
    value->p = p = skip_ws(p + 1, end);
    value->end = p = skip_value(p, end);
    if (!p)
        return -1;
    *cur = p;
    return 1;
}

static bool ascii_case_equal(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* The field a key names (quotes included in the span; escapes such as "\u0054itle" decoded),
 * or FIELD_COUNT for a key that names none. */
static enum field key_field(struct span key)
{
    const char *name = key.p + 1;
    size_t len = (size_t)(key.end - key.p) - 2;
    json_t *decoded = NULL;
    enum field f = FIELD_COUNT;

    if (memchr(name, '\\', len)) {
        decoded = json_loadb(key.p, (size_t)(key.end - key.p), JSON_DECODE_ANY, NULL);
        if (!json_is_string(decoded))
            goto out;
        name = json_string_value(decoded);
        len = json_string_length(decoded);
    }
    for (size_t i = 0; i < ARRAY_SIZE(field_keys); i++) {
        if (len == strlen(field_keys[i].key) && ascii_case_equal(name, field_keys[i].key, len)) {
            f = field_keys[i].field;
            break;
        }
    }
out:
    json_decref(decoded);
    return f;
}

/* ---- merging ---- */

/* The last non-null value of each field seen so far (references owned). */
struct merged {
    json_t *value[FIELD_COUNT];
};

/* Checks the type of one occurrence (any occurrence, as Go's decoder does) and keeps it. */
static int merge_value(struct merged *m, enum field field, json_t *value, char *err, size_t errlen)
{
    switch (field) {
    case FIELD_TITLE:
        if (!json_is_string(value))
            return fail(err, errlen, "title must be a string");
        break;
    case FIELD_PRIORITY: {
        if (!json_is_integer(value))
            return fail(err, errlen, "priority must be an integer");
        json_int_t n = json_integer_value(value);
        if (n < INT32_MIN || n > INT32_MAX)
            return fail(err, errlen, "priority must be between -2147483648 and 2147483647");
        break;
    }
    case FIELD_COMPLETE:
        if (!json_is_boolean(value))
            return fail(err, errlen, "complete must be true or false");
        break;
    case FIELD_COUNT:
        return fail(err, errlen, "unknown field");
    }
    json_decref(m->value[field]);
    m->value[field] = json_incref(value);
    return 0;
}

/* Walks the members of the object in body order; the last occurrence of a field wins. */
static int merge_members(const char *body, size_t len, struct merged *m, char *err, size_t errlen)
{
    const char *end = body + len;
    const char *cur = skip_ws(body, end);
    struct span key, value;
    int more;

    if (cur >= end || *cur != '{')
        return fail(err, errlen, "request body must be a JSON object");
    cur++;
    while ((more = next_member(&cur, end, &key, &value)) == 1) {
        enum field f = key_field(key);
        if (f == FIELD_COUNT)
            continue;
        json_t *v = json_loadb(value.p, (size_t)(value.end - value.p), JSON_DECODE_ANY, NULL);
        if (!v)
            return fail(err, errlen, "invalid JSON");
        /* null is "no value here": an earlier value stays (Go's decoder does the same). */
        int rc = json_is_null(v) ? 0 : merge_value(m, f, v, err, errlen);
        json_decref(v);
        if (rc != 0)
            return -1;
    }
    return more == 0 ? 0 : fail(err, errlen, "invalid JSON");
}

/* The rules on the merged result: the title's content, and what each mode needs. */
static int finish(const struct merged *m, enum task_decode_mode mode, struct task_input *in,
                  char *err, size_t errlen)
{
    struct task_patch *p = &in->patch;
    const json_t *title = m->value[FIELD_TITLE];

    if (title) {
        size_t len = json_string_length(title);
        if (len == 0)
            return fail(err, errlen, "title must not be empty");
        if (len > TASK_TITLE_MAX) {
            snprintf(err, errlen, "title must be at most %d bytes", TASK_TITLE_MAX);
            return -1;
        }
        in->owned = xstrndup(json_string_value(title), len);
        p->value.title = in->owned;
        p->value.title_len = len;
        p->has_title = true;
    }
    if (m->value[FIELD_PRIORITY]) {
        p->value.priority = (int32_t)json_integer_value(m->value[FIELD_PRIORITY]);
        p->has_priority = true;
    }
    if (m->value[FIELD_COMPLETE]) {
        p->value.complete = json_is_true(m->value[FIELD_COMPLETE]);
        p->has_complete = true;
    }
    if (mode != TASK_DECODE_PATCH && !p->has_title)
        return fail(err, errlen, "title is required");
    if (mode == TASK_DECODE_PATCH && !p->has_title && !p->has_priority && !p->has_complete)
        return fail(err, errlen, "nothing to update: give title, priority or complete");
    if (mode != TASK_DECODE_PATCH)
        p->has_priority = p->has_complete = true; /* absent means 0 / false */
    return 0;
}

int task_decode(const char *body, size_t len, enum task_decode_mode mode, struct task_input *in,
                char *err, size_t errlen)
{
    struct merged m = {{NULL}};
    json_error_t jerr;
    json_t *root;
    int rc = -1;

    memset(in, 0, sizeof *in);
    if (len == 0)
        return fail(err, errlen, "request body must be a JSON object");
    root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        make_printable(err);
        return -1;
    }
    if (!json_is_object(root)) {
        fail(err, errlen, "request body must be a JSON object");
        goto out;
    }
    if (merge_members(body, len, &m, err, errlen) != 0)
        goto out;
    rc = finish(&m, mode, in, err, errlen);

out:
    for (int f = 0; f < FIELD_COUNT; f++)
        json_decref(m.value[f]);
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
