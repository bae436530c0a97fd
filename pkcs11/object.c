/* SPDX-License-Identifier: Apache-2.0 */
/*
 * object.c - certificates on the token: the leaf next to its key (never
 * leaving the token without one), the chain as authority certificates,
 * and reading them back.
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

#define MAX_CERTS 256

struct der {
    unsigned char *p;
    size_t len;
};

static enum pe_rc cert_der(X509 *x, struct der *d)
{
    int n;

    d->p = NULL;
    n = i2d_X509(x, &d->p);
    if (n <= 0)
        return pe_fail_ossl(PE_E_INPUT, "Encoding the certificate");
    d->len = (size_t)n;
    return PE_OK;
}

static enum pe_rc name_der(const X509_NAME *name, struct der *d)
{
    int n;

    d->p = NULL;
    n = i2d_X509_NAME(name, &d->p);
    if (n <= 0)
        return pe_fail_ossl(PE_E_INPUT, "Encoding a certificate name");
    d->len = (size_t)n;
    return PE_OK;
}

/* Token certificates, optionally only those with this CKA_ID. */
static CK_RV find_certs(struct tok_ctx *ctx, const unsigned char *id,
                        size_t idlen, CK_OBJECT_HANDLE *out, CK_ULONG *pn)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &yes, sizeof(yes)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};

    return tok_find(ctx, t, id != NULL ? 3 : 2, out, MAX_CERTS, pn);
}

/* Whether object h holds the value d (*prv: the CK_RV of the read). */
static bool value_equals(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                         const struct der *d, CK_RV *prv)
{
    unsigned char *v = NULL;
    size_t len = 0;
    bool eq;

    *prv = tok_attr_get(ctx, h, CKA_VALUE, &v, &len);
    eq = *prv == CKR_OK && len == d->len && memcmp(v, d->p, len) == 0;
    free(v);
    return eq;
}

/* A certificate object's template; t points into the struct itself. */
struct cert_tmpl {
    CK_OBJECT_CLASS cls;
    CK_CERTIFICATE_TYPE ct;
    CK_BBOOL yes, no;
    CK_ULONG cat;
    CK_ATTRIBUTE t[12];
    CK_ULONG n;
    struct der subj, iss;
    unsigned char *serial;
};

static void cert_tmpl_clear(struct cert_tmpl *c)
{
    OPENSSL_free(c->subj.p);
    OPENSSL_free(c->iss.p);
    OPENSSL_free(c->serial);
    memset(c, 0, sizeof(*c));
}

/* The template for x (DER val); id, label and val must outlive it. */
static enum pe_rc cert_tmpl_init(const struct tok_ctx *ctx, struct cert_tmpl *c,
                                 X509 *x, const struct der *val,
                                 const unsigned char *id, size_t idlen,
                                 const char *label, bool authority)
{
    const struct tok_quirks *q = tok_quirks(ctx);
    CK_ULONG n = 0;
    enum pe_rc rc;
    int slen;

    memset(c, 0, sizeof(*c));
    c->cls = CKO_CERTIFICATE;
    c->ct = CKC_X_509;
    c->yes = CK_TRUE;
    c->no = CK_FALSE;
    c->cat = 2; /* authority */
    rc = name_der(X509_get_subject_name(x), &c->subj);
    if (rc == PE_OK)
        rc = name_der(X509_get_issuer_name(x), &c->iss);
    if (rc != PE_OK) {
        cert_tmpl_clear(c);
        return rc;
    }
    slen = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &c->serial);
    c->t[n++] = (CK_ATTRIBUTE){CKA_CLASS, &c->cls, sizeof(c->cls)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_CERTIFICATE_TYPE, &c->ct, sizeof(c->ct)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_TOKEN, &c->yes, sizeof(c->yes)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_PRIVATE, &c->no, sizeof(c->no)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)(uintptr_t)id, idlen};
    if (label != NULL && label[0] != '\0')
        c->t[n++] =
            (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)label, strlen(label)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_SUBJECT, c->subj.p, c->subj.len};
    if (q->cert_extra_attrs) {
        c->t[n++] = (CK_ATTRIBUTE){CKA_ISSUER, c->iss.p, c->iss.len};
        if (slen > 0)
            c->t[n++] =
                (CK_ATTRIBUTE){CKA_SERIAL_NUMBER, c->serial, (CK_ULONG)slen};
    }
    if (authority && q->cert_category)
        c->t[n++] =
            (CK_ATTRIBUTE){CKA_CERTIFICATE_CATEGORY, &c->cat, sizeof(c->cat)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_VALUE, val->p, val->len};
    c->n = n;
    return PE_OK;
}

