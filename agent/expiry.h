/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expiry.h - which certificates on a token are due for renewal, shared by
 * `doctor` and `renew`.
 *
 * A leaf is a certificate on the token that is not an authority one
 * (category 2, or basicConstraints CA:TRUE).  A leaf is due when it ends
 * within the window: by default the earlier of 60 days or a third of its
 * lifetime before its end (OV and EV revalidation can take weeks).
 * Whether a leaf was renewed ("superseded") only the journal can say
 * (renew_survey.c); this file never guesses it.
 */
#ifndef P11E_EXPIRY_H
#define P11E_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "rc.h"
#include "tok.h"

/* The window when none is given: per certificate, the earlier of
 * EXPIRY_WINDOW_MAX or a third of its lifetime (expiry_window). */
#define EXPIRY_WINDOW_AUTO (-1L)
#define EXPIRY_WINDOW_MAX  (60L * 86400)

enum expiry_state {
    EXPIRY_VALID,         /* current, ends after the window */
    EXPIRY_DUE,           /* current, ends within the window */
    EXPIRY_EXPIRED,       /* current, ended already */
    EXPIRY_NOT_YET_VALID, /* current, starts in the future */
    EXPIRY_SUPERSEDED,    /* its renewal is installed (from the journal) */
};

struct expiry_item {
    const struct tok_object *cert; /* borrowed from the object list */
    time_t not_before, not_after;
    enum expiry_state state;
    const struct tok_object *newer; /* superseded: its successor */
    long window;                    /* the window that applied, seconds */
};

struct expiry_plan {
    struct expiry_item *v; /* in the list's order */
    size_t n;
    time_t next_due; /* earliest not_after - window of valid leaves; 0 */
};

/* "valid", "due", "expired", "not-yet-valid", "superseded". */
const char *expiry_state_name(enum expiry_state s);

/*
 * Parse a window: "30d", "12h", "90m", "3600s" (util_duration_parse);
 * 0 .. 3650 days.  A bare number under one day (seconds) is refused with a
 * hint to give "d".  PE_E_USAGE naming the value otherwise.
 */
enum pe_rc expiry_parse_window(const char *s, long *psecs);

/* The window of a certificate valid from nb to na: window itself, or for
 * EXPIRY_WINDOW_AUTO the earlier of 60 days or a third of the lifetime. */
long expiry_window(long window, time_t nb, time_t na);

/* notBefore and notAfter of cert as time_t (UTC); PE_E_INPUT if they
 * cannot be read. */
enum pe_rc expiry_cert_times(const X509 *cert, time_t *pnb, time_t *pna);

/* true when o is a leaf certificate (see above). */
bool expiry_is_leaf(const struct tok_object *o);

/* Classify every leaf of list at now with window seconds (or
 * EXPIRY_WINDOW_AUTO); never "superseded".  Fills *plan (expiry_plan_clear). */
enum pe_rc expiry_plan_make(const struct tok_object_list *list, time_t now,
                            long window, struct expiry_plan *plan);

/* Free what plan holds and zero it; safe to call twice. */
void expiry_plan_clear(struct expiry_plan *plan);

/* Whole days from now to t, rounded down (negative when past). */
long expiry_days(time_t t, time_t now);

#endif
