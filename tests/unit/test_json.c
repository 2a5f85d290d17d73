/*
 * test_json.c — JSON string literals and error documents (json.h), read back by a real JSON
 * parser (jansson, which the app reads requests with): every ASCII byte, UTF-8, NUL, length.
 */
#include <jansson.h>
#include <stdlib.h>

#include "json.h"
#include "tap.h"
#include "util/buf.h"

/* Encodes len bytes of s as a JSON string and parses it back: whether the parser accepted it
 * and gave exactly those bytes. */
static bool round_trips(const char *s, size_t len)
{
    struct buf b = BUF_INIT;
    json_put_string(&b, s, len);
    json_error_t error;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    bool same = v && json_is_string(v) && json_string_length(v) == len &&
                memcmp(json_string_value(v), s, len) == 0;
    if (!same)
        printf("#   encoded as %s (%s)\n", b.data, v ? "parsed, different" : error.text);
    json_decref(v);
    buf_release(&b);
    return same;
}

static void is_encoded(const char *s, size_t len, const char *want, const char *name)
{
    struct buf b = BUF_INIT;
    size_t want_len = strlen(want);
    json_put_string(&b, s, len);
    is_str(b.data, want, name);
    ok(b.len == want_len, "its length is counted");
    buf_release(&b);
}

int main(void)
{
    int failed = 0;
    for (int c = 0; c < 0x80; c++) {
        char one = (char)c;
        if (!round_trips(&one, 1)) {
            printf("#   byte 0x%02x\n", c);
            failed++;
        }
    }
    is_int(failed, 0, "every ASCII byte, the C0 controls and NUL included, reads back as itself");

    is_encoded("", 0, "\"\"", "the empty string");
    is_encoded("a\"b\\c", 5, "\"a\\\"b\\\\c\"", "quote and backslash escaped");
    is_encoded("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"", "the five controls with short escapes");
    is_encoded("\x01\x1f", 2, "\"\\u0001\\u001f\"", "other controls as \\u00XX");
    is_encoded("a\0b", 3, "\"a\\u0000b\"", "NUL inside the string, as \\u0000");
    is_encoded("/\x7f", 2, "\"/\x7f\"", "slash and DEL copied as they are");

    const char *utf8 = "Ünïcødé ✓ 𝄞 — 日本語";
    is_encoded(utf8, strlen(utf8), "\"Ünïcødé ✓ 𝄞 — 日本語\"", "UTF-8 copied byte for byte");
    ok(round_trips(utf8, strlen(utf8)), "and read back unchanged");

    /* Longer than any starting capacity, escapes spread through it. */
    size_t n = 100000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = "ab\"\\\n\x01z"[i % 7];
    ok(round_trips(big, n), "100,000 bytes with an escape every few bytes read back unchanged");
    ok(round_trips(big, 1), "only the first len bytes are written");
    free(big);

    struct buf b = BUF_INIT;
    buf_puts(&b, "[");
    json_put_string(&b, "x", 1);
    buf_puts(&b, "]");
    is_str(b.data, "[\"x\"]", "appends to what the buffer holds");
    buf_release(&b);

    json_put_error(&b, "title \"x\" is too long\n");
    is_str(b.data, "{\"error\":\"title \\\"x\\\" is too long\\n\"}", "an error document");
    json_error_t error;
    json_t *doc = json_loadb(b.data, b.len, 0, &error);
    json_t *msg = json_object_get(doc, "error");
    ok(json_object_size(doc) == 1 && json_is_string(msg) &&
           strcmp(json_string_value(msg), "title \"x\" is too long\n") == 0,
       "which a parser reads as one key, error, with the message");
    json_decref(doc);
    buf_release(&b);
    return done_testing();
}
