/* test_accept.c — Accept-Encoding weights: tokens, q-values, "*", malformed elements. */
#include "tap.h"
#include "util/accept.h"

int main(void)
{
    is_int(accept_weight(NULL, "gzip"), -1, "no header mentions nothing");
    is_int(accept_weight("", "gzip"), -1, "an empty header mentions nothing");
    is_int(accept_weight("gzip", "gzip"), 1000, "a bare token weighs 1");
    is_int(accept_weight("gzip, deflate, br", "br"), 1000, "the last of a list");
    is_int(accept_weight("deflate, br", "gzip"), -1, "a token not listed");
    is_int(accept_weight("GZip", "gzip"), 1000, "tokens compare case-insensitively");
    is_int(accept_weight("xgzip, gzipx", "gzip"), -1, "only whole tokens match");
    is_int(accept_weight("gzip;q=0", "gzip"), 0, "q=0 is not acceptable");
    is_int(accept_weight("gzip;q=0.000", "gzip"), 0, "q=0.000");
    is_int(accept_weight("gzip ; Q=0.5", "gzip"), 500, "white space and an upper-case Q");
    is_int(accept_weight("gzip;q=0.123", "gzip"), 123, "three decimals");
    is_int(accept_weight("gzip;q=1.000", "gzip"), 1000, "q=1.000");
    is_int(accept_weight("gzip;q=0.001", "gzip"), 1, "the smallest weight above 0");
    is_int(accept_weight("gzip;level=1;q=0.2", "gzip"), 200, "another parameter first");
    is_int(accept_weight("*", "gzip"), 1000, "* covers a token not listed");
    is_int(accept_weight("*;q=0", "gzip"), 0, "*;q=0 refuses a token not listed");
    is_int(accept_weight("gzip;q=0.8, *;q=0", "gzip"), 800, "the named element beats *");
    is_int(accept_weight("*;q=0.1, gzip", "gzip"), 1000, "in any order");
    is_int(accept_weight("gzip;q=1.5", "gzip"), -1, "q over 1 is malformed and skipped");
    is_int(accept_weight("gzip;q=1.001", "gzip"), -1, "1.001 is malformed");
    is_int(accept_weight("gzip;q=0.1234", "gzip"), -1, "four decimals are malformed");
    is_int(accept_weight("gzip;q=", "gzip"), -1, "an empty q is malformed");
    is_int(accept_weight("gzip;q=-1", "gzip"), -1, "a negative q is malformed");
    is_int(accept_weight("gzip;q=0.5x", "gzip"), -1, "trailing junk is malformed");
    is_int(accept_weight("gzip;q=abc, *;q=0.3", "gzip"), 300, "a malformed element is skipped");
    is_int(accept_weight(",,, gzip ,", "gzip"), 1000, "empty elements are skipped");
    is_int(accept_weight(";q=0.5", "gzip"), -1, "an element without a token is skipped");
    is_int(accept_weight("gzip;q=0.2, gzip;q=0.9", "gzip"), 200, "the first naming wins");
    is_int(accept_weight("identity;q=0, gzip", "identity"), 0, "identity can be refused");
    return done_testing();
}
