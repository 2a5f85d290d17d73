/*
 * task_codec.h — tasks as the API sees them: JSON in, JSON out, and the rules a task must follow.
 *
 * Decoding follows Go's encoding/json as the original used it: keys match case-insensitively
 * (ASCII: "Title", "TITLE"), and a field given more than once, in any spelling, takes its last
 * value in the body; "completed" (what the original UI sends) is another spelling of "complete",
 * under the same last-wins rule. Unknown keys and "id" are ignored; a null value is no value (an
 * earlier one stays). Every occurrence of a field must have the field's type (a string title, a
 * 32-bit integer priority, a boolean complete), as Go fails a decode on a type error anywhere;
 * the title's content (1..TASK_TITLE_MAX bytes) and the fields each mode needs are checked on
 * the merged result only. The body must be one JSON object of valid UTF-8. (ADR 0013.)
 */
#ifndef TASK_CODEC_H
#define TASK_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"

#define TASK_TITLE_MAX 1024

enum task_decode_mode {
    TASK_DECODE_CREATE,  /* POST: title required, others default to 0/false */
    TASK_DECODE_REPLACE, /* PUT: the same as create */
    TASK_DECODE_PATCH,   /* PATCH: any non-empty subset */
};

/* What task_decode produced. The title points into `owned` (freed by task_input_release). */
struct task_input {
    struct task_patch patch;
    char *owned;
};

/*
 * Parses body into in. Returns 0, or -1 with a message for the client in err (one sentence,
 * lower case, e.g. "title must be a string").
 */
int task_decode(const char *body, size_t len, enum task_decode_mode mode, struct task_input *in,
                char *err, size_t errlen);
void task_input_release(struct task_input *in);

/* Appends {"id":1,"priority":0,"title":"...","complete":false} (keys in the original's order). */
void task_encode(struct buf *out, const struct task *task);

/*
 * Parses a task id path segment. Returns 0 with *id set for a decimal number (one so large it
 * cannot be an id becomes INT64_MAX, which no task has), or -1 if seg is not a number.
 */
int task_id_parse(const char *seg, size_t len, int64_t *id);

#endif
