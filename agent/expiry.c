/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expiry.c - leaves on a token and what is due.
 */
#include "expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "util.h"

#define WINDOW_MAX (3650L * 86400)

const char *expiry_state_name(enum expiry_state s)
{
    switch (s) {
    case EXPIRY_VALID:
        return "valid";
    case EXPIRY_DUE:
        return "due";
    case EXPIRY_EXPIRED:
        return "expired";
    case EXPIRY_NOT_YET_VALID:
        return "not-yet-valid";
    case EXPIRY_SUPERSEDED:
        return "superseded";
    }
    return "?";
}

enum pe_rc expiry_parse_window(const char *s, long *psecs)
{
    long v = 0;

    if (util_duration_parse(s, WINDOW_MAX, &v) != PE_OK)
        return pe_failf(PE_E_USAGE,
                        "\"%s\" is not a window such as 30d, 12h or 90m "
                        "(at most 3650 days).",
                        s != NULL ? s : "");
    /* A bare number is seconds, as for every duration; a window of a few
     * seconds is almost surely meant as days. */
    if (v > 0 && v < 86400 && strspn(s, "0123456789") == strlen(s))
        return pe_failf(PE_E_USAGE,
                        "A window of \"%s\" is %ld seconds; give a unit, "
                        "such as %sd for days.",
                        s, v, s);
    *psecs = v;
    return PE_OK;
}

enum pe_rc expiry_cert_times(const X509 *cert, time_t *pnb, time_t *pna)
{
    enum pe_rc rc = util_time_asn1(X509_get0_notBefore(cert), pnb);

    if (rc == PE_OK)
        rc = util_time_asn1(X509_get0_notAfter(cert), pna);
    return rc;
}

bool expiry_is_leaf(const struct tok_object *o)
{
    if (o->cls != TOK_OBJ_CERT || o->cert == NULL || o->category == 2)
        return false;
    return X509_check_ca(o->cert) == 0;
}

long expiry_window(long window, time_t nb, time_t na)
{
    long third = na > nb ? (long)((na - nb) / 3) : 0;

    if (window >= 0)
        return window;
    return third < EXPIRY_WINDOW_MAX ? third : EXPIRY_WINDOW_MAX;
}

enum pe_rc expiry_plan_make(const struct tok_object_list *list, time_t now,
                            long window, struct expiry_plan *p)
{
    struct expiry_item *it;
    size_t i;
    enum pe_rc rc;

    memset(p, 0, sizeof(*p));
    if (list->n == 0)
        return PE_OK;
    p->v = calloc(list->n, sizeof(*p->v));
    if (p->v == NULL)
        return PE_E_NOMEM;
    for (i = 0; i < list->n; i++) {
        if (!expiry_is_leaf(&list->v[i]))
            continue;
        it = &p->v[p->n];
        it->cert = &list->v[i];
        rc = expiry_cert_times(it->cert->cert, &it->not_before, &it->not_after);
        if (rc != PE_OK)
            continue; /* unreadable times: not ours to renew */
        it->window = expiry_window(window, it->not_before, it->not_after);
        if (it->not_before > now)
            it->state = EXPIRY_NOT_YET_VALID;
        else if (it->not_after <= now)
            it->state = EXPIRY_EXPIRED;
        else if (it->not_after - now <= it->window)
            it->state = EXPIRY_DUE;
        else
            it->state = EXPIRY_VALID;
        p->n++;
    }
    for (i = 0; i < p->n; i++)
        if (p->v[i].state == EXPIRY_VALID &&
            (p->next_due == 0 ||
             p->v[i].not_after - p->v[i].window < p->next_due))
            p->next_due = p->v[i].not_after - p->v[i].window;
    return PE_OK;
}

void expiry_plan_clear(struct expiry_plan *p)
{
    free(p->v);
    memset(p, 0, sizeof(*p));
}

long expiry_days(time_t t, time_t now)
{
    long d = (long)(t - now);

    return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}
