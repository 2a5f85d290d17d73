/*
 * health.c — the two health checks, kept apart:
 *  - readiness, GET /healthcheck/: 200 "OK" only when the database answers, so a load balancer
 *    stops routing to an instance that cannot serve (the Go original said OK regardless), and
 *    503 while the instance drains on SIGTERM;
 *  - liveness, GET /livez/: 200 "OK" whenever the process serves HTTP, draining or not. It never
 *    touches the database, so a container health check (Docker, ECS) does not replace every
 *    task during a database outage or failover.
 */
#include <string.h>

#include "app.h"
#include "handlers/handlers.h"

void health_handler(struct http_request *req)
{
    static const char ok[] = "OK", down[] = "Error: db connection down",
                      draining[] = "Error: shutting down";
    if (http_draining(req))
        http_respond_static(req, HTTP_STATUS_SERVICE_UNAVAILABLE, HTTP_TEXT, draining,
                            strlen(draining));
    else if (store_ping(req->app->store) != STORE_OK)
        http_respond_static(req, HTTP_STATUS_SERVICE_UNAVAILABLE, HTTP_TEXT, down, strlen(down));
    else
        http_respond_static(req, HTTP_STATUS_OK, HTTP_TEXT, ok, strlen(ok));
}

void live_handler(struct http_request *req)
{
    static const char ok[] = "OK";
    http_respond_static(req, HTTP_STATUS_OK, HTTP_TEXT, ok, strlen(ok));
}
