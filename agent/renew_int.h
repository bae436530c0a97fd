/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew_int.h - what renew.c, renew_survey.c and renew_retire.c share; not
 * for other files.
 */
#ifndef P11E_RENEW_INT_H
#define P11E_RENEW_INT_H

#include "journal.h"
#include "renew.h"
#include "tokopt.h"

/* A leaf certificate on the token, and what the journal says of it. */
struct leaf {
    struct renew_item it;         /* token, key_id, subject, serial, not_after,
                                     sha256 */
    enum expiry_state state;      /* superseded only through the journal */
    const struct tok_object *obj; /* while the object list lives, else NULL */
    /* the newest renewal record naming this very certificate as its
     * predecessor ("" if none), its status and key; superseded: the
     * certificate on the token that succeeds it (that record's, or one
     * that replaced it with the same key) */
    char succ_id[40], succ_key_id[80];
    enum journal_status succ_status;
    char live_key_id[80], live_serial[80];
};

struct survey {
    char uri[512];
    struct leaf *v;
    size_t n;
    time_t next_due;
};

/* ---- renew_survey.c ---------------------------------------------------- */

/* The leaves of list on the token uri, their lineage from jl (may be
 * NULL), each due at window (EXPIRY_WINDOW_AUTO: its own default).  Fills
 * *sv (survey_clear), its leaves pointing into list. */
enum pe_rc survey_list(const char *uri, const struct tok_object_list *list,
                       const struct journal_list *jl, long window,
                       struct survey *sv);

/* Open the token of to (no login: certificates are public) and survey it
 * with the journal of dir.  Fills *sv; its leaves' obj are NULL. */
enum pe_rc survey_token(const struct tokopt *to, const char *dir, long window,
                        struct survey *sv);

void survey_clear(struct survey *sv);

/* The SHA-256 of cert's DER as lower-case hex into buf[65] ("" if none). */
const char *survey_cert_sha256(X509 *cert, char *buf, size_t size);

/* A journal time (RFC 3339, or the older "... UTC" form) as time_t; 0 if
 * not one. */
time_t survey_journal_time(const char *s);

/* ---- renew.c, for renew_retire.c ------------------------------------- */

/* A new item in res (a copy of from, or zeroed); NULL when full. */
struct renew_item *renew_item_add(struct renew_result *res,
                                  const struct renew_item *from);

/* Mark it failed (or pending) with rc's sentence. */
void renew_item_fail(struct renew_item *it, enum pe_rc rc);

/* Run --notify-cmd for it, if one was given. */
void renew_notify(const struct renew_opts *ro, const char *event,
                  const struct renew_item *it);

/* ---- renew_retire.c ---------------------------------------------------- */

/* --retire-old on one token, after its renewals: log in, survey it again,
 * and remove each predecessor whose successor is installed and signs. */
void renew_retire_target(const struct renew_opts *ro, const struct tokopt *to,
                         struct renew_result *res);

#endif
