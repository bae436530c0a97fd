/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest.c - key attestation objects a token keeps itself (ykcs11, as
 * Yubico documents its attestation objects).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tok_int.h"

#define YK_F9_ID 25

/* The one certificate with this CKA_ID and CKA_TOKEN value, parsed. */
static enum pe_rc read_one(struct tok_ctx *ctx, const unsigned char *id,
                           size_t idlen, bool token, X509 **px)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_BBOOL tv = token ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &tv, sizeof(tv)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_OBJECT_HANDLE h;
    CK_ULONG n = 0;
    unsigned char *v = NULL;
    const unsigned char *p;
    size_t len = 0;
    CK_RV rv;

    *px = NULL;
    rv = tok_find(ctx, t, 3, &h, 1, &n);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Looking for the attestation");
    if (n == 0)
        return PE_OK;
    rv = tok_attr_get(ctx, h, CKA_VALUE, &v, &len);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Reading the attestation");
    p = v;
    *px = d2i_X509(NULL, &p, (long)len);
    free(v);
    if (*px == NULL)
        return pe_fail_ossl(PE_E_KEY, "The token's attestation certificate "
                                      "does not parse");
    return PE_OK;
}

static enum pe_rc attest_once(struct tok_ctx *ctx, struct tok_key *key,
                              X509 **pattest, X509 **pf9)
{
    static const unsigned char f9[] = {YK_F9_ID};
    enum pe_rc rc;

    rc = read_one(ctx, key->id, key->idlen, false, pattest);
    if (rc == PE_OK && *pattest != NULL)
        rc = read_one(ctx, f9, sizeof(f9), true, pf9);
    if (rc != PE_OK)
        return rc;
    if (*pattest == NULL || *pf9 == NULL)
        return pe_failf(PE_E_KEY, "Token \"%s\" holds no %s for key %s.",
                        ctx->label,
                        *pattest == NULL ? "attestation certificate"
                                         : "f9 attestation intermediate",
                        key->uri);
    return PE_OK;
}

enum pe_rc tok_attestation_read(struct tok_ctx *ctx, struct tok_key *key,
                                X509 **pattest, X509 **pf9)
{
    enum pe_rc rc;

    *pattest = NULL;
    *pf9 = NULL;
    if (ctx->family != TOK_FAMILY_YKCS11)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" (%s) gives no key attestation through "
                        "PKCS#11; pass the vendor's attestation as a file.",
                        ctx->label, tok_family_name(ctx->family));
    tok_op_begin(ctx);
    rc = attest_once(ctx, key, pattest, pf9);
    if (rc != PE_OK && tok_recover_once(ctx)) {
        X509_free(*pattest);
        X509_free(*pf9);
        *pattest = *pf9 = NULL;
        rc = attest_once(ctx, key, pattest, pf9);
    }
    if (rc != PE_OK) {
        X509_free(*pattest);
        X509_free(*pf9);
        *pattest = *pf9 = NULL;
    }
    return rc;
}
