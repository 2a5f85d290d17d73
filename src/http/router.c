/* router.c — see router.h. */
#include "http/router.h"

#include <stdbool.h>
#include <string.h>

/* Matches path (len bytes, trailing slash already removed) against pattern. */
static bool match_pattern(const char *pattern, const char *path, size_t len,
                          struct route_match *out)
{
    const char *p = pattern, *s = path, *end = path + len;
    out->param = NULL;
    out->param_len = 0;
    while (*p && s < end) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = memchr(s, '/', (size_t)(end - s));
            if (!close || !seg_end)
                seg_end = end;
            if (seg_end == s)
                return false;
            out->param = s;
            out->param_len = (size_t)(seg_end - s);
            s = seg_end;
            p = close ? close + 1 : p + strlen(p);
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *p == '\0' && s == end;
}

enum route_result router_match(const struct route *routes, size_t n, enum http_method method,
                               const char *path, struct route_match *out)
{
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/')
        len--;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (!match_pattern(routes[i].pattern, path, len, out))
            continue;
        out->route = &routes[i];
        enum http_method m = method == HTTP_HEAD ? HTTP_GET : method;
        if (m >= HTTP_METHOD_COUNT || !routes[i].handlers[m])
            return ROUTE_NO_METHOD;
        out->handler = routes[i].handlers[m];
        return ROUTE_FOUND;
    }
    return ROUTE_NO_PATH;
}

void router_allow(const struct route *route, struct buf *allow)
{
    buf_reset(allow);
    for (int m = 0; m < HTTP_METHOD_COUNT; m++) {
        bool has = route->handlers[m] || (m == HTTP_HEAD && route->handlers[HTTP_GET]);
        if (!has)
            continue;
        if (allow->len)
            buf_puts(allow, ", ");
        buf_puts(allow, http_method_names[m]);
    }
}
