/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert.c - one certificate object at a time: its template (with a minimal
 * one for tokens that refuse optional attributes), create, find, compare,
 * remove; and reading the key's certificate back.  Writing the leaf and
 * the chain: object.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "log.h"
#include "tok_int.h"

enum pe_rc tok_cert_der(X509 *x, struct tok_der *d)
{
    int n;

    d->p = NULL;
    n = i2d_X509(x, &d->p);
    if (n <= 0)
        return pe_fail_ossl(PE_E_INPUT, "Encoding the certificate");
    d->len = (size_t)n;
    return PE_OK;
}

static enum pe_rc name_der(const X509_NAME *name, struct tok_der *d)
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
CK_RV tok_cert_find(struct tok_ctx *ctx, const unsigned char *id, size_t idlen,
                    CK_OBJECT_HANDLE *out, CK_ULONG *pn)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &yes, sizeof(yes)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};

    return tok_find(ctx, t, id != NULL ? 3 : 2, out, MAX_CERTS, pn);
}

/* Whether object h holds the value d (*prv: the CK_RV of the read). */
bool tok_cert_equals(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                     const struct tok_der *d, CK_RV *prv)
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
    struct tok_der subj, iss;
    unsigned char *serial;
    int slen;
};

static void cert_tmpl_clear(struct cert_tmpl *c)
{
    OPENSSL_free(c->subj.p);
    OPENSSL_free(c->iss.p);
    OPENSSL_free(c->serial);
    memset(c, 0, sizeof(*c));
}

/*
 * The template for x (DER val); id, label and val must outlive it.
 * minimal: only what PKCS#11 requires of a certificate object and what a
 * signing tool looks for (class, type, token, ID, label, subject, value);
 * else the optional attributes too, as far as the family takes them.
 */
static enum pe_rc cert_tmpl_init(const struct tok_ctx *ctx, struct cert_tmpl *c,
                                 X509 *x, const struct tok_der *val,
                                 const unsigned char *id, size_t idlen,
                                 const char *label, bool authority,
                                 bool minimal)
{
    const struct tok_quirks *q = tok_quirks(ctx);
    CK_ULONG n = 0;
    enum pe_rc rc;

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
    c->slen = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &c->serial);
    c->t[n++] = (CK_ATTRIBUTE){CKA_CLASS, &c->cls, sizeof(c->cls)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_CERTIFICATE_TYPE, &c->ct, sizeof(c->ct)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_TOKEN, &c->yes, sizeof(c->yes)};
    if (!minimal)
        c->t[n++] = (CK_ATTRIBUTE){CKA_PRIVATE, &c->no, sizeof(c->no)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)(uintptr_t)id, idlen};
    if (label != NULL && label[0] != '\0')
        c->t[n++] =
            (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)label, strlen(label)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_SUBJECT, c->subj.p, c->subj.len};
    if (!minimal && q->cert_extra_attrs) {
        c->t[n++] = (CK_ATTRIBUTE){CKA_ISSUER, c->iss.p, c->iss.len};
        if (c->slen > 0)
            c->t[n++] =
                (CK_ATTRIBUTE){CKA_SERIAL_NUMBER, c->serial, (CK_ULONG)c->slen};
    }
    if (!minimal && authority && q->cert_category)
        c->t[n++] =
            (CK_ATTRIBUTE){CKA_CERTIFICATE_CATEGORY, &c->cat, sizeof(c->cat)};
    c->t[n++] = (CK_ATTRIBUTE){CKA_VALUE, val->p, val->len};
    c->n = n;
    return PE_OK;
}

/* Create a certificate object (*ph: its handle): the full template, and
 * when the token refuses one of its optional attributes, the minimal one.
 * A failure is reported as the first call's. */
enum pe_rc tok_cert_create(struct tok_ctx *ctx, X509 *x,
                           const struct tok_der *val, const unsigned char *id,
                           size_t idlen, const char *label, bool authority,
                           CK_OBJECT_HANDLE *ph)
{
    struct cert_tmpl c;
    enum pe_rc rc;
    CK_RV rv, rv2;
    int minimal;

    rv = CKR_OK;
    for (minimal = 0; minimal < 2; minimal++) {
        rc = cert_tmpl_init(ctx, &c, x, val, id, idlen, label, authority,
                            minimal);
        if (rc != PE_OK)
            return rc;
        rv2 = ctx->fl->C_CreateObject(ctx->sess, c.t, c.n, ph);
        log_debug(LOG_CAT_PKCS11, "C_CreateObject (%scertificate): %s",
                  minimal ? "minimal " : "", ckr_name(rv2));
        cert_tmpl_clear(&c);
        if (rv2 == CKR_OK)
            return PE_OK;
        if (!minimal)
            rv = rv2;
        if (!tok_attr_refused(rv2))
            break;
        if (!minimal)
            log_debug(LOG_CAT_PKCS11,
                      "the certificate template was refused (%s); trying "
                      "the minimal one",
                      ckr_name(rv2));
    }
    return tok_ckfail(ctx, rv, "Writing the certificate");
}

/* Remove the certificates with this CKA_ID, only those equal to val when
 * val is given (one try). */
