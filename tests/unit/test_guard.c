/* test_guard.c — the checks on a request's head: framing, paths, request ids (http/guard.h). */
#include "http/guard.h"
#include "tap.h"

/* The verdict on a head of count fields, each "Name: value" (or "Name" for no value). */
static const char *head(int count, const char *const fields[])
{
    struct guard_framing f = {0};
    for (int i = 0; i < count; i++) {
        const char *colon = strchr(fields[i], ':');
        size_t name_len = colon ? (size_t)(colon - fields[i]) : strlen(fields[i]);
        const char *value = colon ? colon + 2 : NULL;
        if (!guard_framing_field(&f, fields[i], name_len, value, value ? strlen(value) : 0))
            break;
    }
    return guard_framing_verdict(&f);
}

#define HEAD(...)                                                                                  \
    head((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),                      \
         (const char *[]){__VA_ARGS__})

static bool refused(const char *verdict, const char *want)
{
    return verdict && strcmp(verdict, want) == 0;
}

int main(void)
{
    /* framing */
    ok(HEAD("Host: a", "Content-Length: 5") == NULL, "Host and Content-Length: fine");
    ok(HEAD("Host: a", "transfer-encoding: Chunked") == NULL,
       "Transfer-Encoding chunked, any case");
    ok(HEAD("Host: a", "X-Tab: a\tb") == NULL, "a tab in a value is fine");
    ok(HEAD("Host: a", "X-Empty") == NULL, "a field without a value is fine");
    ok(refused(HEAD("Content-Length: 5", "Transfer-Encoding: chunked"),
               "both Content-Length and Transfer-Encoding"),
       "CL + TE refused");
    ok(refused(HEAD("Content-Length: 5", "content-length: 5"),
               "repeated Content-Length or Transfer-Encoding"),
       "CL twice refused");
    ok(refused(HEAD("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
               "repeated Content-Length or Transfer-Encoding"),
       "TE twice refused");
    ok(refused(HEAD("Transfer-Encoding: gzip"), "unsupported Transfer-Encoding"),
       "TE gzip refused");
    ok(refused(HEAD("Transfer-Encoding: chunked, chunked"), "unsupported Transfer-Encoding"),
       "TE listing chunked twice refused");
    ok(refused(HEAD("Transfer-Encoding"), "unsupported Transfer-Encoding"), "TE without a value");
    ok(refused(HEAD("Host: a", "HOST: b"), "more than one Host header"), "two Hosts refused");
    ok(refused(HEAD("X Y: 1"), "invalid character in a header name"), "space in a name");
    ok(refused(HEAD("X\"Y: 1"), "invalid character in a header name"), "quote in a name");
    ok(HEAD("X!#$%&'*+-.^_`|~Y: 1") == NULL, "every tchar in a name is fine");
    ok(refused(HEAD(": 1"), "empty header name"), "empty name");
    ok(refused(HEAD("X: a\rb"), "invalid character in a header value"), "CR in a value");
    ok(refused(HEAD("X: a\x7f"), "invalid character in a header value"), "DEL in a value");

    struct guard_framing f = {0};
    ok(guard_framing_field(&f, "X", 1, "a\0b", 3) == false &&
           refused(f.error, "invalid character in a header value"),
       "NUL inside a value (by length) refused, and the walk may stop");
    ok(f.fields == 1, "fields counted");
    f = (struct guard_framing){0};
    ok(guard_framing_field(&f, "Content-Length-X", 16, "1", 1) &&
           guard_framing_field(&f, "Content-Length-X", 16, "1", 1) &&
           guard_framing_verdict(&f) == NULL,
       "a longer name that starts with Content-Length is not Content-Length");

    /* paths */
    ok(guard_path_is_sane("/api/task/1/"), "plain path");
    ok(guard_path_is_sane("/caf\xc3\xa9"), "UTF-8 path");
    ok(!guard_path_is_sane("/a\tb"), "tab refused");
    ok(!guard_path_is_sane("/a\x7f"), "DEL refused");
    char decoded[] = "/app.js\0.png";
    guard_mark_nul(decoded, sizeof decoded - 1);
    ok(strlen(decoded) == sizeof decoded - 1 && decoded[7] == 0x7f, "a decoded NUL becomes DEL");
    ok(!guard_path_is_sane(decoded), "and the path is refused");

    /* request ids */
    ok(guard_request_id_is_sane("a-Z_0.9:x"), "request id of the allowed characters");
    ok(!guard_request_id_is_sane(""), "empty request id");
    ok(!guard_request_id_is_sane("a b"), "space in a request id");
    ok(!guard_request_id_is_sane("a\"b"), "quote in a request id");
    char id[GUARD_REQUEST_ID_MAX + 2];
    memset(id, 'a', sizeof id);
    id[GUARD_REQUEST_ID_MAX] = '\0';
    ok(guard_request_id_is_sane(id), "64 characters kept");
    id[GUARD_REQUEST_ID_MAX] = 'a';
    id[GUARD_REQUEST_ID_MAX + 1] = '\0';
    ok(!guard_request_id_is_sane(id), "65 characters refused");
    char a[17], b[17];
    guard_request_id_generate(a);
    guard_request_id_generate(b);
    ok(strlen(a) == 16 && strspn(a, "0123456789abcdef") == 16, "generated: 16 hex digits");
    ok(guard_request_id_is_sane(a), "a generated id is sane");
    ok(strcmp(a, b) != 0, "two generated ids differ");
    return done_testing();
}
