/* SPDX-License-Identifier: Apache-2.0 */
/*
 * poll.c - the wait between submitting a request and its issuance.
 */
#include "poll.h"

#include <stdio.h>
#include <time.h>

#include "interrupt.h"
#include "log.h"

#define FIRST_DEFAULT   2
#define MAX_DEFAULT     60
#define RETRY_AFTER_CAP 3600

long poll_next_delay(long prev, long retry_after, const struct poll_opts *o)
{
    long first = o->first_s > 0 ? o->first_s : FIRST_DEFAULT;
    long max = o->max_s > 0 ? o->max_s : MAX_DEFAULT;
    long next;

    if (max < first)
        max = first;
    next = prev <= 0 ? first : prev * 2;
    if (next > max)
        next = max;
    if (retry_after > RETRY_AFTER_CAP)
        retry_after = RETRY_AFTER_CAP;
    if (retry_after > next)
        next = retry_after;
    return next;
}

const char *poll_elapsed_str(long secs, char *buf, size_t size)
{
    if (secs < 0)
        secs = 0;
    if (secs >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", secs / 3600, secs / 60 % 60,
                 secs % 60);
    else
        snprintf(buf, size, "%ld:%02ld", secs / 60, secs % 60);
    return buf;
}

static time_t now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

long poll_seconds_left(const struct poll_opts *o)
{
    return (long)(o->deadline - now_mono());
}

enum pe_rc poll_until_done(struct ca *ca, const char *id,
                           const struct poll_opts *o, poll_note_fn note,
                           void *arg, struct ca_status *st)
{
    time_t start = now_mono();
    long delay = 0, elapsed, left;
    char el[32];
    enum pe_rc rc;

    for (;;) {
        rc = ca->ops->poll(ca, id, st);
        if (rc != PE_OK)
            return rc;
        if (note != NULL)
            note(arg, st);
        elapsed = (long)(now_mono() - start);
        if (st->state == CA_STATE_ISSUED) {
            say("Request %s: %s after %s.", id, st->word,
                poll_elapsed_str(elapsed, el, sizeof(el)));
            return PE_OK;
        }
        if (st->state == CA_STATE_REJECTED)
            return pe_failf(
                PE_E_REJECTED, "The CA rejected request %s (status %s)%s%s.",
                id, st->word, st->reason[0] != '\0' ? ": " : "", st->reason);
        left = poll_seconds_left(o);
        if (left <= 0) {
            say("Request %s: %s (waited %s).", id, st->word,
                poll_elapsed_str(elapsed, el, sizeof(el)));
            return PE_PENDING;
        }
        delay = poll_next_delay(delay, st->retry_after, o);
        if (delay > left)
            delay = left;
        say("Request %s: %s, waited %s; asking again in %ld s.", id, st->word,
            poll_elapsed_str(elapsed, el, sizeof(el)), delay);
        rc = interrupt_sleep(delay);
        if (rc != PE_OK)
            return rc;
    }
}
