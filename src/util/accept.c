/*
 * accept.c — the weights of an Accept-style list (accept.h). One pass over the header per call;
 * the lists browsers send are a handful of elements, so nothing is cached.
 */
#include "util/accept.h"

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && is_ows(*p))
        p++;
    return p;
}

/* The end of [p, end) without its trailing white space. */
static const char *trim_end(const char *p, const char *end)
{
    while (end > p && is_ows(end[-1]))
        end--;
    return end;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if not. */
static int parse_qvalue(const char *p, const char *end)
{
    if (p == end || (*p != '0' && *p != '1'))
        return -1;
    int value = (*p++ - '0') * 1000;
    if (p == end)
        return value;
    if (*p++ != '.' || end - p > 3)
        return -1;
    for (int scale = 100; p < end; p++, scale /= 10) {
        if (*p < '0' || *p > '9')
            return -1;
        value += (*p - '0') * scale;
    }
    return value <= 1000 ? value : -1;
}

/* The weight of the element [p, end) ("token *( OWS ";" OWS param )"), -1 if it is malformed;
 * its token is returned in [*tok, *tok_end). */
static int parse_element(const char *p, const char *end, const char **tok, const char **tok_end)
{
    const char *semi = p;
    while (semi < end && *semi != ';')
        semi++;
    *tok = skip_ows(p, semi);
    *tok_end = trim_end(*tok, semi);
    if (*tok == *tok_end)
        return -1;
    int weight = 1000;
    while (semi < end) {
        const char *param = skip_ows(semi + 1, end);
        semi = param;
        while (semi < end && *semi != ';')
            semi++;
        const char *param_end = trim_end(param, semi);
        if (param_end - param >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            weight = parse_qvalue(param + 2, param_end);
            if (weight < 0)
                return -1;
        }
    }
    return weight;
}

int accept_weight(const char *header, const char *token)
{
    if (!header)
        return -1;
    size_t token_len = 0;
    while (token[token_len])
        token_len++;
    int named = -1, wildcard = -1;
    for (const char *p = header; *p;) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *tok, *tok_end;
        int weight = parse_element(p, end, &tok, &tok_end);
        if (weight >= 0) {
            size_t len = (size_t)(tok_end - tok);
            if (len == token_len && strncasecmp(tok, token, len) == 0)
                named = named < 0 ? weight : named;
            else if (len == 1 && *tok == '*')
                wildcard = wildcard < 0 ? weight : wildcard;
        }
        p = *end ? end + 1 : end;
    }
    return named >= 0 ? named : wildcard;
}