enum pe_rc tok_cert_remove(struct tok_ctx *ctx, const unsigned char *id,
                           size_t idlen, const struct tok_der *val, size_t *pn)
{
    CK_OBJECT_HANDLE *h;
    CK_ULONG n = 0, i;
    enum pe_rc rc = PE_OK;
    CK_RV rv;

    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = tok_cert_find(ctx, id, idlen, h, &n);
    if (rv != CKR_OK)
        rc = tok_ckfail(ctx, rv, "Finding the certificates to remove");
    for (i = 0; rc == PE_OK && i < n; i++) {
        if (val != NULL && !tok_cert_equals(ctx, h[i], val, &rv)) {
            if (rv != CKR_OK)
                rc = tok_ckfail(ctx, rv, "Reading a certificate");
            continue;
        }
        rv = ctx->fl->C_DestroyObject(ctx->sess, h[i]);
        log_debug(LOG_CAT_PKCS11, "C_DestroyObject (certificate): %s",
                  ckr_name(rv));
        if (rv != CKR_OK)
            rc = tok_ckfail(ctx, rv, "Removing the certificate");
        else if (pn != NULL)
            (*pn)++;
    }
    free(h);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

/* A read of the key's certificate(s), across the tries of tok_retry. */
struct read_job {
    struct tok_key *key;
    X509 *cert;                /* tok_cert_read: the best match */
    const struct tok_der *val; /* tok_cert_find_same: the value looked for */
    bool found;
};

static enum pe_rc read_once(struct tok_ctx *ctx, void *arg)
{
    struct read_job *j = arg;
    struct tok_key *key = j->key;
    CK_OBJECT_HANDLE *h;
    CK_ULONG n = 0, i;
    unsigned char *v = NULL;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pub = NULL, *cpub;
    X509 *x;
    CK_RV rv;

    X509_free(j->cert);
    j->cert = NULL;
    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = tok_cert_find(ctx, key->id, key->idlen, h, &n);
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
        if (j->cert == NULL) {
            j->cert = x;
            continue;
        }
        if (pub == NULL && n > 1 &&
            tok_obj_public(ctx, key->priv, &pub) != PE_OK)
            pub = NULL;
        cpub = X509_get0_pubkey(x);
        if (pub != NULL && cpub != NULL && EVP_PKEY_eq(pub, cpub) == 1) {
            X509_free(j->cert);
            j->cert = x;
        } else {
            X509_free(x);
        }
    }
    EVP_PKEY_free(pub);
    free(h);
    if (rv != CKR_OK) {
        X509_free(j->cert);
        j->cert = NULL;
        return tok_ckfail(ctx, rv, "Reading the key's certificate");
    }
    return PE_OK;
}

enum pe_rc tok_cert_read(struct tok_ctx *ctx, struct tok_key *key, X509 **pcert)
{
    struct read_job j = {key, NULL, NULL, false};
    enum pe_rc rc;

    rc = tok_retry(ctx, read_once, &j);
    *pcert = j.cert;
    return rc;
}

static enum pe_rc find_same_once(struct tok_ctx *ctx, void *arg)
{
    struct read_job *j = arg;
    CK_OBJECT_HANDLE *h;
    CK_ULONG n = 0, i;
    CK_RV rv;

    j->found = false;
    h = calloc(MAX_CERTS, sizeof(*h));
    if (h == NULL)
        return PE_E_NOMEM;
    rv = tok_cert_find(ctx, j->key->id, j->key->idlen, h, &n);
    for (i = 0; rv == CKR_OK && i < n && !j->found; i++)
        j->found = tok_cert_equals(ctx, h[i], j->val, &rv);
    free(h);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Reading the key's certificates");
    return PE_OK;
}

enum pe_rc tok_cert_find_same(struct tok_ctx *ctx, struct tok_key *key,
                              X509 *cert, bool *pfound)
{
    struct tok_der val = {NULL, 0};
    struct read_job j = {key, NULL, &val, false};
    enum pe_rc rc;

    *pfound = false;
    rc = tok_cert_der(cert, &val);
    if (rc == PE_OK)
        rc = tok_retry(ctx, find_same_once, &j);
    *pfound = rc == PE_OK && j.found;
    OPENSSL_free(val.p);
    return rc;
}

/* A removal by CKA_ID, across the tries of tok_retry: what was removed
 * before is not found again. */
struct destroy_job {
    const unsigned char *id;
    size_t idlen;
    size_t n;
};

static enum pe_rc destroy_once(struct tok_ctx *ctx, void *arg)
{
    struct destroy_job *j = arg;

    return tok_cert_remove(ctx, j->id, j->idlen, NULL, &j->n);
}

enum pe_rc tok_cert_destroy(struct tok_ctx *ctx, const unsigned char *id,
                            size_t idlen, size_t *pn)
{
    struct destroy_job j = {id, idlen, 0};
    enum pe_rc rc;

    if (pn != NULL)
        *pn = 0;
    if (id == NULL || idlen == 0)
        return pe_failf(PE_E_INTERNAL, "tok_cert_destroy: no CKA_ID");
    rc = tok_retry(ctx, destroy_once, &j);
    if (rc == PE_OK && j.n > 0)
        log_info("Removed %zu certificate%s from token \"%s\".", j.n,
                 j.n == 1 ? "" : "s", ctx->label);
    if (pn != NULL)
        *pn = j.n;
    return rc;
}