/* Create a certificate object; *ph is the new handle. */
static enum pe_rc create_cert(struct tok_ctx *ctx, X509 *x,
                              const struct der *val, const unsigned char *id,
                              size_t idlen, const char *label, bool authority,
                              CK_OBJECT_HANDLE *ph)
{
    struct cert_tmpl c;
    enum pe_rc rc;
    CK_RV rv;

    rc = cert_tmpl_init(ctx, &c, x, val, id, idlen, label, authority);
    if (rc != PE_OK)
        return rc;
    rv = ctx->fl->C_CreateObject(ctx->sess, c.t, c.n, ph);
    log_debug(LOG_CAT_PKCS11, "C_CreateObject (certificate): %s", ckr_name(rv));
    if (rv != CKR_OK)
        rc = tok_ckfail(ctx, rv, "Writing the certificate");
    cert_tmpl_clear(&c);
    return rc;
}

/*
 * One attempt, safe to repeat after a recovery: find the key's certificates;
 * write the new one unless it is there; read it back; remove the others.
 * *pcreated: an earlier attempt wrote it (found again: written, not kept).
 */
static enum pe_rc leaf_once(struct tok_ctx *ctx, struct tok_key *key, X509 *x,
                            const struct der *val, struct tok_cert_result *res,
                            bool *pcreated)
{
    CK_OBJECT_HANDLE *h = NULL, hnew = CK_INVALID_HANDLE;
    CK_ULONG n = 0, i, nold = 0;
    bool *old = NULL;
    enum pe_rc rc;
    CK_RV rv;

    h = calloc(MAX_CERTS, sizeof(*h));
    old = calloc(MAX_CERTS, sizeof(*old));
    if (h == NULL || old == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    rv = find_certs(ctx, key->id, key->idlen, h, &n);
    if (rv != CKR_OK) {
        rc = tok_ckfail(ctx, rv, "Finding the key's certificates");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (hnew == CK_INVALID_HANDLE && value_equals(ctx, h[i], val, &rv)) {
            hnew = h[i];
            continue;
        }
        if (rv != CKR_OK) {
            rc = tok_ckfail(ctx, rv, "Reading a certificate");
            goto out;
        }
        old[i] = true;
        nold++;
    }
    if (hnew != CK_INVALID_HANDLE && nold == 0) {
        res->unchanged = !res->replaced && !*pcreated;
        rc = PE_OK;
        goto out;
    }
    if (hnew == CK_INVALID_HANDLE) {
        rc = create_cert(ctx, x, val, key->id, key->idlen, key->label, false,
                         &hnew);
        if (rc != PE_OK)
            goto out;
        *pcreated = true;
        if (!value_equals(ctx, hnew, val, &rv)) {
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
    /* ykcs11 overwrites the slot's one certificate object in place. */
    for (i = 0; i < n && !tok_quirks(ctx)->piv_ids; i++) {
        if (!old[i] || h[i] == hnew)
            continue;
        rv = ctx->fl->C_DestroyObject(ctx->sess, h[i]);
        log_debug(LOG_CAT_PKCS11, "C_DestroyObject (old certificate): %s",
                  ckr_name(rv));
        if (rv != CKR_OK) {
            rc = tok_ckfail(ctx, rv, "Removing the old certificate");
            goto out;
        }
        res->replaced = true;
    }
    if (tok_quirks(ctx)->piv_ids && nold > 0)
        res->replaced = true;
    rc = PE_OK;
out:
    free(h);
    free(old);
    return rc;
}

enum pe_rc tok_cert_write_leaf(struct tok_ctx *ctx, struct tok_key *key,
                               X509 *leaf, struct tok_cert_result *pres)
{
    struct tok_cert_result res = {NULL, false, false};
    struct tok_backoff b = {0, 0};
    struct der val = {NULL, 0};
    bool created = false;
    enum pe_rc rc;

    if (pres != NULL)
        memset(pres, 0, sizeof(*pres));
    rc = cert_der(leaf, &val);
    if (rc != PE_OK)
        return rc;
    tok_op_begin(ctx);
    rc = leaf_once(ctx, key, leaf, &val, &res, &created);
    while (rc != PE_OK && tok_retry_transient(ctx, &b))
        rc = leaf_once(ctx, key, leaf, &val, &res, &created);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = leaf_once(ctx, key, leaf, &val, &res, &created);
    OPENSSL_free(val.p);
    if (rc != PE_OK)
        return rc;
    res.uri = tok_format_object_uri(ctx, CKO_CERTIFICATE, key->id, key->idlen,
                                    key->label);
    if (res.uri == NULL)
        return PE_E_NOMEM;
    log_info("%s certificate %s.", res.unchanged ? "Kept" : "Wrote", res.uri);
    if (pres != NULL)
        *pres = res;
    else
        tok_cert_result_clear(&res);
    return PE_OK;
}

void tok_cert_result_clear(struct tok_cert_result *res)
{
    if (res == NULL)
        return;
    free(res->uri);
    memset(res, 0, sizeof(*res));
}

static void cn_label(X509 *x, char *buf, size_t size)
{
    X509_NAME *name = X509_get_subject_name(x);

    if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)size) <= 0)
        snprintf(buf, size, "CA certificate");
}

