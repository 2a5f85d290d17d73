/*
 * test_batch.c — the batcher (handlers/batch.h) with real threads and no HTTP: joiners are
 * parked and resumed exactly once, the leader sees and answers every member, max_members
 * closes a batch, max_in_flight holds later leaders, and max_wait_ms lets a leader run
 * alongside a stalled one.
 *
 * With an offload (handlers/offload.h) the leader is parked too and its steps run on an offload
 * thread; the offload itself runs jobs in order and all of them before it finishes.
 *
 * A leader's query step can be held at a gate, with its batch still open or already closed,
 * so that the test decides who arrives while a batch is open or running.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "handlers/batch.h"
#include "tap.h"

/* Bounds every wait of the test: a broken batcher fails it instead of hanging it. */
#define WAIT_MS 5000

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool open;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    g->open = false;
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
}

static void gate_pass(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->changed, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000}, NULL);
}

/* Polls cond for at most WAIT_MS. */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        for (int wait_i = 0; wait_i < WAIT_MS && !(cond); wait_i++)                                \
            sleep_ms(1);                                                                           \
    } while (0)

struct lead;

/* A request as the batcher sees it; lead records what its batch's steps did if it leads. */
struct req {
    atomic_int parked, resumed, answered;
    struct lead *lead;
    int key; /* for joins: requests with one key never share a batch */
};

static atomic_int parked_total;
static atomic_int queries_running, queries_running_max;
static atomic_int wrong_items; /* members whose item was not their own */

static void park(void *r)
{
    atomic_fetch_add(&((struct req *)r)->parked, 1);
    atomic_fetch_add(&parked_total, 1);
}

static void resume(void *r)
{
    atomic_fetch_add(&((struct req *)r)->resumed, 1);
}

/* What a leader's steps do and saw. */
struct lead {
    struct gate *gate; /* the query waits here, or NULL */
    bool close_first;  /* close the batch before waiting at the gate */
    atomic_bool started, finished;
    void *leader;       /* batch->leader as the query found it */
    pthread_t thread;   /* that ran the query */
    size_t seen;        /* members when the query ran */
    struct req *who[8]; /* members as the answer step found them */
    size_t answered;
};

static void query(struct batch *batch, void *ctx)
{
    struct lead *l = ((struct req *)batch->leader)->lead;
    *(int *)ctx += 1; /* the batch's own ctx: zeroed, and seen by answer */
    int now = atomic_fetch_add(&queries_running, 1) + 1;
    int max = atomic_load(&queries_running_max);
    while (now > max && !atomic_compare_exchange_weak(&queries_running_max, &max, now))
        ;
    l->leader = batch->leader;
    l->thread = pthread_self();
    atomic_store(&l->started, true);
    if (l->close_first)
        batch_close(batch);
    if (l->gate)
        gate_pass(l->gate);
    batch_close(batch); /* what the store's sent hook does */
    l->seen = batch->n;
    atomic_fetch_sub(&queries_running, 1);
}

static atomic_int bad_ctx; /* answers that did not find the query's mark in the batch's ctx */

static void answer(struct batch *batch, void *ctx)
{
    struct lead *l = ((struct req *)batch->leader)->lead;
    if (*(int *)ctx != 1)
        atomic_fetch_add(&bad_ctx, 1);
    for (size_t i = 0; i < batch->n; i++) {
        struct req *r = batch->members[i].req;
        if (batch->members[i].item != (void *)r)
            atomic_fetch_add(&wrong_items, 1);
        atomic_fetch_add(&r->answered, 1);
        if (i < 8)
            l->who[i] = r;
    }
    l->answered = batch->n;
    atomic_store(&l->finished, true);
}

static const struct batch_steps steps = {.query = query, .answer = answer, .ctx_size = sizeof(int)};

static bool key_is_new(const struct batch *batch, const void *item)
{
    for (size_t i = 0; i < batch->n; i++)
        if (((const struct req *)batch->members[i].item)->key == ((const struct req *)item)->key)
            return false;
    return true;
}

static const struct batch_steps keyed_steps = {
    .query = query, .answer = answer, .ctx_size = sizeof(int), .joins = key_is_new};

struct submitter {
    pthread_t thread;
    const struct batch_steps *steps; /* NULL: steps */
    struct batcher *b;
    struct req *r;
    struct lead lead;
    atomic_bool returned;
    bool led;
};

static void *submit_main(void *arg)
{
    struct submitter *s = arg;
    s->led = batcher_submit(s->b, s->r, s->r, s->steps ? s->steps : &steps);
    atomic_store(&s->returned, true);
    return NULL;
}

