/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew_survey.c - the leaves on a token and their lineage.
 *
 * A leaf is superseded only when an installed renewal record names it as
 * its predecessor, by the SHA-256 of the certificate and its CKA_ID.  Two
 * certificates with the same subject say nothing: SCM builds the subject
 * from the person's name, so separate enrollments of one person share it.
 */
#include "renew_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "util.h"

/* how many renewals of a renewal are followed to find one on the token */
#define LINEAGE_DEPTH 16

const char *survey_cert_sha256(X509 *cert, char *buf, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    buf[0] = '\0';
    if (cert != NULL && X509_digest(cert, EVP_sha256(), md, &n) == 1)
        util_hex_encode(md, n, buf, size);
    return buf;
}

time_t survey_journal_time(const char *s)
{
    time_t t = 0;

    return s != NULL && util_time_parse(s, &t) ? t : 0;
}

static void leaf_fill(struct leaf *lf, const char *uri,
                      const struct expiry_item *e)
{
    BIGNUM *bn =
        ASN1_INTEGER_to_BN(X509_get0_serialNumber(e->cert->cert), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;

    memset(lf, 0, sizeof(*lf));
    snprintf(lf->it.token, sizeof(lf->it.token), "%s", uri);
    util_hex_encode(e->cert->id, e->cert->idlen, lf->it.key_id,
                    sizeof(lf->it.key_id));
    bundle_name_str(X509_get_subject_name(e->cert->cert), lf->it.subject,
                    sizeof(lf->it.subject));
    snprintf(lf->it.serial, sizeof(lf->it.serial), "%s",
             serial != NULL ? serial : "?");
    survey_cert_sha256(e->cert->cert, lf->it.sha256, sizeof(lf->it.sha256));
    lf->it.not_after = e->not_after;
    lf->state = e->state;
    lf->obj = e->cert;
    OPENSSL_free(serial);
    BN_free(bn);
}

/* The newest record that renews exactly this certificate, or NULL. */
static const struct journal_rec *successor(const struct journal_list *jl,
                                           const struct leaf *lf)
{
    size_t i;

    for (i = jl != NULL ? jl->n : 0; i-- > 0;) {
        const struct journal_rec *r = jl->v[i];

        if (r->pred_cert_sha256 != NULL &&
            strcasecmp(r->pred_cert_sha256, lf->it.sha256) == 0 &&
            (r->pred_key_id == NULL ||
             strcasecmp(r->pred_key_id, lf->it.key_id) == 0))
            return r;
    }
    return NULL;
}

/* true when the token holds the certificate the record r installed. */
static bool on_token(const struct survey *sv, const struct journal_rec *r)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        if (r->key_id_hex != NULL && r->cert_serial != NULL &&
            strcasecmp(sv->v[i].it.key_id, r->key_id_hex) == 0 &&
            strcasecmp(sv->v[i].it.serial, r->cert_serial) == 0)
            return true;
    return false;
}

/* The installed record, r or one renewing it (a --reuse-key renewal
 * replaces its predecessor's certificate), whose certificate is on the
 * token; NULL if none. */
static const struct journal_rec *live(const struct survey *sv,
                                      const struct journal_list *jl,
                                      const struct journal_rec *r, int depth)
{
    const struct journal_rec *found;
    size_t i;

    if (r->status != JOURNAL_INSTALLED)
        return NULL;
    if (on_token(sv, r))
        return r;
    for (i = 0; depth > 0 && i < jl->n; i++) {
        const struct journal_rec *s = jl->v[i];

        if (s->pred_key_id == NULL || s->pred_serial == NULL ||
            r->key_id_hex == NULL || r->cert_serial == NULL ||
            strcasecmp(s->pred_key_id, r->key_id_hex) != 0 ||
            strcasecmp(s->pred_serial, r->cert_serial) != 0)
            continue;
        found = live(sv, jl, s, depth - 1);
        if (found != NULL)
            return found;
    }
    return NULL;
}

/* Superseded when the newest renewal naming the leaf is installed and its
 * certificate (or that of a renewal of it) is on the token: a successor
 * that is gone supersedes nothing, so the leaf falls due again. */
static void lineage(struct leaf *lf, const struct survey *sv,
                    const struct journal_list *jl)
{
    const struct journal_rec *r = successor(jl, lf), *l;

    if (r == NULL)
        return;
    snprintf(lf->succ_id, sizeof(lf->succ_id), "%s", r->id);
    snprintf(lf->succ_key_id, sizeof(lf->succ_key_id), "%s",
             r->key_id_hex != NULL ? r->key_id_hex : "");
    lf->succ_status = r->status;
    l = live(sv, jl, r, LINEAGE_DEPTH);
    if (l == NULL)
        return;
    lf->state = EXPIRY_SUPERSEDED;
    snprintf(lf->live_key_id, sizeof(lf->live_key_id), "%s", l->key_id_hex);
    snprintf(lf->live_serial, sizeof(lf->live_serial), "%s", l->cert_serial);
}

enum pe_rc survey_list(const char *uri, const struct tok_object_list *list,
                       const struct journal_list *jl, long window,
                       struct survey *sv)
{
    struct expiry_plan plan = {0};
    time_t now = time(NULL), due;
    size_t i;
    enum pe_rc rc;

    memset(sv, 0, sizeof(*sv));
    snprintf(sv->uri, sizeof(sv->uri), "%s", uri);
    rc = expiry_plan_make(list, now, window, &plan);
    if (rc != PE_OK)
        return rc;
    sv->v = calloc(plan.n + 1, sizeof(*sv->v));
    if (sv->v == NULL) {
        expiry_plan_clear(&plan);
        return PE_E_NOMEM;
    }
    for (i = 0; i < plan.n; i++)
        leaf_fill(&sv->v[sv->n++], uri, &plan.v[i]);
    for (i = 0; i < sv->n; i++) {
        lineage(&sv->v[i], sv, jl);
        due = plan.v[i].not_after - plan.v[i].window;
        if (sv->v[i].state == EXPIRY_VALID &&
            (sv->next_due == 0 || due < sv->next_due))
            sv->next_due = due;
    }
    expiry_plan_clear(&plan);
    return PE_OK;
}

enum pe_rc survey_token(const struct tokopt *to, const char *dir, long window,
                        struct survey *sv)
{
    struct tok_ctx *ctx = NULL;
    struct tok_object_list *l = NULL;
    struct journal_list *jl = NULL;
    size_t i;
    enum pe_rc rc;

    survey_clear(sv);
    rc = journal_list(dir, &jl);
    if (rc == PE_OK)
        rc = tokopt_open(to, &ctx);
    if (rc == PE_OK)
        rc = tok_list_objects(ctx, &l);
    if (rc == PE_OK)
        rc = survey_list(tok_token_uri(ctx), l, jl, window, sv);
    for (i = 0; i < sv->n; i++)
        sv->v[i].obj = NULL;
    tok_object_list_free(l);
    tok_close(ctx);
    journal_list_free(jl);
    return rc;
}

void survey_clear(struct survey *sv)
{
    free(sv->v);
    memset(sv, 0, sizeof(*sv));
}
