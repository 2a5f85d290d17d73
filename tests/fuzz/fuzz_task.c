/*
 * fuzz_task.c — libFuzzer target for the JSON decoding of tasks (task_decode in src/task.c).
 *
 * Every input is decoded in the three modes (POST, PUT, PATCH). Besides "does not crash"
 * (ASan, UBSan), it checks task.h's contract: an accepted body has a title of 1..TASK_TITLE_MAX
 * bytes with no NUL when one is required, and encoding the decoded task gives JSON that jansson
 * reads back to the same title, byte for byte; a refused body has a one-line message. The input
 * is also read as a path segment by task_id_parse.
 */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"
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

    int64_t id = -1;
    if (task_id_parse((const char *)data, size, &id) == 0) {
        assert(size > 0 && id >= 0);
        for (size_t i = 0; i < size; i++)
            assert(data[i] >= '0' && data[i] <= '9');
    }
    return 0;
}
