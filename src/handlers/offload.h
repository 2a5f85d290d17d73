/*
 * offload.h — store calls on threads of their own, so that no worker thread of the HTTP server
 * waits for the database (ADR 0029).
 *
 * A worker thread of the server serves every connection it holds from one loop: while one of
 * its handlers waits for a round trip to PostgreSQL, all of those connections wait too, and at
 * most as many statements are in flight as there are worker threads. A handler that offloads
 * suspends its request instead (http_suspend), hands the store call to an offload thread and
 * returns; the job answers the request and resumes it (http_resume). The worker thread goes on
 * serving, and as many statements can be in flight as the pool has connections.
 *
 * Jobs run in the order they were handed over, each on whichever thread is free. A job is the
 * caller's: it embeds struct offload_job in its own state and gets it back in run.
 */
#ifndef OFFLOAD_H
#define OFFLOAD_H

struct offload;

struct offload_job {
    void (*run)(struct offload_job *job); /* set by the caller */
    struct offload_job *next;             /* the queue's */
};

/* threads below 1 means 1. */
struct offload *offload_new(int threads);
/* Queues job (job->run set); never waits. Without threads (none could be started) or once
 * offload_finish has begun, runs it at once, on the caller's thread, so that no job is left
 * queued with no thread to run it. */
void offload_submit(struct offload *o, struct offload_job *job);
/* Runs every job already queued, then ends the threads. NULL is fine. */
void offload_finish(struct offload *o);
/* offload_finish, then frees o. NULL is fine. */
void offload_free(struct offload *o);

#endif
