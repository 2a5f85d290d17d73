/*
 * task.c — the to-do API: /api/task/{id}/ and POST /api/task/ (the list is task_list.c).
 *
 * Concurrent POSTs share one INSERT and one commit (handlers/batch.h, ADR 0010): a POST that
 * arrives while another batch of creates is running waits, suspended, for the next one. Every
 * 200 still means the task is committed. Where handlers.c batches them (PostgreSQL), concurrent
 * GETs of one task share one SELECT the same way, as the lists do (task_list.c). There, too, no
 * store call runs on the server's threads: batches and PUT/PATCH/DELETE run on offload threads
 * (handlers.c, ADR 0029).
 *
 * Tasks stream from the store straight into the response body (task_encode): one pass, no
 * copies.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "handlers/batch.h"
#include "handlers/handlers.h"
#include "handlers/respond.h"
#include "task_codec.h"
#include "util/xalloc.h"

static int write_one(const struct task *task, void *ctx)
{
    task_encode(ctx, task);
    return 0;
}

/* The {id} of the path, or a 400 answered and -1. */
static int path_id(struct http_request *req, int64_t *id)
{
    if (task_id_parse(req->param, req->param_len, id) == 0)
        return 0;
    http_respond_error(req, HTTP_STATUS_BAD_REQUEST, "task id must be a positive integer");
    return -1;
}

/* Decodes the body for mode, or answers 400 and returns -1. */
static int body_task(struct http_request *req, enum task_decode_mode mode, struct task_input *in)
{
    char err[256];
    if (task_decode(req->body.data, req->body.len, mode, in, err, sizeof err) == 0)
        return 0;
    http_respond_error(req, HTTP_STATUS_BAD_REQUEST, err);
    return -1;
}

/* 200 with the task written into req->out, or the store's error. */
static void answer_ok(struct http_request *req, enum store_status st)
{
    respond_store(req, st, HTTP_STATUS_OK, HTTP_JSON);
}

/* A member of a batch of GETs: the id it asks for, and whether a row for it came back. */
struct wanted_task {
    int64_t id;
    bool found;
};

/* Writes a row into the response of every member that asked for its id. */
static int write_wanted(const struct task *task, void *ctx)
{
    struct batch *batch = ctx;
    for (size_t k = 0; k < batch->n; k++) {
        struct wanted_task *w = batch->members[k].item;
        struct http_request *req = batch->members[k].req;
        if (w->id == task->id && !w->found) {
            w->found = true;
            task_encode(&req->out, task);
        }
    }
    return 0;
}

/* Reads every task a batch of GETs asks for in one query. The batch closes before its ids are
 * collected (a member that joined later would ask for an id the query does not hold), and the
 * query is sent after that, so reads stay linearizable as the lists' do (task_list.c): every
 * member arrived before the query was sent. */
static void get_query(struct batch *batch, void *ctx)
{
    struct http_request *leader = batch->leader;
    enum store_status *st = ctx;
    batch_close(batch);
    int64_t *ids = xcalloc(batch->n, sizeof *ids);
    for (size_t k = 0; k < batch->n; k++)
        ids[k] = ((struct wanted_task *)batch->members[k].item)->id;
    *st = store_task_get_many(leader->app->store, ids, batch->n, write_wanted, batch);
    free(ids);
}

static void get_answer(struct batch *batch, void *ctx)
{
    enum store_status st = *(enum store_status *)ctx;
    for (size_t k = 0; k < batch->n; k++) {
        struct http_request *req = batch->members[k].req;
        struct wanted_task *w = batch->members[k].item;
        answer_ok(req, st == STORE_OK && !w->found ? STORE_NOT_FOUND : st);
        free(w);
    }
}

static const struct batch_steps get_steps = {get_query, get_answer, sizeof(enum store_status)};

void task_get_handler(struct http_request *req)
{
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    struct batcher *gets = req->app->handlers->gets;
    if (!gets) {
        answer_ok(req, store_task_get(req->app->store, id, write_one, &req->out));
        return;
    }
    struct wanted_task *w = xcalloc(1, sizeof *w);
    w->id = id;
    batcher_submit(gets, req, w, &get_steps);
}

/* A batch of POSTs on its way through the store: their tasks, and the outcome. */
struct create_run {
    struct batch *batch;
    struct task *tasks;
    size_t next; /* the member the next new task belongs to */
    enum store_status st;
};

/* Writes the k-th new task into the k-th member's response. */
static int write_member(const struct task *task, void *ctx)
{
    struct create_run *run = ctx;
    struct http_request *req = run->batch->members[run->next++].req;
    task_encode(&req->out, task);
    return 0;
}

/* Inserts the tasks of a batch of POSTs in one statement, which takes the tasks there are
 * when it starts. */
