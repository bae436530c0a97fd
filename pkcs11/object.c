/* SPDX-License-Identifier: Apache-2.0 */
/*
 * object.c - writing certificates: the leaf next to its key (never
 * leaving the token without one), the chain as authority certificates,
 * and both or neither.  One certificate object at a time: cert.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "log.h"
#include "tok_int.h"

#define CHAIN_ID_LEN 16
#define MAX_CHAIN    32

/* ---- the leaf ---------------------------------------------------------- */

/* A leaf's write, across the tries of tok_retry. */
struct leaf_job {
    struct tok_key *key;
    X509 *x;
    struct tok_der val;
    bool remove_old; /* this pass removes the key's other certificates */
    bool created;    /* a create was sent: the leaf may be ours */
    size_t nold;     /* other certificates of the key, last seen */
    struct tok_cert_result res;
};

/* Remove the key's certificates h[n] but the new one (already taken out
 * of h). */
static enum pe_rc remove_others(struct tok_ctx *ctx, struct leaf_job *j,
                                const CK_OBJECT_HANDLE *h, CK_ULONG n)
{
    CK_ULONG i;
    CK_RV rv;

    for (i = 0; i < n; i++) {
        if (h[i] == CK_INVALID_HANDLE)
            continue;
        rv = ctx->fl->C_DestroyObject(ctx->sess, h[i]);
        log_debug(LOG_CAT_PKCS11, "C_DestroyObject (old certificate): %s",
                  ckr_name(rv));
        if (rv != CKR_OK)
            return tok_ckfail(ctx, rv, "Removing the old certificate");
        j->res.replaced = true;
    }
    j->nold = 0;
    return PE_OK;
}

/*
 * One try, safe to repeat: find the key's certificates; write the new one
 * unless it is there, and read it back; with remove_old, remove the
 * others.
 */
static enum pe_rc leaf_once(struct tok_ctx *ctx, void *arg)
{
    struct leaf_job *j = arg;
    struct tok_key *key = j->key;
    CK_OBJECT_HANDLE *h = NULL, hnew = CK_INVALID_HANDLE;
    CK_ULONG n = 0, i;
    enum pe_rc rc = PE_OK;
    CK_RV rv;

    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = tok_cert_find(ctx, key->id, key->idlen, h, &n);
    if (rv != CKR_OK) {
        rc = tok_ckfail(ctx, rv, "Finding the key's certificates");
        goto out;
    }
    j->nold = 0;
    for (i = 0; i < n; i++) {
        if (hnew == CK_INVALID_HANDLE &&
            tok_cert_equals(ctx, h[i], &j->val, &rv)) {
            hnew = h[i];
            h[i] = CK_INVALID_HANDLE;
            continue;
        }
        if (rv != CKR_OK) {
            rc = tok_ckfail(ctx, rv, "Reading a certificate");
            goto out;
        }
        j->nold++;
    }
    if (hnew == CK_INVALID_HANDLE) {
        j->created = true;
        rc = tok_cert_create(ctx, j->x, &j->val, key->id, key->idlen,
                             key->label, false, &hnew);
        if (rc != PE_OK)
            goto out;
        if (!tok_cert_equals(ctx, hnew, &j->val, &rv)) {
            if (rv != CKR_OK) {
                rc = tok_ckfail(ctx, rv, "Reading the new certificate back");
                goto out;
            }
            if (!tok_quirks(ctx)->piv_ids)
                (void)ctx->fl->C_DestroyObject(ctx->sess, hnew);
            rc = pe_failf(PE_E_TOKEN,
                          "Token \"%s\" returned a different certificate "
                          "than was written; the old one is kept.",
                          ctx->label);
            goto out;
        }
    }
    j->res.unchanged = !j->created && j->nold == 0 && !j->res.replaced;
    /* ykcs11 overwrites the slot's one certificate object in place. */
    if (tok_quirks(ctx)->piv_ids) {
        j->res.replaced = j->res.replaced || j->nold > 0;
        j->nold = 0;
    }
    if (j->remove_old && j->nold > 0)
        rc = remove_others(ctx, j, h, n);
out:
    free(h);
    return rc;
}

