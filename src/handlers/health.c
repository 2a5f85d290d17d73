/*
 * health.c — the two health checks, kept apart:
 *  - readiness, GET /healthcheck/: 200 "OK" only when the database answers, so a load balancer
 *    stops routing to an instance that cannot serve (the Go original said OK regardless), and
 *    503 while the instance drains on SIGTERM;
 *  - liveness, GET /livez/: 200 "OK" whenever the process serves HTTP, draining or not. It never
 *    touches the database, so a container health check (Docker, ECS) does not replace every
 *    task during a database outage or failover.
 * On PostgreSQL the ping runs off the server's threads, as every store call there (ADR 0029).
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers/handlers.h"
#include "util/xalloc.h"

/* A readiness check's ping: here, or on an offload thread. */
struct ping_call {
    struct offload_job job; /* first: the job is the call */
    struct http_request *req;
};

static void ping_answer(struct http_request *req)
{
    static const char ok[] = "OK", down[] = "Error: db connection down";
    if (store_ping(req->app->store) != STORE_OK)
        http_respond_static(req, HTTP_STATUS_SERVICE_UNAVAILABLE, HTTP_TEXT, down, strlen(down));
    else
        http_respond_static(req, HTTP_STATUS_OK, HTTP_TEXT, ok, strlen(ok));
}

static void ping_offloaded(struct offload_job *job)
{
    struct http_request *req = ((struct ping_call *)job)->req;
    free(job);
    ping_answer(req);
    http_resume(req);
}

void health_handler(struct http_request *req)
{
    static const char draining[] = "Error: shutting down";
    if (http_draining(req)) {
        http_respond_static(req, HTTP_STATUS_SERVICE_UNAVAILABLE, HTTP_TEXT, draining,
                            strlen(draining));
        return;
    }
    struct ping_call *call = xmalloc(sizeof *call);
    *call = (struct ping_call){.job.run = ping_offloaded, .req = req};
    if (!handlers_offload(req, &call->job)) {
        free(call);
        ping_answer(req);
    }
}

void live_handler(struct http_request *req)
{
    static const char ok[] = "OK";
    http_respond_static(req, HTTP_STATUS_OK, HTTP_TEXT, ok, strlen(ok));
}
