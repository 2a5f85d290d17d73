/*
 * fuzz_task.c — libFuzzer target for the JSON decoding of tasks (task_decode in src/task_codec.c).
 *
 * Every input is decoded in the three modes (POST, PUT, PATCH). Besides "does not crash"
 * (ASan, UBSan), it checks task.h's contract: an accepted body has a title of 1..TASK_TITLE_MAX
 * bytes with no NUL when one is required, and encoding the decoded task gives JSON that jansson
 * reads back to the same title, byte for byte; a refused body has a one-line message. The input
 * is also read as a path segment by task_id_parse.
 *
 * The same input also drives the key-merge path against a model: read as pairs of bytes (key
 * spelling, value) from two tables, it becomes an object such as
 * {"title":"","TITLE":null,"completed":true,"Title":"a"}; the decoder's answer must be what
 * Go's rules give when applied member by member (a null changes nothing, a wrong type fails,
 * the last value of a field in any spelling wins, the title's length is checked at the end).
 */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "task_codec.h"
#include "util/array.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes the decoded task and reads it back: the title and numbers must survive unchanged. */
static void task_check_round_trip(const struct task_patch *p)
{
    struct task t = p->value;
    struct buf out = BUF_INIT;
    json_error_t jerr;

    t.id = 7;
    if (!p->has_title) {
        t.title = "x";
        t.title_len = 1;
    }
    task_encode(&out, &t);
    json_t *doc = json_loadb(out.data, out.len, 0, &jerr);
    assert(doc && json_is_object(doc));
    json_t *title = json_object_get(doc, "title");
    assert(json_is_string(title) && json_string_length(title) == t.title_len);
    assert(memcmp(json_string_value(title), t.title, t.title_len) == 0);
    assert(json_integer_value(json_object_get(doc, "id")) == 7);
    assert(json_integer_value(json_object_get(doc, "priority")) == t.priority);
    assert(json_is_true(json_object_get(doc, "complete")) == t.complete);
    json_decref(doc);
    buf_release(&out);
}

enum task_fuzz_field { TF_NONE = -1, TF_TITLE, TF_PRIORITY, TF_COMPLETE };

/* Key spellings as they appear in the body (JSON escapes included). */
static const struct {
    const char *text;
    enum task_fuzz_field field;
} task_fuzz_keys[] = {
    {"title", TF_TITLE},
    {"Title", TF_TITLE},
    {"TITLE", TF_TITLE},
    {"tItLe", TF_TITLE},
    {"t\\u0069tle", TF_TITLE},
    {"\\u0054ITLE", TF_TITLE},
    {"priority", TF_PRIORITY},
    {"PRIORITY", TF_PRIORITY},
    {"Priority", TF_PRIORITY},
    {"complete", TF_COMPLETE},
    {"Complete", TF_COMPLETE},
    {"completed", TF_COMPLETE},
    {"COMPLETED", TF_COMPLETE},
    {"cOmPlEtEd", TF_COMPLETE},
    {"id", TF_NONE},
    {"ID", TF_NONE},
    {"titles", TF_NONE},
    {"title ", TF_NONE},
    {"complet", TF_NONE},
    {"t\\u0131tle", TF_NONE},
    {"", TF_NONE},
};

enum task_fuzz_kind { TV_NULL, TV_STRING, TV_INT, TV_BIG, TV_BOOL, TV_OTHER };

