/*
 * fuzz_router.c — libFuzzer target for the router (router_match in src/http/router.c) on the real
 * route table (src/handlers/routes.c).
 *
 * The first byte picks the method, the rest is the path. Checks router.h's contract: a match
 * names a route of the table; a {id} parameter is a non-empty part of the path with no '/';
 * a path and the same path with one more trailing slash route the same way; a route has an
 * Allow list.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    enum http_method method = (enum http_method)(data[0] % (HTTP_METHOD_COUNT + 1));
    size_t len = size - 1;
    char *path = malloc(len + 2);
    memcpy(path, data + 1, len);
    path[len] = '\0';
    size_t plen = strlen(path); /* the server's path is a C string */

    struct route_match m;
    enum route_result r = router_match(app_routes, app_routes_count, method, path, &m);
    switch (r) {
    case ROUTE_FOUND:
        assert(m.handler != NULL);
        /* fall through */
    case ROUTE_NO_METHOD:
        assert(m.route >= app_routes && m.route < app_routes + app_routes_count);
        if (m.param) {
            assert(m.param >= path && m.param + m.param_len <= path + plen);
            assert(m.param_len > 0 && memchr(m.param, '/', m.param_len) == NULL);
            assert(strchr(m.route->pattern, '{') != NULL);
        }
        {
            struct buf allow = BUF_INIT;
            router_allow(m.route, &allow);
            assert(allow.len > 0 && strstr(allow.data, "GET") != NULL);
            buf_release(&allow);
        }
        break;
    case ROUTE_NO_PATH:
        assert(m.route == NULL && m.handler == NULL);
        break;
    }

    if (plen == 0 || path[plen - 1] != '/') {
        struct route_match m2;
        path[plen] = '/';
        path[plen + 1] = '\0';
        enum route_result r2 = router_match(app_routes, app_routes_count, method, path, &m2);
        assert(r2 == r && m2.route == m.route && m2.handler == m.handler);
        assert(m2.param_len == m.param_len);
    }
    free(path);
    return 0;
}
