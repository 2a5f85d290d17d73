/*
 * routes.c — the route table: every path the API serves and who answers it.
 * Anything else is an embedded asset (GET/HEAD) or 404.
 */
#include "handlers/handlers.h"
#include "util/array.h"

const struct route app_routes[] = {
    {"/api/task",
     "/api/task/",
     {[HTTP_GET] = task_list_handler, [HTTP_POST] = task_create_handler}},
    {"/api/task/{id}",
     "/api/task/{id}/",
     {[HTTP_GET] = task_get_handler,
      [HTTP_PUT] = task_replace_handler,
      [HTTP_PATCH] = task_patch_handler,
      [HTTP_DELETE] = task_delete_handler}},
    {"/healthcheck", "/healthcheck/", {[HTTP_GET] = health_handler}},
    {"/livez", "/livez/", {[HTTP_GET] = live_handler}},
    {"/debug", "/debug", {[HTTP_GET] = debug_handler}},
    {"/metrics", "/metrics", {[HTTP_GET] = metrics_handler}},
};

const size_t app_routes_count = ARRAY_SIZE(app_routes);

const struct route_table app_route_table = {
    app_routes,
    ARRAY_SIZE(app_routes),
    assets_handler,
    "/{asset}",
};