/* Submits r on this thread, recording what its steps do in *l if it leads. */
static bool submit_now(struct batcher *b, struct req *r, struct lead *l)
{
    r->lead = l;
    return batcher_submit(b, r, r, &steps);
}

static void submit_async(struct submitter *s, struct batcher *b, struct req *r, struct gate *g,
                         bool close_first)
{
    s->b = b;
    s->r = r;
    r->lead = &s->lead;
    s->lead.gate = g;
    s->lead.close_first = close_first;
    pthread_create(&s->thread, NULL, submit_main, s);
}

static void reset_counters(void)
{
    atomic_store(&parked_total, 0);
    atomic_store(&queries_running, 0);
    atomic_store(&queries_running_max, 0);
}

/* Joiners are parked at once and resumed exactly once; the leader sees and answers them all. */
static void test_join(void)
{
    reset_counters();
    struct batcher *b = batcher_new(1, WAIT_MS * 1000, 0, park, resume, NULL);
    struct gate g;
    gate_init(&g);
    struct req leader = {0}, joiners[5] = {{0}};
    struct submitter s = {0};
    submit_async(&s, b, &leader, &g, false);
    WAIT_FOR(atomic_load(&s.lead.started));
    ok(atomic_load(&s.lead.started), "a lone request leads its batch at once");
    for (int i = 0; i < 5; i++) {
        struct lead unused = {0};
        bool led = submit_now(b, &joiners[i], &unused);
        ok(!led, "a request arriving while the batch is open joins it and returns");
        is_int(atomic_load(&joiners[i].parked), 1, "the joiner is parked");
    }
    is_int(atomic_load(&joiners[0].resumed), 0, "no joiner is resumed before the round trip");
    gate_open(&g);
    pthread_join(s.thread, NULL);
    ok(s.led, "the leader's submit returns true");
    is_int(s.lead.seen, 6, "the leader's query sees every member");
    is_int(s.lead.answered, 6, "the leader answers every member");
    ok(s.lead.who[0] == &leader && s.lead.leader == &leader,
       "members[0] and batch->leader are the leader");
    int once = 0;
    for (int i = 0; i < 5; i++)
        once += atomic_load(&joiners[i].parked) == 1 && atomic_load(&joiners[i].resumed) == 1 &&
                atomic_load(&joiners[i].answered) == 1;
    is_int(once, 5, "every joiner is parked, answered and resumed exactly once");
    ok(atomic_load(&leader.parked) == 0 && atomic_load(&leader.resumed) == 0 &&
           atomic_load(&leader.answered) == 1,
       "the leader is answered, never parked or resumed");
    batcher_free(b);
}

/* A batch with max_members members takes no more: the next request leads the next batch, which
 * runs only once the first is done (one in flight). */
static void test_max_members(void)
{
    reset_counters();
    struct batcher *b = batcher_new(1, WAIT_MS * 1000, 3, park, resume, NULL);
    struct gate g;
    gate_init(&g);
    struct req first = {0}, j[2] = {{0}}, later[2] = {{0}};
    struct submitter a = {0}, s[2] = {{0}};
    submit_async(&a, b, &first, &g, false);
    WAIT_FOR(atomic_load(&a.lead.started));
    struct lead unused = {0};
    for (int i = 0; i < 2; i++)
        submit_now(b, &j[i], &unused);
    /* The batch is full and still running: of two more requests one leads the next batch
     * (and waits for its slot), the other joins it. */
    for (int i = 0; i < 2; i++)
        submit_async(&s[i], b, &later[i], NULL, false);
    WAIT_FOR(atomic_load(&parked_total) == 3);
    is_int(atomic_load(&parked_total), 3, "two joined the first batch, one the second");
    ok(!atomic_load(&s[0].lead.started) && !atomic_load(&s[1].lead.started),
       "the second batch does not run while the first is in flight");
    gate_open(&g);
    pthread_join(a.thread, NULL);
    pthread_join(s[0].thread, NULL);
    pthread_join(s[1].thread, NULL);
    is_int(a.lead.seen, 3, "the first batch closed at max_members");
    ok(s[0].led != s[1].led, "one of the two later requests led");
    struct submitter *l2 = s[0].led ? &s[0] : &s[1];
    is_int(l2->lead.seen, 2, "the second batch holds the two later requests");
    is_int(atomic_load(&queries_running_max), 1, "never two queries at once");
    int resumed = 0;
    for (int i = 0; i < 2; i++)
        resumed += atomic_load(&j[i].resumed) + atomic_load(&later[i].resumed);
    is_int(resumed, 3, "every joiner resumed once");
    batcher_free(b);
}

