/* SPDX-License-Identifier: Apache-2.0 */
/*
 * poll.h - waiting for the CA: backoff that honours Retry-After, a limit,
 * and a progress line (status and elapsed time) on the terminal.
 */
#ifndef P11E_POLL_H
#define P11E_POLL_H

#include <time.h>

#include "ca.h"
#include "rc.h"

struct poll_opts {
    time_t deadline; /* CLOCK_MONOTONIC: give up (PE_PENDING) then */
    long first_s;    /* first interval (0: 2 s) */
    long max_s;      /* longest interval (0: 60 s) */
};

/* Called after each answer (e.g. to note the CA's status in a journal). */
typedef void (*poll_note_fn)(void *arg, const struct ca_status *st);

/*
 * The next interval after prev seconds (0 for the first): doubling from
 * first_s up to max_s; a Retry-After (retry_after >= 0) wins when longer,
 * capped at one hour.
 */
long poll_next_delay(long prev, long retry_after, const struct poll_opts *o);

/* Seconds left before o->deadline (0 or less: none). */
long poll_seconds_left(const struct poll_opts *o);

/*
 * Poll request id until it is issued (PE_OK), rejected (PE_E_REJECTED with
 * the CA's reason), or o->deadline passed (PE_PENDING; one look when it
 * passed already).  *st holds the last answer.  Failures of the CA calls
 * are returned as they come; a signal ends the wait (PE_E_INTERRUPTED).
 */
enum pe_rc poll_until_done(struct ca *ca, const char *id,
                           const struct poll_opts *o, poll_note_fn note,
                           void *arg, struct ca_status *st);

/* "1:05" or "2:03:04" for secs, into buf. */
const char *poll_elapsed_str(long secs, char *buf, size_t size);

#endif
