/*
 * clock.h — the monotonic clock, for durations and deadlines (never the wall clock, which can
 * jump). Deadlines are CLOCK_MONOTONIC timespecs, usable with pthread_cond_timedwait on a
 * condition variable made by clock_cond_init.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Nanoseconds on the monotonic clock (for durations). */
uint64_t clock_now_ns(void);
/* The monotonic time ms milliseconds (us microseconds, not negative) from now. */
struct timespec clock_deadline_ms(int ms);
struct timespec clock_deadline_us(int64_t us);
bool clock_passed(const struct timespec *deadline);
/* Milliseconds until deadline, 0 once it has passed. */
int clock_left_ms(const struct timespec *deadline);
/* Initialises cond so that pthread_cond_timedwait measures deadlines on CLOCK_MONOTONIC. */
void clock_cond_init(pthread_cond_t *cond);

#endif
