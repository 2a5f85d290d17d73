/* test_task.c — task JSON decoding rules, encoding, and id parsing. */
#include <stdlib.h>

#include "tap.h"
#include "task_codec.h"

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

/* Decodes body in mode and compares the result with want ("title|priority|complete", a field
 * absent from the patch written as "-"), or with "ERR: message". */
static void merges(const char *body, enum task_decode_mode mode, const char *want, const char *name)
{
    struct task_input in;
    char err[256] = "";
    char got[1400];
    if (decode(body, mode, &in, err) != 0) {
        snprintf(got, sizeof got, "ERR: %s", err);
    } else {
        const struct task_patch *p = &in.patch;
        char prio[16] = "-";
        if (p->has_priority)
            snprintf(prio, sizeof prio, "%d", (int)p->value.priority);
        snprintf(got, sizeof got, "%.*s|%s|%s", p->has_title ? (int)p->value.title_len : 1,
                 p->has_title ? p->value.title : "-", prio,
                 !p->has_complete    ? "-"
                 : p->value.complete ? "true"
                                     : "false");
        task_input_release(&in);
    }
    is_str(got, want, name);
}

/* Keys given more than once, in any spelling: the last occurrence in the body wins. */
static void check_merge(void)
{
    merges("{\"title\":\"\",\"priority\":1000,\"completed\":false,\"id\":0,\"Title\":\"buy milk\"}",
           TASK_DECODE_CREATE, "buy milk|1000|false",
           "the original UI's add request stores the typed text");
    merges("{\"title\":\"\",\"priority\":1000,\"completed\":false,\"id\":0}", TASK_DECODE_CREATE,
           "ERR: title must not be empty", "the original UI's empty submit is refused");
    merges("{\"title\":\"\",\"priority\":1000,\"completed\":false,\"id\":0,\"Title\":\"\"}",
           TASK_DECODE_CREATE, "ERR: title must not be empty",
           "empty in every spelling is refused");
    merges("{\"Title\":\"first\",\"title\":\"\"}", TASK_DECODE_CREATE,
           "ERR: title must not be empty", "a later empty title wins over an earlier good one");
    merges("{\"title\":\"a\",\"title\":\"b\"}", TASK_DECODE_CREATE, "b|0|false",
           "the same key twice: the last wins");
    merges("{\"title\":\"a\",\"Title\":\"b\",\"title\":\"c\"}", TASK_DECODE_CREATE, "c|0|false",
           "a repeated exact key after another spelling still wins (body order, not key order)");
    merges("{\"TITLE\":\"a\",\"tItLe\":\"b\",\"Title\":\"c\",\"TITLE\":\"d\",\"x\":1}",
           TASK_DECODE_CREATE, "d|0|false", "four spellings: the last in the body wins");
    merges("{\"t\\u0069tle\":\"a\",\"title\":\"b\",\"\\u0054ITLE\":\"escaped\"}",
           TASK_DECODE_CREATE, "escaped|0|false", "escaped keys are decoded before matching");
    merges("{\"title\":\"a\",\"title \":\"b\",\"titles\":\"c\",\"t\u00edtle\":\"d\"}",
           TASK_DECODE_CREATE, "a|0|false", "near-miss keys are unknown keys");
    merges("{\"title\":\"kept\",\"Title\":null}", TASK_DECODE_CREATE, "kept|0|false",
           "null is no value: the earlier title stays");
    merges("{\"priority\":5,\"title\":\"p\",\"PRIORITY\":null}", TASK_DECODE_CREATE, "p|5|false",
           "null is no value for priority too");
    merges("{\"complete\":true,\"completed\":false}", TASK_DECODE_PATCH, "-|-|false",
           "completed after complete: completed wins");
    merges("{\"Completed\":false,\"COMPLETE\":true}", TASK_DECODE_PATCH, "-|-|true",
           "complete after completed: complete wins");
    merges("{\"priority\":1,\"Priority\":2,\"PRIORITY\":-3}", TASK_DECODE_PATCH, "-|-3|-",
           "PATCH: the last priority");
    merges("{\"title\":\"x\",\"title\":\""
           "\\u00e9"
           "\"}",
           TASK_DECODE_REPLACE, "\xc3\xa9|0|false", "PUT merges too");
    merges("{\"title\":5,\"title\":\"ok\"}", TASK_DECODE_CREATE, "ERR: title must be a string",
           "a type error in an overridden occurrence still fails (as Go's decoder)");
    merges("{\"priority\":\"1\",\"priority\":1,\"title\":\"x\"}", TASK_DECODE_CREATE,
           "ERR: priority must be an integer", "  priority of the wrong type, overridden");
    merges("{\"priority\":4294967296,\"priority\":1,\"title\":\"x\"}", TASK_DECODE_CREATE,
           "ERR: priority must be between -2147483648 and 2147483647",
           "  priority out of range, overridden (an overflow is a type error in Go)");
    merges("{\"complete\":\"yes\",\"completed\":true,\"title\":\"x\"}", TASK_DECODE_CREATE,
           "ERR: complete must be true or false", "  complete of the wrong type, overridden");
    merges("{\"id\":\"not a number\",\"ID\":[1],\"title\":\"x\"}", TASK_DECODE_CREATE, "x|0|false",
           "id is ignored whatever its type");
    merges("{\"title\":\"x\",\"nested\":{\"title\":5,\"s\":\"}\\\"{[\"},\"arr\":[{\"title\":1},\"]"
           "\"],\"Title\":\"y\"}",
           TASK_DECODE_CREATE, "y|0|false",
           "keys inside nested values are not fields; braces in strings are skipped");
    merges(" \t\r\n{ \"title\" \n: \"a\" , \"TITLE\"\t:\r\"b\" } \n", TASK_DECODE_CREATE,
           "b|0|false", "white space anywhere between tokens");

    /* A title over the limit only matters if it is the one that wins. */
    struct buf body = BUF_INIT;
    buf_printf(&body, "{\"title\":\"%0*d\",\"Title\":\"short\"}", TASK_TITLE_MAX + 1, 0);
    merges(body.data, TASK_DECODE_CREATE, "short|0|false", "an overridden over-long title is fine");
    buf_reset(&body);
    buf_printf(&body, "{\"Title\":\"short\",\"title\":\"%0*d\"}", TASK_TITLE_MAX + 1, 0);
    merges(body.data, TASK_DECODE_CREATE, "ERR: title must be at most 1024 bytes",
           "a winning over-long title is refused");
    buf_release(&body);
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
    rejects("{\"title\":\"x\",\"title\":5}", TASK_DECODE_CREATE, "title must be a string");
    rejects("{\"title\":\"\xc3\x28\"}", TASK_DECODE_CREATE, NULL);
    rejects("{\"title\":\"a\\u0000b\"}", TASK_DECODE_CREATE, NULL);
    rejects("{\"title\":\"x\"} {}", TASK_DECODE_CREATE, NULL);

    check_merge();

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