static void der_list_free(struct der *v, CK_ULONG n)
{
    CK_ULONG i;

    for (i = 0; v != NULL && i < n; i++)
        free(v[i].p);
    free(v);
}

/* The values of every certificate on the token (one search). */
static enum pe_rc token_cert_values(struct tok_ctx *ctx, struct der **pv,
                                    CK_ULONG *pn)
{
    CK_OBJECT_HANDLE *h;
    struct der *v = NULL;
    CK_ULONG n = 0, i;
    size_t len;
    CK_RV rv;

    *pv = NULL;
    *pn = 0;
    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = find_certs(ctx, NULL, 0, h, &n);
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
                               const struct der *val, const struct der *have,
                               CK_ULONG nhave)
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

/*
 * One attempt, safe to repeat after a recovery: list the token's
 * certificates once, write each chain certificate that is not among them
 * and read it back by its handle (no search after the writes).  A chain
 * certificate's CKA_ID is 16 random bytes: a clash with another object's
 * ID has probability 2^-128, so no search for it either.
 */
static enum pe_rc chain_once(struct tok_ctx *ctx, STACK_OF(X509) * chain,
                             size_t *pwritten, size_t *pskipped)
{
    struct der *have = NULL, val = {NULL, 0};
    CK_ULONG nhave = 0;
    CK_OBJECT_HANDLE h;
    unsigned char id[16];
    char label[128];
    enum pe_rc rc;
    CK_RV rv;
    int i;

    rc = token_cert_values(ctx, &have, &nhave);
    for (i = 0; rc == PE_OK && chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);

        rc = cert_der(x, &val);
        if (rc != PE_OK)
            break;
        if (chain_cert_present(chain, i, &val, have, nhave)) {
            (*pskipped)++;
        } else if (RAND_bytes(id, sizeof(id)) != 1) {
            rc = pe_fail_ossl(PE_E_INTERNAL, "RAND_bytes");
        } else {
            cn_label(x, label, sizeof(label));
            rc = create_cert(ctx, x, &val, id, sizeof(id), label, true, &h);
            if (rc == PE_OK && !value_equals(ctx, h, &val, &rv))
                rc = rv != CKR_OK
                         ? tok_ckfail(ctx, rv,
                                      "Reading a chain certificate back")
                         : pe_failf(PE_E_TOKEN,
                                    "Token \"%s\" returned a different "
                                    "chain certificate than was written.",
                                    ctx->label);
            if (rc == PE_OK)
                (*pwritten)++;
        }
        OPENSSL_free(val.p);
        val.p = NULL;
    }
    der_list_free(have, nhave);
    return rc;
}

