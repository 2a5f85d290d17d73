/* test_router.c — route matching: literals, {param}, trailing slash, 404 vs 405, Allow. */
#include "http/router.h"
#include "tap.h"
#include "util/array.h"

static void h_list(struct http_request *req)
{
    (void)req;
}
static void h_get(struct http_request *req)
{
    (void)req;
}
static void h_del(struct http_request *req)
{
    (void)req;
}

static const struct route routes[] = {
    {"/api/task", "/api/task/", {[HTTP_GET] = h_list, [HTTP_POST] = h_list}},
    {"/api/task/{id}", "/api/task/{id}/", {[HTTP_GET] = h_get, [HTTP_DELETE] = h_del}},
    {"/", "/", {[HTTP_GET] = h_list}},
};
#define N ARRAY_SIZE(routes)

static enum route_result m(enum http_method method, const char *path, struct route_match *out)
{
    return router_match(routes, N, method, path, out);
}

int main(void)
{
    struct route_match r;
    is_int(m(HTTP_GET, "/api/task", &r), ROUTE_FOUND, "literal without slash");
    ok(r.handler == h_list && r.route == &routes[0], "literal picks its handler");
    is_int(m(HTTP_GET, "/api/task/", &r), ROUTE_FOUND, "literal with trailing slash");
    is_int(m(HTTP_GET, "/api/task//", &r), ROUTE_NO_PATH, "two trailing slashes do not match");
    is_int(m(HTTP_GET, "/api/tasks", &r), ROUTE_NO_PATH, "longer literal does not match");
    is_int(m(HTTP_GET, "/api/tas", &r), ROUTE_NO_PATH, "shorter literal does not match");
    is_int(m(HTTP_GET, "/api/task/42/", &r), ROUTE_FOUND, "param with slash");
    ok(r.handler == h_get && r.param_len == 2 && strncmp(r.param, "42", 2) == 0, "param is 42");
    is_int(m(HTTP_DELETE, "/api/task/7", &r), ROUTE_FOUND, "param without slash");
    ok(r.handler == h_del && r.param_len == 1 && r.param[0] == '7', "param is 7, DELETE handler");
    is_int(m(HTTP_GET, "/api/task/42/x", &r), ROUTE_NO_PATH, "extra segment does not match");
    is_int(m(HTTP_GET, "/api/task/abc", &r), ROUTE_FOUND, "param matches any segment");
    is_int(m(HTTP_HEAD, "/api/task/1", &r), ROUTE_FOUND, "HEAD is served by GET");
    ok(r.handler == h_get, "HEAD gets the GET handler");
    is_int(m(HTTP_PUT, "/api/task/1", &r), ROUTE_NO_METHOD, "PUT without handler is 405");
    ok(r.route == &routes[1], "405 names the matched route");
    is_int(m(HTTP_OTHER, "/api/task", &r), ROUTE_NO_METHOD, "unknown method is 405");
    is_int(m(HTTP_GET, "/", &r), ROUTE_FOUND, "root matches");
    is_int(m(HTTP_GET, "", &r), ROUTE_NO_PATH, "empty path matches nothing");
    is_int(m(HTTP_GET, "/nope", &r), ROUTE_NO_PATH, "unknown path is 404");

    struct buf allow = BUF_INIT;
    router_allow(&routes[0], &allow);
    is_str(allow.data, "GET, HEAD, POST", "Allow for the list");
    router_allow(&routes[1], &allow);
    is_str(allow.data, "GET, HEAD, DELETE", "Allow for one task");
    buf_release(&allow);
    return done_testing();
}
