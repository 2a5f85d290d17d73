/*
 * respond.h — store outcomes as HTTP responses: the one place a store status becomes an HTTP
 * status (404, 503 or 500 with a JSON error), for every handler that calls the store.
 */
#ifndef RESPOND_H
#define RESPOND_H

#include "http/request.h"
#include "store/store.h"

/* The error response for a status other than STORE_OK: 404, 503, or 500 for anything else. */
void respond_store_error(struct http_request *req, enum store_status status);
/* STORE_OK: ok_status with req->out as the body (type NULL: no body, as for 204); otherwise
 * respond_store_error. */
void respond_store(struct http_request *req, enum store_status status, int ok_status,
                   const char *type);
/* STORE_OK: 200 with the shared JSON body; otherwise respond_store_error. */
void respond_store_body(struct http_request *req, enum store_status status, struct http_body *body);

#endif
