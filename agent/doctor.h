/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor.h - `p11enroll doctor`: pre-flight checks, each named by one
 * sentence, before an enrollment or renewal spends a key or an order.
 *
 *   struct doctor_report r = {0};
 *   doctor_token(&r, &tokopts, window, probe); module, token, PIN, certs
 *   doctor_ca(&r, &caopts);                  TLS, clock, credentials
 *   doctor_print(&r, stdout) or doctor_json(&r);
 *   rc = doctor_outcome(&r);                 the first failure's result
 *
 * A check is ok, warn (works, but look at it), fail (enrollment would
 * fail; carries the result code of its class) or skip (not checked, and
 * the sentence says why).
 */
#ifndef P11E_DOCTOR_H
#define P11E_DOCTOR_H

#include <stdio.h>

#include <jansson.h>

#include "rc.h"
#include "tokopt.h"

#define DOCTOR_MAX_CHECKS 48
#define DOCTOR_MSG_MAX    600

enum doctor_status { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL, DOCTOR_SKIP };

struct doctor_check {
    char name[24]; /* "module", "token", "pin", "certificate", ... */
    enum doctor_status status;
    enum pe_rc rc; /* fail: the class of the problem; else PE_OK */
    char msg[DOCTOR_MSG_MAX];
};

struct doctor_report {
    struct doctor_check v[DOCTOR_MAX_CHECKS];
    size_t n;
};

/* "ok", "warn", "fail", "skip". */
const char *doctor_status_name(enum doctor_status s);

/* Append a check (printf-style sentence); beyond DOCTOR_MAX_CHECKS the
 * last one is overwritten.  rc is kept only for fail. */
void doctor_add(struct doctor_report *r, const char *name,
                enum doctor_status st, enum pe_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The token side: module loads, token found, its family, state, PIN
 * tries, login (with the PIN options given), key types and free space (as
 * far as the token layer tells), and every leaf certificate's expiry
 * (window seconds: warn) and chain.  probe: each key type the token lists
 * is made in the session, signed with once and removed. */
void doctor_token(struct doctor_report *r, const struct tokopt *to, long window,
                  bool probe);

struct doctor_ca_opts {
    const char *url;         /* REST endpoint or form URL; NULL: no checks */
    bool form;               /* url is a self-enrollment form */
    const char *ca_file;     /* trust for HTTPS; NULL: the system store */
    const char *client_id;   /* REST */
    const char *secret_spec; /* REST: "file:P", "fd:N" or "env:V" */
    const char *token_url;   /* REST: OAuth token URL; NULL: from the 401 */
    long timeout_s;          /* 0: 20 s */
};

/* The CA side: reachable with a trusted TLS certificate, the clock
 * against the server's Date, and the credentials (REST: an OAuth token
 * with the client secret; forms are not logged into, as that mails a
 * one-time code). */
void doctor_ca(struct doctor_report *r, const struct doctor_ca_opts *o);

/* ok within 60 s of the CA's clock, warn up to 5 min, fail beyond. */
enum doctor_status doctor_skew_status(long skew_s);

/* Human output: one line per check, then a count. */
void doctor_print(const struct doctor_report *r, FILE *f);

/* {"checks": [{"name","status","message","error"?}], "ok","warnings",
 *  "failed","skipped"} (new reference; NULL when out of memory). */
json_t *doctor_json(const struct doctor_report *r);

/* PE_OK when nothing failed, else the first failure's rc with its
 * sentence as the detail (pe_sentence). */
enum pe_rc doctor_outcome(const struct doctor_report *r);

#endif