static enum pe_rc leaf_begin(struct leaf_job *j, struct tok_key *key, X509 *x)
{
    memset(j, 0, sizeof(*j));
    j->key = key;
    j->x = x;
    return tok_cert_der(x, &j->val);
}

/* The result, with the URI, into *pres (may be NULL). */
static enum pe_rc leaf_end(struct tok_ctx *ctx, struct leaf_job *j,
                           struct tok_cert_result *pres)
{
    j->res.uri = tok_format_object_uri(ctx, CKO_CERTIFICATE, j->key->id,
                                       j->key->idlen, j->key->label);
    if (j->res.uri == NULL)
        return PE_E_NOMEM;
    log_info("%s certificate %s.", j->res.unchanged ? "Kept" : "Wrote",
             j->res.uri);
    if (pres != NULL)
        *pres = j->res;
    else
        tok_cert_result_clear(&j->res);
    memset(&j->res, 0, sizeof(j->res));
    return PE_OK;
}

enum pe_rc tok_cert_write_leaf(struct tok_ctx *ctx, struct tok_key *key,
                               X509 *leaf, struct tok_cert_result *pres)
{
    struct leaf_job j;
    enum pe_rc rc;

    if (pres != NULL)
        memset(pres, 0, sizeof(*pres));
    rc = leaf_begin(&j, key, leaf);
    j.remove_old = true;
    if (rc == PE_OK)
        rc = tok_retry(ctx, leaf_once, &j);
    if (rc == PE_OK)
        rc = leaf_end(ctx, &j, pres);
    OPENSSL_free(j.val.p);
    return rc;
}

void tok_cert_result_clear(struct tok_cert_result *res)
{
    if (res == NULL)
        return;
    free(res->uri);
    memset(res, 0, sizeof(*res));
}

/* ---- the chain --------------------------------------------------------- */

static void cn_label(X509 *x, char *buf, size_t size)
{
    X509_NAME *name = X509_get_subject_name(x);

    if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)size) <= 0)
        snprintf(buf, size, "CA certificate");
}

static void der_list_free(struct tok_der *v, CK_ULONG n)
{
    CK_ULONG i;

    for (i = 0; v != NULL && i < n; i++)
        free(v[i].p);
    free(v);
}

/* The values of every certificate on the token (one search). */
static enum pe_rc token_cert_values(struct tok_ctx *ctx, struct tok_der **pv,
                                    CK_ULONG *pn)
{
    CK_OBJECT_HANDLE *h;
    struct tok_der *v = NULL;
    CK_ULONG n = 0, i;
    size_t len;
    CK_RV rv;

    *pv = NULL;
    *pn = 0;
    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = tok_cert_find(ctx, NULL, 0, h, &n);
    if (rv == CKR_OK && n > 0) {
        v = calloc(n, sizeof(*v));
        if (v == NULL) {
            free(h);
            return PE_E_NOMEM;
        }
    }
    for (i = 0; rv == CKR_OK && i < n; i++) {
        len = 0;
        rv = tok_attr_get(ctx, h[i], CKA_VALUE, &v[i].p, &len);
        v[i].len = len;
    }
    free(h);
    if (rv != CKR_OK) {
        der_list_free(v, n);
        return tok_ckfail(ctx, rv, "Looking for chain certificates");
    }
    *pv = v;
    *pn = n;
    return PE_OK;
}

/* Whether chain certificate i (DER val) is there already: earlier in the
 * chain, or among the token's certificates have[nhave]. */
