/*
 * offload.c — store calls on threads of their own (see offload.h).
 */
#include "handlers/offload.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "util/xalloc.h"

struct offload {
    pthread_mutex_t lock; /* guards the queue and stopping */
    pthread_cond_t queued;
    struct offload_job *head, *tail;
    bool stopping; /* offload_finish: run what is queued, then end; run new jobs at submit */
    int threads;   /* running; 0: none could start, or finished (jobs run at submit) */
    pthread_t *ids;
};

static void *worker(void *arg)
{
    struct offload *o = arg;
    pthread_mutex_lock(&o->lock);
    for (;;) {
        struct offload_job *job = o->head;
        if (!job) {
            if (o->stopping)
                break;
            pthread_cond_wait(&o->queued, &o->lock);
            continue;
        }
        o->head = job->next;
        if (!o->head)
            o->tail = NULL;
        pthread_mutex_unlock(&o->lock);
        job->run(job); /* may free job */
        pthread_mutex_lock(&o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

struct offload *offload_new(int threads)
{
    struct offload *o = xcalloc(1, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->queued, NULL);
    if (threads < 1)
        threads = 1;
    o->ids = xcalloc((size_t)threads, sizeof *o->ids);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&o->ids[i], NULL, worker, o) != 0) {
            log_msg(LOG_WARN, "offload: started %d of %d threads; %s", i, threads,
                    i ? "they run every job" : "store calls run on the server's threads");
            break;
        }
        o->threads++;
    }
    return o;
}

void offload_submit(struct offload *o, struct offload_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&o->lock);
    if (!o->threads || o->stopping) { /* none started, or finishing: run it here */
        pthread_mutex_unlock(&o->lock);
        job->run(job);
        return;
    }
    if (o->tail)
        o->tail->next = job;
    else
        o->head = job;
    o->tail = job;
    pthread_cond_signal(&o->queued);
    pthread_mutex_unlock(&o->lock);
}

void offload_finish(struct offload *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    pthread_cond_broadcast(&o->queued);
    pthread_mutex_unlock(&o->lock);
    for (int i = 0; i < o->threads; i++)
        pthread_join(o->ids[i], NULL); /* each ends with the queue empty */
    pthread_mutex_lock(&o->lock);
    o->threads = 0;
    pthread_mutex_unlock(&o->lock);
}

void offload_free(struct offload *o)
{
    if (!o)
        return;
    offload_finish(o);
    free(o->ids);
    pthread_cond_destroy(&o->queued);
    pthread_mutex_destroy(&o->lock);
    free(o);
}