enum pe_rc tok_cert_write_chain(struct tok_ctx *ctx, STACK_OF(X509) * chain,
                                size_t *pwritten, size_t *pskipped)
{
    size_t written = 0, skipped = 0, w2, s2;
    struct tok_backoff b = {0, 0};
    bool recovered = false;
    enum pe_rc rc = PE_OK;

    if (!tok_quirks(ctx)->chain_storage) {
        log_info("Token \"%s\" (%s) cannot hold chain certificates; none "
                 "written.",
                 ctx->label, tok_family_name(ctx->family));
        goto out;
    }
    tok_op_begin(ctx);
    rc = chain_once(ctx, chain, &written, &skipped);
    /* again after a transient error (SoftHSM's concurrent writers) or,
     * once, a recovery */
    while (rc != PE_OK &&
           (tok_retry_transient(ctx, &b) ||
            (!recovered && (recovered = tok_recover_once(ctx))))) {
        /* those written by the failed try are found now: not skipped */
        w2 = 0;
        s2 = 0;
        rc = chain_once(ctx, chain, &w2, &s2);
        skipped = s2 > written ? s2 - written : 0;
        written += w2;
    }
out:
    if (pwritten != NULL)
        *pwritten = written;
    if (pskipped != NULL)
        *pskipped = skipped;
    return rc;
}

enum pe_rc tok_cert_write_all(struct tok_ctx *ctx, struct tok_key *key,
                              X509 *leaf, STACK_OF(X509) * chain,
                              struct tok_cert_result *res, size_t *pwritten,
                              size_t *pskipped)
{
    enum pe_rc rc;

    if (pwritten != NULL)
        *pwritten = 0;
    if (pskipped != NULL)
        *pskipped = 0;
    rc = tok_cert_write_leaf(ctx, key, leaf, res);
    if (rc == PE_OK)
        rc = tok_cert_write_chain(ctx, chain, pwritten, pskipped);
    return rc;
}

static enum pe_rc read_once(struct tok_ctx *ctx, struct tok_key *key,
                            X509 **pcert)
{
    CK_OBJECT_HANDLE *h;
    CK_ULONG n = 0, i;
    unsigned char *v = NULL;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pub = NULL, *cpub;
    X509 *x;
    CK_RV rv;

    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = find_certs(ctx, key->id, key->idlen, h, &n);
    for (i = 0; rv == CKR_OK && i < n; i++) {
        rv = tok_attr_get(ctx, h[i], CKA_VALUE, &v, &len);
        if (rv != CKR_OK)
            break;
        p = v;
        x = d2i_X509(NULL, &p, (long)len);
        free(v);
        v = NULL;
        if (x == NULL)
            continue;
        /* prefer the certificate that matches the key, if several */
        if (*pcert == NULL) {
            *pcert = x;
            continue;
        }
        if (pub == NULL && n > 1 &&
            tok_obj_public(ctx, key->priv, &pub) != PE_OK)
            pub = NULL;
        cpub = X509_get0_pubkey(x);
        if (pub != NULL && cpub != NULL && EVP_PKEY_eq(pub, cpub) == 1) {
            X509_free(*pcert);
            *pcert = x;
        } else {
            X509_free(x);
        }
    }
    EVP_PKEY_free(pub);
    free(h);
    if (rv != CKR_OK) {
        X509_free(*pcert);
        *pcert = NULL;
        return tok_ckfail(ctx, rv, "Reading the key's certificate");
    }
    return PE_OK;
}

