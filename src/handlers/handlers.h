/*
 * handlers.h — the application's routes and the handlers behind them.
 *
 * One file per resource: task.c and task_list.c (the to-do API), health.c, debug.c, metrics.c,
 * assets.c; routes.c is the route table, batch.c shares round trips between concurrent
 * requests, handlers.c owns the handlers' state (which routes batch, and their batchers),
 * respond.c turns store statuses into responses. Each handler answers through http_respond_*
 * (http/request.h).
 *
 * `serve` calls handlers_open after the store is open and before the server starts, and
 * handlers_close after the server has stopped.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "handlers/offload.h"
#include "http/request.h"
#include "http/router.h"
#include "store/store.h"

struct app;

/* The handlers' own state, private to src/handlers/ (app->handlers). */
struct handlers {
    struct batcher *lists;         /* batches of GET /api/task/ (task_list.c), or NULL */
    struct batcher *gets;          /* batches of GET /api/task/{id}/ (task.c), or NULL */
    struct batcher *creates;       /* batches of POST /api/task/ (task.c) */
    struct batcher *updates;       /* batches of PUT/PATCH /api/task/{id}/ (task.c) */
    struct batcher *deletes;       /* batches of DELETE /api/task/{id}/ (task.c) */
    struct list_cache *list_cache; /* the last GET list body (task_list.c, ADR 0026) */
    struct offload *store_calls;   /* runs PostgreSQL calls off the server's threads, or NULL */
    struct offload *sqlite_writer; /* runs SQLite's write batches, one at a time, or NULL */
};

/* Sets app->handlers from app->cfg: which routes batch, and how (ADRs 0007, 0010, 0012, 0030,
 * 0031), and which store calls run off the server's threads (ADRs 0029, 0034). */
void handlers_open(struct app *app);
/* Finishes every store call handed off the server's threads (each answers and resumes its
 * request; the store bounds how long each takes). Call before the server stops: it cannot stop
 * while a request is suspended. */
void handlers_finish(struct app *app);
/* Frees app->handlers (handlers_finish first, if it was not called); no request may be in
 * flight. */
void handlers_close(struct app *app);

/* With store_calls: suspends req, hands job to an offload thread — job->run answers req and
 * ends with http_resume(req) — and returns true. Without: does nothing and returns false (the
 * caller makes the store call itself). */
bool handlers_offload(struct http_request *req, struct offload_job *job);

extern const struct route app_routes[];
extern const size_t app_routes_count;
/* The routes and, for any other GET/HEAD, the embedded assets: what `serve` hands the server. */
extern const struct route_table app_route_table;

void task_list_handler(struct http_request *req);
/* The last GET list body and the list version it was read at (task_list.c, ADR 0026): made by
 * handlers_open, freed by handlers_close. */
struct list_cache *list_cache_new(void);
void list_cache_free(struct list_cache *cache);

void task_create_handler(struct http_request *req);
void task_get_handler(struct http_request *req);
void task_replace_handler(struct http_request *req);
void task_patch_handler(struct http_request *req);
void task_delete_handler(struct http_request *req);
void health_handler(struct http_request *req);
void live_handler(struct http_request *req);
void debug_handler(struct http_request *req);
void metrics_handler(struct http_request *req);
/* GET/HEAD of any path no route matches: an embedded asset, or 404. */
void assets_handler(struct http_request *req);

#endif
