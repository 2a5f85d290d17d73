/*
 * handlers.h — the application's routes and the handlers behind them.
 *
 * One file per resource: task.c and task_list.c (the to-do API), health.c, debug.c, metrics.c,
 * assets.c; routes.c is the route table, batch.c shares round trips between concurrent
 * requests, respond.c turns store statuses into responses. Each handler answers through
 * http_respond_* (http/request.h).
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stddef.h>

#include "http/request.h"
#include "http/router.h"
#include "store/store.h"

extern const struct route app_routes[];
extern const size_t app_routes_count;
/* The routes and, for any other GET/HEAD, the embedded assets: what `serve` hands the server. */
extern const struct route_table app_route_table;

void task_list_handler(struct http_request *req);
/* The last GET list body and the list version it was read at (task_list.c, ADR 0026): made by
 * `serve` before the server starts, freed after it stopped. */
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