/* Values: their text, and what the model knows of them. TV_BIG is an integer outside int32. */
static const struct {
    const char *text;
    enum task_fuzz_kind kind;
    const char *str; /* TV_STRING: the decoded string; NULL for the over-long title */
    long long num;   /* TV_INT, TV_BOOL */
} task_fuzz_values[] = {
    {"null", TV_NULL, NULL, 0},
    {"\"\"", TV_STRING, "", 0},
    {"\"a\"", TV_STRING, "a", 0},
    {"\"b\\u0041\\\"}{\"", TV_STRING, "bA\"}{", 0},
    {"\"%s \\u00e9\"", TV_STRING, "%s \xc3\xa9", 0},
    {"\"x...x\"", TV_STRING, NULL, 0}, /* replaced by TASK_TITLE_MAX + 1 bytes */
    {"0", TV_INT, NULL, 0},
    {"-7", TV_INT, NULL, -7},
    {"2147483647", TV_INT, NULL, 2147483647},
    {"-2147483648", TV_INT, NULL, -2147483647 - 1},
    {"2147483648", TV_BIG, NULL, 0},
    {"-9000000000", TV_BIG, NULL, 0},
    {"1.5", TV_OTHER, NULL, 0},
    {"1e2", TV_OTHER, NULL, 0},
    {"true", TV_BOOL, NULL, 1},
    {"false", TV_BOOL, NULL, 0},
    {"[]", TV_OTHER, NULL, 0},
    {"{\"title\":\"n\",\"a\":[{}]}", TV_OTHER, NULL, 0},
};

#define TASK_FUZZ_NKEYS   (sizeof task_fuzz_keys / sizeof task_fuzz_keys[0])
#define TASK_FUZZ_NVALUES (sizeof task_fuzz_values / sizeof task_fuzz_values[0])
#define TASK_FUZZ_LONG    5 /* index of the over-long title */

/* The expected outcome of one mode: an error message, or the merged patch. */
struct task_fuzz_expect {
    const char *err;
    bool has[3];
    size_t value[3]; /* index into task_fuzz_values of the winning value of each field */
};

static const char *task_fuzz_type_error(enum task_fuzz_field f, enum task_fuzz_kind k)
{
    switch (f) {
    case TF_TITLE:
        return k == TV_STRING ? NULL : "title must be a string";
    case TF_PRIORITY:
        if (k == TV_BIG)
            return "priority must be between -2147483648 and 2147483647";
        return k == TV_INT ? NULL : "priority must be an integer";
    case TF_COMPLETE:
        return k == TV_BOOL ? NULL : "complete must be true or false";
    case TF_NONE:
        break;
    }
    return NULL;
}

static size_t task_fuzz_title_len(size_t v)
{
    return v == TASK_FUZZ_LONG ? TASK_TITLE_MAX + 1 : strlen(task_fuzz_values[v].str);
}

/* Applies Go's rules to the members in order, then our rules for mode. */
static void task_fuzz_model(const uint8_t *data, size_t n, enum task_decode_mode mode,
                            struct task_fuzz_expect *e)
{
    memset(e, 0, sizeof *e);
    for (size_t i = 0; i + 1 < n; i += 2) {
        enum task_fuzz_field f = task_fuzz_keys[data[i] % TASK_FUZZ_NKEYS].field;
        size_t v = (data[i + 1] & 0x7f) % TASK_FUZZ_NVALUES;
        enum task_fuzz_kind k = task_fuzz_values[v].kind;
        if (f == TF_NONE || k == TV_NULL)
            continue;
        e->err = task_fuzz_type_error(f, k);
        if (e->err)
            return;
        e->has[f] = true;
        e->value[f] = v;
    }
    if (e->has[TF_TITLE]) {
        size_t len = task_fuzz_title_len(e->value[TF_TITLE]);
        if (len == 0) {
            e->err = "title must not be empty";
            return;
        }
        if (len > TASK_TITLE_MAX) {
            e->err = "title must be at most 1024 bytes";
            return;
        }
    }
    if (mode != TASK_DECODE_PATCH && !e->has[TF_TITLE])
        e->err = "title is required";
    else if (mode == TASK_DECODE_PATCH && !e->has[0] && !e->has[1] && !e->has[2])
        e->err = "nothing to update: give title, priority or complete";
}

