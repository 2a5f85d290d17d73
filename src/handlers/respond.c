/* respond.c — see respond.h. */
#include "handlers/respond.h"

void respond_store_error(struct http_request *req, enum store_status status)
{
    switch (status) {
    case STORE_NOT_FOUND:
        http_respond_error(req, HTTP_STATUS_NOT_FOUND, "task not found");
        return;
    case STORE_UNAVAILABLE:
        http_respond_error(req, HTTP_STATUS_SERVICE_UNAVAILABLE, "database unavailable");
        return;
    case STORE_OK:
    case STORE_ERROR:
        break;
    }
    http_respond_error(req, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal error");
}

void respond_store(struct http_request *req, enum store_status status, int ok_status,
                   const char *type)
{
    if (status != STORE_OK)
        respond_store_error(req, status);
    else
        http_respond(req, ok_status, type);
}

void respond_store_body(struct http_request *req, enum store_status status, struct http_body *body)
{
    if (status != STORE_OK)
        respond_store_error(req, status);
    else
        http_respond_body(req, HTTP_STATUS_OK, HTTP_JSON, body);
}
