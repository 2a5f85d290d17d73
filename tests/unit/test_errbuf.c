/* test_errbuf.c — messages into fixed error buffers: formatted, cut to fit, never overrun. */
#include "tap.h"
#include "util/errbuf.h"

int main(void)
{
    char err[16];
    errbuf_set(err, sizeof err, "cannot open '%s': %d", "x", 2);
    is_str(err, "cannot open 'x'", "formatted and cut to fit, NUL-terminated");
    errbuf_set(err, sizeof err, "%s", "short");
    is_str(err, "short", "a short message whole");
    char guard[4] = {'a', 'b', 'c', 'd'};
    errbuf_set(guard, 0, "%s", "nothing fits");
    ok(guard[0] == 'a', "errlen 0 writes nothing");
    errbuf_set(guard, 1, "%s", "x");
    ok(guard[0] == '\0' && guard[1] == 'b', "errlen 1 writes only the terminator");
    return done_testing();
}
