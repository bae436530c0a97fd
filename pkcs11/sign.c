/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.c - sign a digest the caller made, with mechanisms every module and
 * p11-kit 0.24 remoting forward: CKM_ECDSA (r||s, converted to DER) and
 * CKM_RSA_PKCS over the DER DigestInfo (tpm2-pkcs11 signs it with a raw
 * TPM decrypt, which is why its RSA keys keep the decrypt attribute).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>

#include "log.h"
#include "tok_int.h"

#define SIG_MAX 1024 /* RSA-8192 */

/* DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
static const unsigned char di_sha256[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const unsigned char di_sha384[] = {
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};

/* r||s (two halves of equal size) to a DER ECDSA-Sig-Value. */
static enum pe_rc ecdsa_to_der(const unsigned char *rs, size_t len,
                               unsigned char **psig, size_t *psiglen)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL, *p;
    int n;
    enum pe_rc rc = PE_E_NOMEM;

    if (len == 0 || len % 2 != 0)
        return pe_failf(PE_E_TOKEN,
                        "The token returned an ECDSA signature "
                        "of odd length %zu.",
                        len);
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(rs, (int)(len / 2), NULL);
    s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
    if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s))
        goto out;
    r = s = NULL;
    n = i2d_ECDSA_SIG(sig, NULL);
    if (n <= 0)
        goto out;
    der = OPENSSL_malloc((size_t)n);
    if (der == NULL)
        goto out;
    p = der;
    if (i2d_ECDSA_SIG(sig, &p) != n)
        goto out;
    *psig = der;
    *psiglen = (size_t)n;
    der = NULL;
    rc = PE_OK;
out:
    if (rc != PE_OK)
        pe_fail_ossl(rc, "Encoding the ECDSA signature");
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

static enum pe_rc sign_once(struct tok_key *key, const unsigned char *data,
                            size_t dlen, unsigned char *out, CK_ULONG *poutlen)
{
    struct tok_ctx *ctx = key->ctx;
    CK_MECHANISM mech = {key->ktype == CKK_EC ? CKM_ECDSA : CKM_RSA_PKCS, NULL,
                         0};
    CK_OBJECT_HANDLE h;
    enum pe_rc rc;
    CK_RV rv;

    rc = tok_key_handle(key, &h);
    if (rc != PE_OK)
        return rc;
    rv = ctx->fl->C_SignInit(ctx->sess, &mech, h);
    log_debug(LOG_CAT_PKCS11, "C_SignInit: %s", ckr_name(rv));
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_SignInit");
    if (key->always_auth) {
        rc = tok_context_login(ctx);
        if (rc != PE_OK) {
            /* End the operation: without the context login C_Sign fails
             * (CKR_USER_NOT_LOGGED_IN) and terminates it; the result, if
             * any, is thrown away. */
            *poutlen = SIG_MAX;
            rv = ctx->fl->C_Sign(ctx->sess, (CK_BYTE_PTR)(uintptr_t)data,
                                 (CK_ULONG)dlen, out, poutlen);
            log_debug(LOG_CAT_PKCS11, "C_Sign (to end it): %s", ckr_name(rv));
            return rc;
        }
    }
    *poutlen = SIG_MAX;
    rv = ctx->fl->C_Sign(ctx->sess, (CK_BYTE_PTR)(uintptr_t)data,
                         (CK_ULONG)dlen, out, poutlen);
    log_debug(LOG_CAT_PKCS11, "C_Sign: %s", ckr_name(rv));
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_Sign");
    return PE_OK;
}

enum pe_rc tok_sign_digest(struct tok_key *key, int md_nid,
                           const unsigned char *digest, size_t dlen,
                           unsigned char **psig, size_t *psiglen)
{
    unsigned char data[19 + 64];
    unsigned char *out = NULL;
    const unsigned char *prefix = NULL;
    size_t plen = 0, want;
    CK_ULONG outlen = 0;
    enum pe_rc rc;

    *psig = NULL;
    *psiglen = 0;
    if (md_nid == NID_sha256) {
        prefix = di_sha256;
        plen = sizeof(di_sha256);
        want = 32;
    } else if (md_nid == NID_sha384) {
        prefix = di_sha384;
        plen = sizeof(di_sha384);
        want = 48;
    } else {
        return pe_failf(PE_E_INTERNAL, "Signing supports SHA-256 and "
                                       "SHA-384 digests only.");
    }
    if (dlen != want)
        return pe_failf(PE_E_INTERNAL, "A digest of %zu bytes is not %s.", dlen,
                        OBJ_nid2sn(md_nid));
    if (key->ktype == CKK_RSA) {
        memcpy(data, prefix, plen);
        memcpy(data + plen, digest, dlen);
        dlen += plen;
    } else if (key->ktype == CKK_EC) {
        memcpy(data, digest, dlen);
    } else {
        return pe_failf(PE_E_KEY, "The key %s is neither RSA nor EC.",
                        key->uri);
    }
    out = OPENSSL_malloc(SIG_MAX);
    if (out == NULL)
        return PE_E_NOMEM;
    tok_op_begin(key->ctx);
    rc = sign_once(key, data, dlen, out, &outlen);
    if (rc != PE_OK && tok_recover_once(key->ctx))
        rc = sign_once(key, data, dlen, out, &outlen);
    if (rc != PE_OK)
        goto out;
    if (key->ktype == CKK_EC) {
        rc = ecdsa_to_der(out, outlen, psig, psiglen);
    } else {
        *psig = out;
        *psiglen = outlen;
        out = NULL;
    }
out:
    OPENSSL_free(out);
    return rc;
}