/* Builds the object from pairs of bytes (bit 7 of the value byte adds white space). */
static void task_fuzz_body(const uint8_t *data, size_t n, struct buf *body)
{
    buf_putc(body, '{');
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t v = (data[i + 1] & 0x7f) % TASK_FUZZ_NVALUES;
        const char *ws = data[i + 1] & 0x80 ? " \n\t" : "";
        if (i > 0)
            buf_puts(body, ",");
        buf_printf(body, "%s\"%s\"%s:%s", ws, task_fuzz_keys[data[i] % TASK_FUZZ_NKEYS].text, ws,
                   ws);
        if (v == TASK_FUZZ_LONG)
            buf_printf(body, "\"%0*d\"", TASK_TITLE_MAX + 1, 0);
        else
            buf_puts(body, task_fuzz_values[v].text);
        buf_puts(body, ws);
    }
    buf_putc(body, '}');
}

static void task_fuzz_merge(const uint8_t *data, size_t size)
{
    static const enum task_decode_mode modes[] = {TASK_DECODE_CREATE, TASK_DECODE_PATCH};
    size_t n = size > 128 ? 128 : size;
    struct buf body = BUF_INIT;
    task_fuzz_body(data, n, &body);
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        struct task_fuzz_expect e;
        struct task_input in;
        char err[256] = "";
        task_fuzz_model(data, n, modes[m], &e);
        int rc = task_decode(body.data, body.len, modes[m], &in, err, sizeof err);
        if (e.err) {
            assert(rc == -1 && strcmp(err, e.err) == 0);
            continue;
        }
        assert(rc == 0);
        const struct task_patch *p = &in.patch;
        bool defaults = modes[m] != TASK_DECODE_PATCH;
        assert(p->has_title == e.has[TF_TITLE]);
        assert(p->has_priority == (e.has[TF_PRIORITY] || defaults));
        assert(p->has_complete == (e.has[TF_COMPLETE] || defaults));
        if (e.has[TF_TITLE]) {
            const char *want = task_fuzz_values[e.value[TF_TITLE]].str;
            assert(p->value.title_len == strlen(want));
            assert(memcmp(p->value.title, want, p->value.title_len) == 0);
        }
        assert(p->value.priority ==
               (e.has[TF_PRIORITY] ? task_fuzz_values[e.value[TF_PRIORITY]].num : 0));
        assert(p->value.complete ==
               (e.has[TF_COMPLETE] && task_fuzz_values[e.value[TF_COMPLETE]].num != 0));
        task_input_release(&in);
    }
    buf_release(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum task_decode_mode modes[] = {TASK_DECODE_CREATE, TASK_DECODE_REPLACE,
                                                  TASK_DECODE_PATCH};
    for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
        struct task_input in;
        char err[256] = "";
        int rc = task_decode((const char *)data, size, modes[m], &in, err, sizeof err);
        if (rc != 0) {
            assert(rc == -1 && err[0] != '\0' && strchr(err, '\n') == NULL);
            assert(in.owned == NULL && !in.patch.has_title);
            continue;
        }
        const struct task_patch *p = &in.patch;
        if (modes[m] != TASK_DECODE_PATCH)
            assert(p->has_title && p->has_priority && p->has_complete);
        else
            assert(p->has_title || p->has_priority || p->has_complete);
        if (p->has_title) {
            assert(p->value.title_len >= 1 && p->value.title_len <= TASK_TITLE_MAX);
            assert(memchr(p->value.title, '\0', p->value.title_len) == NULL);
            assert(p->value.title[p->value.title_len] == '\0');
        }
        task_check_round_trip(p);
        task_input_release(&in);
    }

    task_fuzz_merge(data, size);

    int64_t id = -1;
    if (task_id_parse((const char *)data, size, &id) == 0) {
        assert(size > 0 && id >= 0);
        for (size_t i = 0; i < size; i++)
            assert(data[i] >= '0' && data[i] <= '9');
    }
    return 0;
}
