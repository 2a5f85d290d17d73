/* test_trace.c — X-Amzn-Trace-Id and traceparent: what is kept, what is dropped, the bounds. */
#include "http/trace.h"
#include "tap.h"

#define PARENT "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static bool amzn(const char *value)
{
    char out[TRACE_AMZN_MAX + 1];
    bool kept = trace_amzn_parse(value, out);
    ok(kept ? strcmp(out, value) == 0 : out[0] == '\0', "output is the value or empty");
    return kept;
}

static bool parent(const char *value, const char *want)
{
    char out[TRACE_PARENT_LEN + 1];
    bool kept = trace_parent_parse(value, out);
    ok(kept ? strcmp(out, want) == 0 : out[0] == '\0', "output is the first 55 chars or empty");
    return kept;
}

int main(void)
{
    char big[TRACE_AMZN_MAX + 2];

    ok(amzn("Root=1-67891233-abcdef012345678912345678"), "ALB Root");
    ok(amzn("Root=1-67891233-abcdef012345678912345678;Parent=463ac35c9f6413ad;Sampled=1"),
       "Root, Parent, Sampled");
    ok(amzn("Self=1-67891233-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678"),
       "Self then Root");
    ok(!amzn(NULL), "absent");
    ok(!amzn(""), "empty");
    ok(!amzn("Root"), "no '='");
    ok(!amzn("Root="), "empty value");
    ok(!amzn("=1"), "empty key");
    ok(!amzn("Root=1;"), "trailing ';'");
    ok(!amzn("Root=1;;Sampled=1"), "empty field");
    ok(!amzn("Root=1 ;Sampled=1"), "a space");
    ok(!amzn("Root=\"1\""), "a quote");
    ok(!amzn("Root=1\\n"), "a backslash");
    memset(big, 'a', sizeof big);
    memcpy(big, "Root=", 5);
    big[TRACE_AMZN_MAX] = '\0';
    ok(amzn(big), "256 characters are kept");
    big[TRACE_AMZN_MAX] = 'a';
    big[TRACE_AMZN_MAX + 1] = '\0';
    ok(!amzn(big), "257 are not");

    ok(parent(PARENT, PARENT), "version 00");
    ok(parent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more",
              "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
       "a later version with more fields: its first 55 characters");
    ok(parent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
              "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
       "a later version of 55 characters");
    ok(!parent(NULL, ""), "absent");
    ok(!parent(PARENT "-x", ""), "version 00 longer than 55");
    ok(!parent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", ""),
       "a later version continued without '-'");
    ok(!parent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""), "version ff");
    ok(!parent("00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""), "zero trace id");
    ok(!parent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", ""), "zero parent id");
    ok(!parent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", ""), "upper case");
    ok(!parent("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", ""), "wrong separator");
    ok(!parent("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", ""), "54 characters");
    ok(!parent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", ""), "non-hex flags");
    return done_testing();
}
