/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pubkey.c - a key's public half as an EVP_PKEY: from its public key
 * object, its own attributes or its certificate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "log.h"
#include "tok_int.h"

/* The public key of OpenSSL type ("EC", "RSA") from the parameters in
 * bld (pushed by the caller, which frees bld); invalid names the error. */
static enum pe_rc pkey_from_params(const char *type, OSSL_PARAM_BLD *bld,
                                   const char *invalid, EVP_PKEY **ppub)
{
    OSSL_PARAM *prm = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pctx = NULL;
    enum pe_rc rc = PE_OK;

    if (prm == NULL)
        return pe_fail_ossl(PE_E_NOMEM, "OSSL_PARAM_BLD");
    pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, ppub, EVP_PKEY_PUBLIC_KEY, prm) != 1)
        rc = pe_fail_ossl(PE_E_KEY, invalid);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(prm);
    return rc;
}

/* CKA_EC_PARAMS and CKA_EC_POINT in one call where they fit, else one
 * read each (*pparams and *ppoint malloc'ed). */
static CK_RV ec_attrs(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                      unsigned char **pparams, size_t *pplen,
                      unsigned char **ppoint, size_t *pqlen)
{
    CK_ATTRIBUTE t[2] = {{CKA_EC_PARAMS, NULL, 128}, {CKA_EC_POINT, NULL, 256}};
    CK_RV rv;

    t[0].pValue = malloc(t[0].ulValueLen);
    t[1].pValue = malloc(t[1].ulValueLen);
    rv = t[0].pValue != NULL && t[1].pValue != NULL
             ? ctx->fl->C_GetAttributeValue(ctx->sess, h, t, 2)
             : CKR_HOST_MEMORY;
    if (rv == CKR_OK && t[0].ulValueLen <= 128 && t[1].ulValueLen <= 256) {
        *pparams = t[0].pValue;
        *pplen = t[0].ulValueLen;
        *ppoint = t[1].pValue;
        *pqlen = t[1].ulValueLen;
        return CKR_OK;
    }
    free(t[0].pValue);
    free(t[1].pValue);
    rv = tok_attr_get(ctx, h, CKA_EC_PARAMS, pparams, pplen);
    if (rv == CKR_OK)
        rv = tok_attr_get(ctx, h, CKA_EC_POINT, ppoint, pqlen);
    return rv;
}

static enum pe_rc ec_public(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                            EVP_PKEY **ppub)
{
    unsigned char *params = NULL, *point = NULL;
    const unsigned char *p;
    size_t plen = 0, qlen = 0;
    ASN1_OBJECT *oid = NULL;
    ASN1_OCTET_STRING *os = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    const unsigned char *q;
    size_t ql;
    const char *group;
    enum pe_rc rc = PE_E_KEY;
    CK_RV rv;

    rv = ec_attrs(ctx, h, &params, &plen, &point, &qlen);
    if (rv != CKR_OK || plen == 0 || qlen == 0) {
        rc = rv != CKR_OK ? tok_ckfail(ctx, rv, "Reading the EC public key")
                          : pe_failf(PE_E_KEY, "The EC key has no public "
                                               "point.");
        goto out;
    }
    p = params;
    oid = d2i_ASN1_OBJECT(NULL, &p, (long)plen);
    group = oid != NULL ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;
    if (group == NULL || OBJ_obj2nid(oid) == NID_undef) {
        rc = pe_failf(PE_E_KEY, "The EC key uses a curve p11enroll does not "
                                "know.");
        goto out;
    }
    /* CKA_EC_POINT is a DER OCTET STRING; tolerate a raw point too */
    p = point;
    os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)qlen);
    if (os != NULL && p == point + qlen) {
        q = ASN1_STRING_get0_data(os);
        ql = (size_t)ASN1_STRING_length(os);
    } else {
        q = point;
        ql = qlen;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                         0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q,
                                          ql)) {
        rc = pe_fail_ossl(PE_E_NOMEM, "OSSL_PARAM_BLD");
        goto out;
    }
    rc = pkey_from_params("EC", bld, "The token's EC public key is invalid",
                          ppub);