static void create_query(struct batch *batch, void *ctx)
{
    struct create_run *run = ctx;
    struct http_request *leader = batch->leader;
    batch_close(batch);
    run->batch = batch;
    run->tasks = xcalloc(batch->n, sizeof *run->tasks);
    for (size_t k = 0; k < batch->n; k++)
        run->tasks[k] = ((struct task_input *)batch->members[k].item)->patch.value;
    run->st = store_task_create_many(leader->app->store, run->tasks, batch->n, write_member, run);
}

/* If the database refused the statement (it rolled back), each task is tried alone, so one
 * bad task fails only itself. */
static void create_answer(struct batch *batch, void *ctx)
{
    struct create_run *run = ctx;
    size_t n = batch->n;
    for (size_t k = 0; k < n; k++) {
        struct http_request *req = batch->members[k].req;
        if (run->st == STORE_ERROR && n > 1)
            answer_ok(req,
                      store_task_create(req->app->store, &run->tasks[k], write_one, &req->out));
        else
            answer_ok(req, run->st);
        task_input_release(batch->members[k].item);
        free(batch->members[k].item);
    }
    free(run->tasks);
}

static const struct batch_steps create_steps = {create_query, create_answer,
                                                sizeof(struct create_run)};

void task_create_handler(struct http_request *req)
{
    struct task_input *in = xmalloc(sizeof *in);
    if (body_task(req, TASK_DECODE_CREATE, in) != 0) {
        free(in);
        return;
    }
    batcher_submit(req->app->handlers->creates, req, in, &create_steps);
}

/* A PUT, PATCH or DELETE in a batch (PostgreSQL): its task, its patch, and what became of it. */
struct task_write {
    int64_t id;
    struct task_input in; /* PUT, PATCH */
    enum store_status st;
    bool done; /* st is known (for a DELETE: it is the one that removed the task, or 404) */
};

static struct task_write *write_of(struct batch *batch, size_t k)
{
    return batch->members[k].item;
}

/* One round of a batch of updates: the members it holds, at most one per task id. */
struct update_round {
    struct batch *batch;
    const size_t *who; /* member indexes */
    size_t n;
};

/* Writes an updated row into the response of the round's member with its id. */
static int write_updated(const struct task *task, void *ctx)
{
    struct update_round *r = ctx;
    for (size_t i = 0; i < r->n; i++) {
        struct task_write *w = write_of(r->batch, r->who[i]);
        if (w->id == task->id && !w->done) {
            w->done = true;
            task_encode(&((struct http_request *)r->batch->members[r->who[i]].req)->out, task);
        }
    }
    return 0;
}

/* Runs one round: one statement for its members (ids distinct); if the database refused it, each
 * member alone, so that one bad patch fails only itself. */
static enum store_status update_round(struct store *store, struct update_round *r, int64_t *ids,
                                      struct task_patch *patches)
{
    for (size_t i = 0; i < r->n; i++) {
        struct task_write *w = write_of(r->batch, r->who[i]);
        ids[i] = w->id;
        patches[i] = w->in.patch;
    }
    enum store_status st = store_task_update_many(store, ids, patches, r->n, write_updated, r);
    for (size_t i = 0; i < r->n; i++) {
        struct task_write *w = write_of(r->batch, r->who[i]);
        struct http_request *req = r->batch->members[r->who[i]].req;
        if (st == STORE_ERROR && r->n > 1)
            w->st = store_task_update(store, w->id, &w->in.patch, write_one, &req->out);
        else
            w->st = st == STORE_OK && !w->done ? STORE_NOT_FOUND : st;
        w->done = true;
    }
    return st;
}

/*
 * The PUTs and PATCHes of a batch, in rounds: a round takes, of each task id, the earliest member
 * not yet run, so that two writes to one task run in the order of their requests, each answered
 * with the row as its own write left it. Reads the members after closing the batch, as every
 * step must (batch.h).
 */
static void update_query(struct batch *batch, void *ctx)
{
    (void)ctx;
    struct http_request *leader = batch->leader;
    batch_close(batch);
    size_t n = batch->n;
    size_t *who = xcalloc(n, sizeof *who);
    int64_t *ids = xcalloc(n, sizeof *ids);
    struct task_patch *patches = xcalloc(n, sizeof *patches);
    bool *ran = xcalloc(n, sizeof *ran);
    enum store_status st = STORE_OK;
    for (size_t left = n; left > 0;) {
        struct update_round r = {batch, who, 0};
        for (size_t k = 0; k < n; k++) {
            bool taken = ran[k];
            for (size_t i = 0; i < r.n && !taken; i++)
                taken = write_of(batch, who[i])->id == write_of(batch, k)->id;
            if (!taken)
                who[r.n++] = k;
        }
        for (size_t i = 0; i < r.n; i++)
            ran[who[i]] = true;
        left -= r.n;
        if (st == STORE_UNAVAILABLE) { /* gone: the later rounds are not tried */
            for (size_t i = 0; i < r.n; i++) {
                write_of(batch, who[i])->st = st;
                write_of(batch, who[i])->done = true;
            }
        } else {
            st = update_round(leader->app->store, &r, ids, patches);
        }
    }
    free(ran);
    free(patches);
    free(ids);
    free(who);
}