enum pe_rc tok_cert_read(struct tok_ctx *ctx, struct tok_key *key, X509 **pcert)
{
    enum pe_rc rc;

    *pcert = NULL;
    tok_op_begin(ctx);
    rc = read_once(ctx, key, pcert);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = read_once(ctx, key, pcert);
    return rc;
}

static enum pe_rc find_same_once(struct tok_ctx *ctx, struct tok_key *key,
                                 const struct der *val, bool *pfound)
{
    CK_OBJECT_HANDLE *h;
    CK_ULONG n = 0, i;
    CK_RV rv;

    *pfound = false;
    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = find_certs(ctx, key->id, key->idlen, h, &n);
    for (i = 0; rv == CKR_OK && i < n && !*pfound; i++)
        *pfound = value_equals(ctx, h[i], val, &rv);
    free(h);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Reading the key's certificates");
    return PE_OK;
}

enum pe_rc tok_cert_find_same(struct tok_ctx *ctx, struct tok_key *key,
                              X509 *cert, bool *pfound)
{
    struct der val = {NULL, 0};
    enum pe_rc rc;

    *pfound = false;
    rc = cert_der(cert, &val);
    if (rc != PE_OK)
        return rc;
    tok_op_begin(ctx);
    rc = find_same_once(ctx, key, &val, pfound);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = find_same_once(ctx, key, &val, pfound);
    OPENSSL_free(val.p);
    return rc;
}

/* One attempt, safe to repeat after a recovery: what was removed before
 * is not found again. */
static enum pe_rc destroy_once(struct tok_ctx *ctx, const unsigned char *id,
                               size_t idlen, size_t *pn)
{
    CK_OBJECT_HANDLE *h;
    CK_ULONG n = 0, i;
    enum pe_rc rc = PE_OK;
    CK_RV rv;

    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = find_certs(ctx, id, idlen, h, &n);
    if (rv != CKR_OK)
        rc = tok_ckfail(ctx, rv, "Finding the certificates to remove");
    for (i = 0; rc == PE_OK && i < n; i++) {
        rv = ctx->fl->C_DestroyObject(ctx->sess, h[i]);
        log_debug(LOG_CAT_PKCS11, "C_DestroyObject (retired certificate): %s",
                  ckr_name(rv));
        if (rv != CKR_OK)
            rc = tok_ckfail(ctx, rv, "Removing the certificate");
        else
            (*pn)++;
    }
    free(h);
    return rc;
}

enum pe_rc tok_cert_destroy(struct tok_ctx *ctx, const unsigned char *id,
                            size_t idlen, size_t *pn)
{
    struct tok_backoff b = {0, 0};
    size_t n = 0;
    enum pe_rc rc;

    if (pn != NULL)
        *pn = 0;
    if (id == NULL || idlen == 0)
        return pe_failf(PE_E_INTERNAL, "tok_cert_destroy: no CKA_ID");
    tok_op_begin(ctx);
    rc = destroy_once(ctx, id, idlen, &n);
    while (rc != PE_OK && tok_retry_transient(ctx, &b))
        rc = destroy_once(ctx, id, idlen, &n);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = destroy_once(ctx, id, idlen, &n);
    if (rc == PE_OK && n > 0)
        log_info("Removed %zu certificate%s from token \"%s\".", n,
                 n == 1 ? "" : "s", ctx->label);
    if (pn != NULL)
        *pn = n;
    return rc;
}