/* max_in_flight batches run at once; a later leader waits for a slot while its batch fills. */
static void test_max_in_flight(void)
{
    reset_counters();
    struct batcher *b = batcher_new(2, WAIT_MS * 1000, 0, park, resume, NULL);
    struct gate g;
    gate_init(&g);
    struct req r[3] = {{0}}, joiner = {0};
    struct submitter s[3] = {{0}};
    submit_async(&s[0], b, &r[0], &g, true);
    WAIT_FOR(atomic_load(&s[0].lead.started));
    submit_async(&s[1], b, &r[1], &g, true);
    WAIT_FOR(atomic_load(&s[1].lead.started));
    ok(atomic_load(&s[1].lead.started), "a second batch runs alongside the first (2 in flight)");
    submit_async(&s[2], b, &r[2], NULL, false);
    sleep_ms(100); /* it must not start however long we wait */
    ok(!atomic_load(&s[2].lead.started), "a third leader waits while two batches run");
    struct lead unused = {0};
    ok(!submit_now(b, &joiner, &unused), "a request joins the waiting leader's batch");
    gate_open(&g);
    for (int i = 0; i < 3; i++)
        pthread_join(s[i].thread, NULL);
    is_int(s[2].lead.seen, 2, "the waiting batch filled meanwhile");
    is_int(atomic_load(&queries_running_max), 2, "at most two queries at once");
    is_int(atomic_load(&joiner.resumed), 1, "its joiner resumed once");
    batcher_free(b);
}

/* Behind a stalled round trip a leader runs after max_wait_ms instead of waiting for it. */
static void test_max_wait(void)
{
    reset_counters();
    struct batcher *b = batcher_new(1, 100 * 1000, 0, park, resume, NULL);
    struct gate g;
    gate_init(&g);
    struct req stalled = {0}, next = {0};
    struct submitter a = {0}, s = {0};
    submit_async(&a, b, &stalled, &g, true);
    WAIT_FOR(atomic_load(&a.lead.started));
    submit_async(&s, b, &next, NULL, false);
    WAIT_FOR(atomic_load(&s.returned));
    ok(atomic_load(&s.returned) && s.led, "the next leader ran and answered");
    ok(!atomic_load(&a.lead.finished), "while the stalled round trip still ran");
    is_int(atomic_load(&queries_running_max), 2, "the two ran alongside");
    gate_open(&g);
    pthread_join(a.thread, NULL);
    pthread_join(s.thread, NULL);
    ok(a.led && a.lead.answered == 1, "the stalled leader finishes later");
    /* Its slot came back: the batcher is whole again, one in flight. */
    struct req after = {0};
    struct lead l = {0};
    ok(submit_now(b, &after, &l) && l.answered == 1, "a later request leads at once");
    batcher_free(b);
}

/* With an offload no submitter waits: the leader is parked and returns at once, a leader
 * behind a running batch too; the steps run on an offload thread, which resumes every member,
 * the leader included, exactly once, and still runs one batch at a time. */
static void test_offloaded(void)
{
    reset_counters();
    struct offload *o = offload_new(2);
    struct batcher *b = batcher_new(1, WAIT_MS * 1000, 0, park, resume, o);
    struct gate g;
    gate_init(&g);
    struct req first = {0}, joiner = {0}, second = {0}, joiner2 = {0};
    struct lead l1 = {.gate = &g, .close_first = true}, l2 = {0}, unused = {0};
    ok(!submit_now(b, &first, &l1), "an offloaded leader's submit returns at once");
    is_int(atomic_load(&first.parked), 1, "and its request is parked");
    WAIT_FOR(atomic_load(&l1.started));
    ok(atomic_load(&l1.started) && !pthread_equal(l1.thread, pthread_self()),
       "its query runs on another thread");
    /* The first batch is closed and stalled at the gate: the next request leads a batch that
     * must wait for the slot, on an offload thread, not here. */
    ok(!submit_now(b, &second, &l2), "a leader behind a running batch returns at once too");
    ok(!submit_now(b, &joiner2, &unused), "a request joins that waiting batch");
    sleep_ms(50);
    ok(!atomic_load(&l2.started), "the waiting batch does not run while the first is in flight");
    gate_open(&g);
    WAIT_FOR(atomic_load(&second.resumed) == 1 && atomic_load(&joiner2.resumed) == 1 &&
             atomic_load(&first.resumed) == 1);
    is_int(l1.seen, 1, "the first batch closed with its leader alone");
    is_int(l2.seen, 2, "the second batch holds its leader and its joiner");
    int once = 0;
    struct req *all[] = {&first, &second, &joiner2};
    for (int i = 0; i < 3; i++)
        once += atomic_load(&all[i]->parked) == 1 && atomic_load(&all[i]->resumed) == 1 &&
                atomic_load(&all[i]->answered) == 1;
    is_int(once, 3, "every member, leaders included, is parked, answered and resumed once");
    is_int(atomic_load(&queries_running_max), 1, "never two queries at once");
    is_int(atomic_load(&joiner.parked), 0, "(a request that never submitted is untouched)");
    offload_free(o);
    batcher_free(b);
}