out:
    OSSL_PARAM_BLD_free(bld);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    free(params);
    free(point);
    return rc;
}

static enum pe_rc rsa_public(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                             EVP_PKEY **ppub)
{
    unsigned char *mod = NULL, *exp = NULL;
    size_t mlen = 0, elen = 0;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    enum pe_rc rc = PE_E_KEY;
    CK_RV rv;

    rv = tok_attr_get(ctx, h, CKA_MODULUS, &mod, &mlen);
    if (rv == CKR_OK)
        rv = tok_attr_get(ctx, h, CKA_PUBLIC_EXPONENT, &exp, &elen);
    if (rv != CKR_OK || mlen == 0 || elen == 0) {
        rc = rv != CKR_OK ? tok_ckfail(ctx, rv, "Reading the RSA public key")
                          : pe_failf(PE_E_KEY, "The RSA key has no modulus.");
        goto out;
    }
    n = BN_bin2bn(mod, (int)mlen, NULL);
    e = BN_bin2bn(exp, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n == NULL || e == NULL || bld == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        rc = pe_fail_ossl(PE_E_NOMEM, "OSSL_PARAM_BLD");
        goto out;
    }
    rc = pkey_from_params("RSA", bld, "The token's RSA public key is invalid",
                          ppub);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(mod);
    free(exp);
    return rc;
}

enum pe_rc tok_obj_public(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                          EVP_PKEY **ppub)
{
    CK_ULONG kt;
    CK_RV rv;

    *ppub = NULL;
    rv = tok_attr_ulong(ctx, h, CKA_KEY_TYPE, &kt);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Reading CKA_KEY_TYPE");
    if (kt == CKK_EC)
        return ec_public(ctx, h, ppub);
    if (kt == CKK_RSA)
        return rsa_public(ctx, h, ppub);
    return pe_failf(PE_E_KEY, "The key is neither RSA nor EC.");
}

/* The public key object with the same CKA_ID as the private key. */
static CK_OBJECT_HANDLE pub_object(struct tok_ctx *ctx, const unsigned char *id,
                                   size_t idlen)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;

    if (tok_find(ctx, t, 2, &h, 1, &n) != CKR_OK || n == 0)
        return CK_INVALID_HANDLE;
    return h;
}

enum pe_rc tok_key_public_once(struct tok_key *key, EVP_PKEY **ppub)
{
    struct tok_ctx *ctx = key->ctx;
    CK_OBJECT_HANDLE h;
    X509 *cert = NULL;
    enum pe_rc rc;

    h = key->pubh != CK_INVALID_HANDLE && key->generation == ctx->generation
            ? key->pubh
            : pub_object(ctx, key->id, key->idlen);
    if (h != CK_INVALID_HANDLE && tok_obj_public(ctx, h, ppub) == PE_OK)
        return PE_OK;
    rc = tok_key_handle(key, &h);
    if (rc != PE_OK)
        return rc;
    if (tok_obj_public(ctx, h, ppub) == PE_OK)
        return PE_OK;
    /* last resort: the certificate stored for the key */
    rc = tok_cert_read(ctx, key, &cert);
    if (rc == PE_OK && cert != NULL) {
        *ppub = X509_get_pubkey(cert);
        X509_free(cert);
        if (*ppub != NULL)
            return PE_OK;
    }
    return pe_failf(PE_E_KEY,
                    "The public key of %s cannot be read from token \"%s\".",
                    key->uri, ctx->label);
}

enum pe_rc tok_key_public(struct tok_key *key, EVP_PKEY **ppub)
{
    enum pe_rc rc;

    *ppub = NULL;
    /* a key's public half does not change: read and decode it once */
    if (key->pub != NULL) {
        if (EVP_PKEY_up_ref(key->pub) != 1)
            return PE_E_NOMEM;
        *ppub = key->pub;
        return PE_OK;
    }
    tok_op_begin(key->ctx);
    rc = tok_key_public_once(key, ppub);
    if (rc != PE_OK && tok_recover_once(key->ctx))
        rc = tok_key_public_once(key, ppub);
    if (rc == PE_OK && EVP_PKEY_up_ref(*ppub) == 1)
        key->pub = *ppub;
    return rc;
}
