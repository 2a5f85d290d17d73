/*
 * task.c — the to-do API: /api/task/{id}/ and POST /api/task/ (the list is task_list.c).
 *
 * Concurrent POSTs share one INSERT and one commit (handlers/batch.h, ADR 0010): a POST that
 * arrives while another batch of creates is running waits, suspended, for the next one. Every
 * 200 still means the task is committed. Concurrent PUTs and PATCHes share one UPDATE, DELETEs
 * one DELETE, the same way (ADR 0030; on SQLite one transaction, ADR 0031). Where handlers.c
 * batches them (PostgreSQL), concurrent GETs of one task share one SELECT, as the lists do
 * (task_list.c). On PostgreSQL no store call runs on the server's threads: batches lead on
 * offload threads (handlers.c, ADR 0029).
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

static const struct batch_steps get_steps = {
    .query = get_query, .answer = get_answer, .ctx_size = sizeof(enum store_status)};

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

static const struct batch_steps create_steps = {
    .query = create_query, .answer = create_answer, .ctx_size = sizeof(struct create_run)};

void task_create_handler(struct http_request *req)
{
    struct task_input *in = xmalloc(sizeof *in);
    if (body_task(req, TASK_DECODE_CREATE, in) != 0) {
        free(in);
        return;
    }
    batcher_submit(req->app->handlers->creates, req, in, &create_steps);
}

/* A PUT, PATCH or DELETE in a batch: its task, its patch, and what became of it. */
struct task_write {
    int64_t id;
    struct task_input in; /* PUT, PATCH */
    enum store_status st;
    bool found; /* the statement returned its task */
};

static struct task_write *write_of(const struct batch *batch, size_t k)
{
    return batch->members[k].item;
}

/* On PostgreSQL a write joins a batch only if no member writes its task yet: the tasks of a batch
 * are distinct, and a second write to one task goes in the next batch (ADR 0030). SQLite applies
 * a batch's writes one after another (store_writes_in_order), so writes of one task share a
 * batch too (ADR 0034). */
static bool write_joins(const struct batch *batch, const void *item)
{
    const struct task_write *w = item;
    if (store_writes_in_order(((struct http_request *)batch->leader)->app->store))
        return true;
    for (size_t k = 0; k < batch->n; k++)
        if (write_of(batch, k)->id == w->id)
            return false;
    return true;
}

/* The first member writing task id that has no row yet (the store visits the writes of one task
 * in their order), else the last member. */
static size_t member_of(const struct batch *batch, int64_t id)
{
    size_t k = 0;
    while (k + 1 < batch->n && (write_of(batch, k)->id != id || write_of(batch, k)->found))
        k++;
    return k;
}

/* Writes an updated row into its member's response. */
static int write_updated(const struct task *task, void *ctx)
{
    struct batch *batch = ctx;
    size_t k = member_of(batch, task->id);
    struct task_write *w = write_of(batch, k);
    if (w->id == task->id && !w->found) {
        w->found = true;
        task_encode(&((struct http_request *)batch->members[k].req)->out, task);
    }
    return 0;
}

/* The statement's status for every member: a member whose task it did not return is 404. */
static void write_status(struct batch *batch, enum store_status st)
{
    for (size_t k = 0; k < batch->n; k++) {
        struct task_write *w = write_of(batch, k);
        w->st = st == STORE_OK && !w->found ? STORE_NOT_FOUND : st;
    }
}

/* The PUTs and PATCHes of a batch (write_joins) in one store call (PostgreSQL: one UPDATE;
 * SQLite: one transaction); a lone one in the plain statement, which need not lock rows in order
 * first. If the database refused it (nothing changed), each alone, so that one bad write fails
 * only itself. Reads the members after closing the batch, as every step must (batch.h). */
static void update_query(struct batch *batch, void *ctx)
{
    (void)ctx;
    struct store *store = ((struct http_request *)batch->leader)->app->store;
    batch_close(batch);
    size_t n = batch->n;
    int64_t *ids = xcalloc(n, sizeof *ids);
    struct task_patch *patches = xcalloc(n, sizeof *patches);
    for (size_t k = 0; k < n; k++) {
        ids[k] = write_of(batch, k)->id;
        patches[k] = write_of(batch, k)->in.patch;
    }
    enum store_status st =
        n == 1 ? store_task_update(store, ids[0], &patches[0], write_updated, batch)
               : store_task_update_many(store, ids, patches, n, write_updated, batch);
    write_status(batch, st);
    for (size_t k = 0; k < n && st == STORE_ERROR && n > 1; k++) {
        struct http_request *req = batch->members[k].req;
        write_of(batch, k)->st =
            store_task_update(store, ids[k], &patches[k], write_one, &req->out);
    }
    free(patches);
    free(ids);
}

static void write_answer(struct batch *batch, int ok_status, const char *type)
{
    for (size_t k = 0; k < batch->n; k++) {
        struct task_write *w = write_of(batch, k);
        respond_store(batch->members[k].req, w->st, ok_status, type);
        task_input_release(&w->in);
        free(w);
    }
}

static void update_answer(struct batch *batch, void *ctx)
{
    (void)ctx;
    write_answer(batch, HTTP_STATUS_OK, HTTP_JSON);
}

static const struct batch_steps update_steps = {
    .query = update_query, .answer = update_answer, .ctx_size = 0, .joins = write_joins};

static int mark_deleted(const struct task *task, void *ctx)
{
    struct batch *batch = ctx;
    struct task_write *w = write_of(batch, member_of(batch, task->id));
    if (w->id == task->id)
        w->found = true;
    return 0;
}

/* The DELETEs of a batch (write_joins) in one store call; if the database refused it, each
 * alone. */
static void delete_query(struct batch *batch, void *ctx)
{
    (void)ctx;
    struct store *store = ((struct http_request *)batch->leader)->app->store;
    batch_close(batch);
    size_t n = batch->n;
    int64_t *ids = xcalloc(n, sizeof *ids);
    for (size_t k = 0; k < n; k++)
        ids[k] = write_of(batch, k)->id;
    enum store_status st = store_task_delete_many(store, ids, n, mark_deleted, batch);
    write_status(batch, st);
    for (size_t k = 0; k < n && st == STORE_ERROR && n > 1; k++)
        write_of(batch, k)->st = store_task_delete(store, ids[k]);
    free(ids);
}

static void delete_answer(struct batch *batch, void *ctx)
{
    (void)ctx;
    write_answer(batch, HTTP_STATUS_NO_CONTENT, NULL);
}

static const struct batch_steps delete_steps = {
    .query = delete_query, .answer = delete_answer, .ctx_size = 0, .joins = write_joins};

static void update(struct http_request *req, enum task_decode_mode mode)
{
    int64_t id;
    struct task_input in;
    if (path_id(req, &id) != 0 || body_task(req, mode, &in) != 0)
        return;
    struct task_write *w = xcalloc(1, sizeof *w);
    w->id = id;
    w->in = in;
    batcher_submit(req->app->handlers->updates, req, w, &update_steps);
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
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    struct task_write *w = xcalloc(1, sizeof *w);
    w->id = id;
    batcher_submit(req->app->handlers->deletes, req, w, &delete_steps);
}