static void write_answer(struct batch *batch, void *ctx, int ok_status, const char *type)
{
    (void)ctx;
    for (size_t k = 0; k < batch->n; k++) {
        struct task_write *w = write_of(batch, k);
        respond_store(batch->members[k].req, w->st, ok_status, type);
        task_input_release(&w->in);
        free(w);
    }
}

static void update_answer(struct batch *batch, void *ctx)
{
    write_answer(batch, ctx, HTTP_STATUS_OK, HTTP_JSON);
}

static const struct batch_steps update_steps = {update_query, update_answer, 0};

/* Marks the earliest member that asked to delete a deleted task: that request removed it. */
static int mark_deleted(const struct task *task, void *ctx)
{
    struct batch *batch = ctx;
    for (size_t k = 0; k < batch->n; k++) {
        struct task_write *w = write_of(batch, k);
        if (w->id == task->id && !w->done) {
            w->st = STORE_OK;
            w->done = true;
            break;
        }
    }
    return 0;
}

/* Gives every member that asked to delete task id the status st. */
static void mark_all(struct batch *batch, int64_t id, enum store_status st)
{
    for (size_t k = 0; k < batch->n; k++) {
        struct task_write *w = write_of(batch, k);
        if (w->id == id) {
            w->st = st;
            w->done = true;
        }
    }
}

/* The DELETEs of a batch in one statement. Of several requests to delete one task the earliest
 * removes it and the others find it gone (404), as if they had run one after another. If the
 * database refused the statement, each task is tried alone. */
static void delete_query(struct batch *batch, void *ctx)
{
    (void)ctx;
    struct http_request *leader = batch->leader;
    struct store *store = leader->app->store;
    batch_close(batch);
    size_t n = batch->n, m = 0;
    int64_t *ids = xcalloc(n, sizeof *ids);
    for (size_t k = 0; k < n; k++) {
        bool seen = false;
        for (size_t i = 0; i < m && !seen; i++)
            seen = ids[i] == write_of(batch, k)->id;
        if (!seen)
            ids[m++] = write_of(batch, k)->id;
    }
    enum store_status st = store_task_delete_many(store, ids, m, mark_deleted, batch);
    for (size_t i = 0; i < m && st == STORE_ERROR && m > 1; i++) {
        enum store_status one = store_task_delete(store, ids[i]);
        if (one == STORE_OK)
            mark_deleted(&(struct task){.id = ids[i], .title = ""}, batch);
        else if (one != STORE_NOT_FOUND)
            mark_all(batch, ids[i], one);
    }
    if (st != STORE_OK && !(st == STORE_ERROR && m > 1))
        for (size_t i = 0; i < m; i++)
            mark_all(batch, ids[i], st);
    for (size_t k = 0; k < n; k++)
        if (!write_of(batch, k)->done)
            write_of(batch, k)->st = STORE_NOT_FOUND;
    free(ids);
}

static void delete_answer(struct batch *batch, void *ctx)
{
    write_answer(batch, ctx, HTTP_STATUS_NO_CONTENT, NULL);
}

static const struct batch_steps delete_steps = {delete_query, delete_answer, 0};

/* Batched where handlers.c has a batcher for it (PostgreSQL), else at once: item is the
 * request's struct task_write. */
static void write_submit(struct http_request *req, struct batcher *b, struct task_write *w,
                         const struct batch_steps *steps)
{
    if (b) {
        batcher_submit(b, req, w, steps);
        return;
    }
    struct store *store = req->app->store;
    if (steps == &delete_steps) {
        respond_store(req, store_task_delete(store, w->id), HTTP_STATUS_NO_CONTENT, NULL);
    } else {
        answer_ok(req, store_task_update(store, w->id, &w->in.patch, write_one, &req->out));
        task_input_release(&w->in);
    }
    free(w);
}

static void update(struct http_request *req, enum task_decode_mode mode)
{
    struct task_write *w = xcalloc(1, sizeof *w);
    if (path_id(req, &w->id) != 0 || body_task(req, mode, &w->in) != 0) {
        free(w);
        return;
    }
    write_submit(req, req->app->handlers->updates, w, &update_steps);
}

void task_replace_handler(struct http_request *req)
{
    update(req, TASK_DECODE_REPLACE);
}

void task_patch_handler(struct http_request *req)
{
    update(req, TASK_DECODE_PATCH);
}

void task_delete_handler(struct http_request *req)
{
    struct task_write *w = xcalloc(1, sizeof *w);
    if (path_id(req, &w->id) != 0) {
        free(w);
        return;
    }
    write_submit(req, req->app->handlers->deletes, w, &delete_steps);
}
