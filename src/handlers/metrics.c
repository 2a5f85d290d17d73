/*
 * metrics.c — GET /metrics. Not implemented yet: the Prometheus exposition is its own issue.
 */
#include <microhttpd.h>

#include "handlers/handlers.h"

void metrics_handler(struct http_request *req)
{
    http_respond_error(req, MHD_HTTP_NOT_IMPLEMENTED, "metrics are not implemented yet");
}