static bool chain_cert_present(STACK_OF(X509) * chain, int i,
                               const struct tok_der *val,
                               const struct tok_der *have, CK_ULONG nhave)
{
    X509 *x = sk_X509_value(chain, i);
    CK_ULONG j;
    int k;

    for (k = 0; k < i; k++)
        if (X509_cmp(sk_X509_value(chain, k), x) == 0)
            return true;
    for (j = 0; j < nhave; j++)
        if (have[j].len == val->len && memcmp(have[j].p, val->p, val->len) == 0)
            return true;
    return false;
}

/* A chain's write, across the tries of tok_retry. */
struct chain_job {
    STACK_OF(X509) * chain;
    unsigned char ids[MAX_CHAIN][CHAIN_ID_LEN]; /* of the creates sent */
    size_t nids;
    size_t present; /* on the token at the first look */
    bool listed;    /* present is known */
    size_t missing; /* not on the token at the first look */
};

/* At the first look: how many chain certificates are there already. */
static enum pe_rc chain_count(struct chain_job *j, const struct tok_der *have,
                              CK_ULONG nhave)
{
    struct tok_der val;
    enum pe_rc rc;
    int i;

    for (i = 0; i < sk_X509_num(j->chain); i++) {
        rc = tok_cert_der(sk_X509_value(j->chain, i), &val);
        if (rc != PE_OK)
            return rc;
        if (chain_cert_present(j->chain, i, &val, have, nhave))
            j->present++;
        else
            j->missing++;
        OPENSSL_free(val.p);
    }
    return PE_OK;
}

/*
 * One try, safe to repeat: list the token's certificates once, write each
 * chain certificate that is not among them and read it back by its handle
 * (no search after the writes).  A chain certificate's CKA_ID is 16 random
 * bytes: a clash with another object's ID has probability 2^-128, so no
 * search for it either.
 */
static enum pe_rc chain_once(struct tok_ctx *ctx, void *arg)
{
    struct chain_job *j = arg;
    struct tok_der *have = NULL, val = {NULL, 0};
    CK_ULONG nhave = 0;
    CK_OBJECT_HANDLE h;
    char label[128];
    unsigned char *id;
    bool first = !j->listed;
    enum pe_rc rc;
    CK_RV rv;
    int i;

    rc = token_cert_values(ctx, &have, &nhave);
    if (rc == PE_OK && first)
        rc = chain_count(j, have, nhave);
    if (rc == PE_OK)
        j->listed = true;
    for (i = 0; rc == PE_OK && i < sk_X509_num(j->chain); i++) {
        X509 *x = sk_X509_value(j->chain, i);

        rc = tok_cert_der(x, &val);
        if (rc != PE_OK)
            break;
        if (chain_cert_present(j->chain, i, &val, have, nhave)) {
            /* there before, or written by an earlier try */
        } else if (j->nids == MAX_CHAIN) {
            rc = pe_failf(PE_E_INPUT,
                          "The chain has more than %d "
                          "certificates.",
                          MAX_CHAIN);
        } else if (RAND_bytes(j->ids[j->nids], CHAIN_ID_LEN) != 1) {
            rc = pe_fail_ossl(PE_E_INTERNAL, "RAND_bytes");
        } else {
            id = j->ids[j->nids++];
            cn_label(x, label, sizeof(label));
            rc = tok_cert_create(ctx, x, &val, id, CHAIN_ID_LEN, label, true,
                                 &h);
            if (rc == PE_OK && !tok_cert_equals(ctx, h, &val, &rv))
                rc = rv != CKR_OK
                         ? tok_ckfail(ctx, rv,
                                      "Reading a chain certificate back")
                         : pe_failf(PE_E_TOKEN,
                                    "Token \"%s\" returned a different "
                                    "chain certificate than was written.",
                                    ctx->label);
        }
        OPENSSL_free(val.p);
        val.p = NULL;
    }
    der_list_free(have, nhave);
    return rc;
}

