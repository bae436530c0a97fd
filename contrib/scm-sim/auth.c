/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.c - bearer tokens, sessions and one-time codes, in memory.
 */
#include "auth.h"
#include "scm_sim.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_MAX     4096 /* live entries; more are refused */
#define OTP_SENT_MAX 32   /* codes per address remembered for the rate limit */

enum entry_kind { ENTRY_TOKEN, ENTRY_OTP };

struct entry {
    enum entry_kind kind;
    char *realm_kind; /* "rest" or "form" */
    char *realm;      /* client id, or "<form>\n<email>" */
    char secret[65];  /* token (hex) or code (6 digits) */
    time_t expires;
    long tries;
    time_t sent[OTP_SENT_MAX]; /* one-time codes: when they were sent */
    size_t nsent;
};

struct sim_auth {
    struct entry *v;
    size_t n;
};

struct sim_auth *auth_new(void)
{
    return calloc(1, sizeof(struct sim_auth));
}

static void entry_wipe(struct entry *e)
{
    free(e->realm_kind);
    free(e->realm);
    OPENSSL_cleanse(e->secret, sizeof(e->secret));
}

void auth_free(struct sim_auth *a)
{
    size_t i;

    if (a == NULL)
        return;
    for (i = 0; i < a->n; i++)
        entry_wipe(&a->v[i]);
    free(a->v);
    free(a);
}

static void remove_at(struct sim_auth *a, size_t i)
{
    entry_wipe(&a->v[i]);
    a->v[i] = a->v[a->n - 1];
    a->n--;
}

/* Drop entries that expired more than an hour ago (recent ones are kept so
 * that a client hears "expired" rather than "unknown"). */
static void prune(struct sim_auth *a)
{
    time_t now = util_now();
    size_t i = 0;

    while (i < a->n) {
        if (a->v[i].expires + 3600 < now)
            remove_at(a, i);
        else
            i++;
    }
}

static struct entry *add(struct sim_auth *a, enum entry_kind kind,
                         const char *realm_kind, const char *realm)
{
    struct entry *v, *e;

    prune(a);
    if (a->n >= AUTH_MAX)
        return NULL;
    v = realloc(a->v, (a->n + 1) * sizeof(*v));
    if (v == NULL)
        return NULL;
    a->v = v;
    e = &a->v[a->n];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->realm_kind = strdup(realm_kind);
    e->realm = strdup(realm);
    if (e->realm_kind == NULL || e->realm == NULL) {
        entry_wipe(e);
        return NULL;
    }
    a->n++;
    return e;
}

const char *auth_issue(struct sim_auth *a, const char *realm_kind,
                       const char *realm, long lifetime, char *out,
                       size_t outlen)
{
    struct entry *e = NULL;
    char *hex = util_random_hex(32);

    if (hex == NULL || outlen < sizeof(e->secret))
        goto fail;
    e = add(a, ENTRY_TOKEN, realm_kind, realm);
    if (e == NULL)
        goto fail;
    snprintf(e->secret, sizeof(e->secret), "%s", hex);
    e->expires = util_now() + lifetime;
    snprintf(out, outlen, "%s", hex);
    OPENSSL_cleanse(hex, strlen(hex));
    free(hex);
    return out;
fail:
    free(hex);
    return NULL;
}

enum auth_result auth_check(struct sim_auth *a, const char *realm_kind,
                            const char *hdr, const char **prealm)
{
    const char *tok;
    size_t i;

    if (hdr == NULL || strncasecmp(hdr, "Bearer ", 7) != 0)
        return AUTH_UNKNOWN;
    tok = hdr + 7;
    while (*tok == ' ')
        tok++;
    for (i = 0; i < a->n; i++) {
        struct entry *e = &a->v[i];
        if (e->kind != ENTRY_TOKEN || strcmp(e->realm_kind, realm_kind) != 0 ||
            !util_secret_eq(e->secret, tok))
            continue;
        if (e->expires <= util_now())
            return AUTH_EXPIRED;
        *prealm = e->realm;
        return AUTH_OK;
    }
    return AUTH_UNKNOWN;
}

static struct entry *find_otp(struct sim_auth *a, const char *realm,
                              size_t *pidx)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        if (a->v[i].kind == ENTRY_OTP && strcmp(a->v[i].realm, realm) == 0) {
            *pidx = i;
            return &a->v[i];
        }
    }
    return NULL;
}

static char *otp_realm(const char *form, const char *email)
{
    char *r = util_printf("%s\n%s", form, email), *p;

    for (p = r; p != NULL && *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

/* Forget sends older than an hour; the seconds until the oldest kept one
 * is an hour old. */
static long rate_window(struct entry *e, time_t now)
{
    size_t i, k = 0;

    for (i = 0; i < e->nsent; i++)
        if (e->sent[i] + 3600 > now)
            e->sent[k++] = e->sent[i];
    e->nsent = k;
    return k > 0 ? (long)(e->sent[0] + 3600 - now) : 0;
}

int auth_otp_new(struct sim_auth *a, const char *form, const char *email,
                 long lifetime, long tries, long per_hour, char out[7],
                 long *pretry_after)
{
    char *realm = otp_realm(form, email);
    struct entry *e;
    size_t idx;
    time_t now = util_now();
    long wait;
    int rc = -1;

    *pretry_after = 0;
    if (realm == NULL)
        return -1;
    prune(a);
    e = find_otp(a, realm, &idx);
    if (e != NULL) {
        /* A new code keeps the wrong tries of the one it replaces: asking
         * again must not give a guesser three more tries each time. */
        wait = rate_window(e, now);
        if (e->tries <= 0 || (per_hour > 0 && (long)e->nsent >= per_hour)) {
            *pretry_after =
                e->tries <= 0 ? (long)(e->expires + 3600 - now) : wait;
            if (*pretry_after < 1)
                *pretry_after = 1;
            rc = -2;
            goto out;
        }
        if (e->tries < tries)
            tries = e->tries;
    } else {
        e = add(a, ENTRY_OTP, "otp", realm);
        if (e == NULL)
            goto out;
    }
    snprintf(e->secret, sizeof(e->secret), "%06lu", util_random_below(1000000));
    e->expires = now + lifetime;
    e->tries = tries;
    if (e->nsent == OTP_SENT_MAX) {
        memmove(e->sent, e->sent + 1, (OTP_SENT_MAX - 1) * sizeof(e->sent[0]));
        e->nsent--;
    }
    e->sent[e->nsent++] = now;
    memcpy(out, e->secret, 7);
    rc = 0;
out:
    free(realm);
    return rc;
}

enum auth_result auth_otp_verify(struct sim_auth *a, const char *form,
                                 const char *email, const char *code,
                                 long *pleft)
{
    char *realm = otp_realm(form, email);
    enum auth_result res = AUTH_VOID;
    struct entry *e;
    size_t idx;

    *pleft = 0;
    if (realm == NULL)
        return AUTH_VOID;
    e = find_otp(a, realm, &idx);
    if (e == NULL || e->tries <= 0)
        goto out;
    if (e->expires <= util_now()) {
        remove_at(a, idx);
        res = AUTH_EXPIRED;
        goto out;
    }
    if (util_secret_eq(e->secret, code)) {
        remove_at(a, idx);
        res = AUTH_OK;
        goto out;
    }
    e->tries--;
    *pleft = e->tries;
    res = e->tries > 0 ? AUTH_WRONG : AUTH_VOID;
    if (e->tries <= 0)
        OPENSSL_cleanse(e->secret, sizeof(e->secret));
out:
    free(realm);
    return res;
}
