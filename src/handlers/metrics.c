/*
 * metrics.c — GET /metrics: the Prometheus exposition (metrics.h). Keep it off the public
 * listener in production (docs/operations.md).
 */

#include "metrics.h"
#include "app.h"
#include "handlers/handlers.h"

void metrics_handler(struct http_request *req)
{
    metrics_render(&req->out, req->app->store);
    http_respond(req, HTTP_STATUS_OK, METRICS_CONTENT_TYPE);
}