/* The offload on its own: jobs in order, every one before offload_finish returns (one a job
 * submits while it finishes too: at once), and after it on the caller's thread. */
struct order_job {
    struct offload_job job;
    struct offload *o;
    int index;
    pthread_t thread;
    atomic_bool ran;
};

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int order[64], order_n;
static struct order_job chained;

static void order_run(struct offload_job *job)
{
    struct order_job *j = (struct order_job *)job;
    pthread_mutex_lock(&order_lock);
    order[order_n++] = j->index;
    pthread_mutex_unlock(&order_lock);
    j->thread = pthread_self();
    if (j->index == 0)
        sleep_ms(50);    /* the rest queue up behind it */
    if (j->index == 9) { /* queues one more while finishing */
        chained.job.run = order_run;
        chained.index = 10;
        offload_submit(j->o, &chained.job);
    }
    atomic_store(&j->ran, true);
}

static void test_offload_order(void)
{
    struct offload *o = offload_new(1);
    struct order_job jobs[10];
    for (int i = 0; i < 10; i++) {
        jobs[i] = (struct order_job){.job.run = order_run, .o = o, .index = i};
        offload_submit(o, &jobs[i].job);
    }
    offload_finish(o);
    is_int(order_n, 11, "offload_finish returns after every job, and the one a job queued");
    int in_order = 0;
    for (int i = 0; i < order_n; i++)
        in_order += order[i] == i;
    is_int(in_order, 11, "one thread runs the jobs in the order they were queued");
    ok(!pthread_equal(jobs[3].thread, pthread_self()), "on a thread of the offload's");
    struct order_job late = {.job.run = order_run, .o = o, .index = 11};
    offload_submit(o, &late.job);
    ok(atomic_load(&late.ran) && pthread_equal(late.thread, pthread_self()),
       "after offload_finish a job runs at once, on the caller's thread");
    offload_free(o);
    offload_free(NULL);
}

/* With joins, a request the open batch refuses closes it and leads the next batch. */
static void test_joins(void)
{
    reset_counters();
    struct batcher *b = batcher_new(1, WAIT_MS * 1000, 0, park, resume, NULL);
    struct gate g;
    gate_init(&g);
    struct req a = {.key = 1}, bb = {.key = 2}, c = {.key = 1}, d = {.key = 3};
    struct lead la = {.gate = &g}, lc = {0}, unused = {0};
    a.lead = &la;
    c.lead = &lc;
    struct submitter sa = {0}, sc = {0};
    sa.b = b, sa.r = &a, sa.steps = &keyed_steps;
    pthread_create(&sa.thread, NULL, submit_main, &sa);
    WAIT_FOR(atomic_load(&la.started));
    bb.lead = &unused;
    ok(!batcher_submit(b, &bb, &bb, &keyed_steps), "a request with another key joins");
    sc.b = b, sc.r = &c, sc.steps = &keyed_steps;
    pthread_create(&sc.thread, NULL, submit_main, &sc);
    WAIT_FOR(atomic_load(&parked_total) == 1 && !atomic_load(&sc.returned));
    sleep_ms(50);
    ok(!atomic_load(&sc.returned) && atomic_load(&c.parked) == 0,
       "a request with a key the batch holds does not join: it leads the next batch, waiting");
    d.lead = &unused;
    ok(!batcher_submit(b, &d, &d, &keyed_steps), "a later request joins that next batch");
    gate_open(&g);
    pthread_join(sa.thread, NULL);
    pthread_join(sc.thread, NULL);
    ok(sa.led && sc.led, "both led their batches");
    is_int(la.seen, 2, "the first batch held its two keys");
    is_int(lc.seen, 2, "the next batch the refused request and the later one");
    batcher_free(b);
}

int main(void)
{
    test_join();
    test_max_members();
    test_max_in_flight();
    test_max_wait();
    test_offloaded();
    test_joins();
    test_offload_order();
    is_int(atomic_load(&bad_ctx), 0, "each batch's ctx is its own, zeroed, from query to answer");
    is_int(atomic_load(&wrong_items), 0, "each member comes with its own item");
    return done_testing();
}