static enum pe_rc chain_write(struct tok_ctx *ctx, struct chain_job *j,
                              STACK_OF(X509) * chain, size_t *pwritten,
                              size_t *pskipped)
{
    enum pe_rc rc = PE_OK;

    memset(j, 0, sizeof(*j));
    j->chain = chain;
    if (!tok_quirks(ctx)->chain_storage)
        log_info("Token \"%s\" (%s) cannot hold chain certificates; none "
                 "written.",
                 ctx->label, tok_family_name(ctx->family));
    else if (chain != NULL && sk_X509_num(chain) > 0)
        rc = tok_retry(ctx, chain_once, j);
    if (pwritten != NULL)
        *pwritten = rc == PE_OK ? j->missing : 0;
    if (pskipped != NULL)
        *pskipped = j->present;
    return rc;
}

enum pe_rc tok_cert_write_chain(struct tok_ctx *ctx, STACK_OF(X509) * chain,
                                size_t *pwritten, size_t *pskipped)
{
    struct chain_job j;

    return chain_write(ctx, &j, chain, pwritten, pskipped);
}

/* ---- leaf and chain, or neither ---------------------------------------- */

/* Take back what a failed tok_cert_write_all wrote: the chain
 * certificates by their fresh IDs, the leaf by its value.  First failure
 * wins. */
static enum pe_rc undo_writes(struct tok_ctx *ctx, const struct leaf_job *l,
                              const struct chain_job *c)
{
    enum pe_rc rc = PE_OK, rc2;
    size_t i;

    for (i = 0; i < c->nids; i++) {
        rc2 = tok_cert_remove(ctx, c->ids[i], CHAIN_ID_LEN, NULL, NULL);
        if (rc == PE_OK)
            rc = rc2;
    }
    if (l->created && !tok_quirks(ctx)->piv_ids) {
        rc2 = tok_cert_remove(ctx, l->key->id, l->key->idlen, &l->val, NULL);
        if (rc == PE_OK)
            rc = rc2;
    }
    return rc;
}

/* The key's old certificates go once leaf and chain are there. */
static enum pe_rc leaf_remove_old(struct tok_ctx *ctx, struct leaf_job *l)
{
    if (l->nold == 0)
        return PE_OK;
    l->remove_old = true;
    return tok_retry(ctx, leaf_once, l);
}

enum pe_rc tok_cert_write_all(struct tok_ctx *ctx, struct tok_key *key,
                              X509 *leaf, STACK_OF(X509) * chain,
                              struct tok_cert_result *res, size_t *pwritten,
                              size_t *pskipped)
{
    struct chain_job c;
    struct leaf_job l;
    char why[512];
    enum pe_rc rc, urc;

    memset(&c, 0, sizeof(c));
    if (res != NULL)
        memset(res, 0, sizeof(*res));
    if (pwritten != NULL)
        *pwritten = 0;
    if (pskipped != NULL)
        *pskipped = 0;
    rc = leaf_begin(&l, key, leaf);
    if (rc == PE_OK)
        rc = tok_retry(ctx, leaf_once, &l);
    if (rc == PE_OK)
        rc = chain_write(ctx, &c, chain, pwritten, pskipped);
    if (rc == PE_OK)
        rc = leaf_remove_old(ctx, &l);
    if (rc == PE_OK) {
        rc = leaf_end(ctx, &l, res);
    } else if (l.created || c.nids > 0) {
        snprintf(why, sizeof(why), "%s", pe_sentence(rc));
        urc = undo_writes(ctx, &l, &c);
        if (urc == PE_OK)
            pe_failf(rc, "%s The token holds what it held before.", why);
        else
            pe_failf(rc,
                     "%s Removing what this run wrote failed too, so the "
                     "token may hold the new certificate without its "
                     "chain: %s",
                     why, pe_sentence(urc));
        if (pwritten != NULL)
            *pwritten = 0;
    }
    tok_cert_result_clear(&l.res);
    OPENSSL_free(l.val.p);
    return rc;
}
