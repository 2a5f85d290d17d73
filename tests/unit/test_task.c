/* test_task.c — task JSON decoding rules, encoding, and id parsing. */
#include <stdlib.h>

#include "tap.h"
#include "task.h"

static int decode(const char *body, enum task_decode_mode mode, struct task_input *in, char *err)
{
    return task_decode(body, strlen(body), mode, in, err, 256);
}

static void rejects(const char *body, enum task_decode_mode mode, const char *want_err)
{
    struct task_input in;
    char err[256] = "";
    int rc = decode(body, mode, &in, err);
    char name[512];
    snprintf(name, sizeof name, "rejects %.60s", body);
    ok(rc == -1, name);
    if (want_err)
        is_str(err, want_err, "  with its message");
}

int main(void)
{
    struct task_input in;
    char err[256];

    is_int(
        decode("{\"title\":\"a\",\"priority\":3,\"complete\":true}", TASK_DECODE_CREATE, &in, err),
        0, "full task decodes");
    ok(in.patch.has_title && in.patch.value.title_len == 1 && in.patch.value.priority == 3 &&
           in.patch.value.complete,
       "values are set");
    task_input_release(&in);

    is_int(decode("{\"TiTlE\":\"b\",\"Completed\":true,\"extra\":{\"x\":[1]}}", TASK_DECODE_CREATE,
                  &in, err),
           0, "keys are case-insensitive; completed is complete; unknown keys ignored");
    ok(in.patch.value.complete && in.patch.has_priority && in.patch.value.priority == 0,
       "create defaults priority to 0");
    task_input_release(&in);

    is_int(decode("{\"priority\":null,\"title\":\"c\"}", TASK_DECODE_CREATE, &in, err), 0,
           "null is absent");
    task_input_release(&in);

    is_int(decode("{\"complete\":false}", TASK_DECODE_PATCH, &in, err), 0, "patch of one field");
    ok(!in.patch.has_title && !in.patch.has_priority && in.patch.has_complete,
       "patch sets only what was given");
    task_input_release(&in);

    is_int(decode("{\"priority\":-2147483648,\"title\":\"d\"}", TASK_DECODE_CREATE, &in, err), 0,
           "INT32_MIN priority");
    is_int(in.patch.value.priority, INT32_MIN, "  kept");
    task_input_release(&in);

    rejects("", TASK_DECODE_CREATE, "request body must be a JSON object");
    rejects("[]", TASK_DECODE_CREATE, "request body must be a JSON object");
    rejects("{\"priority\":1}", TASK_DECODE_CREATE, "title is required");
    rejects("{\"priority\":1}", TASK_DECODE_REPLACE, "title is required");
    rejects("{}", TASK_DECODE_PATCH, "nothing to update: give title, priority or complete");
    rejects("{\"title\":\"\"}", TASK_DECODE_CREATE, "title must not be empty");
    rejects("{\"title\":1}", TASK_DECODE_CREATE, "title must be a string");
    rejects("{\"title\":\"x\",\"priority\":2147483648}", TASK_DECODE_CREATE,
            "priority must be between -2147483648 and 2147483647");
    rejects("{\"title\":\"x\",\"priority\":1.0}", TASK_DECODE_CREATE,
            "priority must be an integer");
    rejects("{\"title\":\"x\",\"complete\":1}", TASK_DECODE_CREATE,
            "complete must be true or false");
    rejects("{\"title\":\"x\",\"Title\":\"y\"}", TASK_DECODE_CREATE,
            "a field appears more than once");
    rejects("{\"complete\":true,\"completed\":false}", TASK_DECODE_PATCH,
            "a field appears more than once");
    rejects("{\"title\":\"x\",\"title\":\"y\"}", TASK_DECODE_CREATE, NULL);
    rejects("{\"title\":\"\xc3\x28\"}", TASK_DECODE_CREATE, NULL);
    rejects("{\"title\":\"a\\u0000b\"}", TASK_DECODE_CREATE, NULL);
    rejects("{\"title\":\"x\"} {}", TASK_DECODE_CREATE, NULL);

    char *long_title = malloc(TASK_TITLE_MAX + 32);
    int n = snprintf(long_title, TASK_TITLE_MAX + 32, "{\"title\":\"%0*d\"}", TASK_TITLE_MAX, 0);
    is_int(task_decode(long_title, (size_t)n, TASK_DECODE_CREATE, &in, err, sizeof err), 0,
           "a title of TASK_TITLE_MAX bytes is fine");
    task_input_release(&in);
    n = snprintf(long_title, TASK_TITLE_MAX + 32, "{\"title\":\"%0*d\"}", TASK_TITLE_MAX + 1, 0);
    is_int(task_decode(long_title, (size_t)n, TASK_DECODE_CREATE, &in, err, sizeof err), -1,
           "one byte more is not");
    free(long_title);

    struct buf out = BUF_INIT;
    struct task t = {7, -1, true, "a \"q\" \\ \x01 %s \xf0\x9f\x98\x80", 0};
    t.title_len = strlen(t.title);
    task_encode(&out, &t);
    is_str(out.data,
           "{\"id\":7,\"priority\":-1,\"title\":\"a \\\"q\\\" \\\\ \\u0001 %s \xf0\x9f\x98\x80\","
           "\"complete\":true}",
           "encode escapes only what JSON needs, keys in the original's order");
    buf_release(&out);

    int64_t id;
    ok(task_id_parse("42", 2, &id) == 0 && id == 42, "id 42");
    ok(task_id_parse("0", 1, &id) == 0 && id == 0, "id 0 parses (the store says not found)");
    ok(task_id_parse("99999999999999999999999", 23, &id) == 0 && id == INT64_MAX,
       "huge id saturates");
    ok(task_id_parse("-1", 2, &id) == -1, "negative id is not a number here");
    ok(task_id_parse("1a", 2, &id) == -1, "trailing letters rejected");
    ok(task_id_parse("", 0, &id) == -1, "empty rejected");
    ok(task_id_parse("+1", 2, &id) == -1, "sign rejected");
    return done_testing();
}
