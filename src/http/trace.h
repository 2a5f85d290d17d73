/*
 * trace.h — the trace context headers a request may carry, checked before they reach a log
 * line: the AWS load balancer's X-Amzn-Trace-Id ("Root=1-5759e988-bd862e3fe1be46a994272793;
 * Sampled=1") and W3C Trace Context's traceparent ("00-<32 hex>-<16 hex>-<2 hex>").
 *
 * A header is kept only if it has the shape its specification gives it, so a client cannot put
 * arbitrary text (quotes, control characters, megabytes) into the access log through it. Each
 * function copies a valid value into out (NUL-terminated) and returns true, or returns false
 * and leaves out empty.
 */
#ifndef HTTP_TRACE_H
#define HTTP_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest X-Amzn-Trace-Id kept: the ALB's Root, Parent, Self and Sampled fields fit easily. */
#define TRACE_AMZN_MAX 256
/* A traceparent of version 00 is exactly 55 characters; later versions may append fields
 * (after a '-'), of which only the first 55 characters are kept. */
#define TRACE_PARENT_LEN 55

/* out has room for TRACE_AMZN_MAX + 1 bytes. Fields "Key=Value" separated by ';', keys and
 * values of [A-Za-z0-9._:-], no empty field. */
bool trace_amzn_parse(const char *value, char out[TRACE_AMZN_MAX + 1]);

/* out has room for TRACE_PARENT_LEN + 1 bytes. version-traceid-parentid-flags in lower-case hex;
 * version ff, an all-zero trace id or parent id are invalid, as the specification says. */
bool trace_parent_parse(const char *value, char out[TRACE_PARENT_LEN + 1]);

#endif
