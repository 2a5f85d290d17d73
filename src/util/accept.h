/*
 * accept.h — reading an Accept-style header: a comma-separated list of tokens, each with an
 * optional ";q=" weight (RFC 9110 §12.4.2), as in Accept-Encoding: "gzip;q=1.0, br, *;q=0".
 *
 * Pure functions of their arguments: no allocation, thread-safe. The header comes from the
 * network, so anything is accepted as input: an element that does not parse (a malformed
 * q-value, an empty token) is skipped, never an error.
 */
#ifndef ACCEPT_H
#define ACCEPT_H

/*
 * The weight that `header` gives `token`, in thousandths (0..1000): that of the element naming
 * the token (compared case-insensitively), else that of the "*" element, else -1 when the list
 * mentions neither. An element without ";q=" weighs 1000; "q=0" means "not acceptable".
 * A NULL header mentions nothing (-1).
 */
int accept_weight(const char *header, const char *token);

#endif
