/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.c - proof instead of a claim (`p11enroll doctor --probe`): a key
 * pair of one type made in the session, one signature checked against its
 * public key, and the pair removed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "tok_int.h"

/* The signature of digest dg (SHA-256) verifies under pub. */
static bool signature_ok(EVP_PKEY *pub, const unsigned char *dg, size_t dlen,
                         const unsigned char *sig, size_t siglen)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pub, NULL);
    bool ok;

    ok = pc != NULL && EVP_PKEY_verify_init(pc) == 1 &&
         EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
         EVP_PKEY_verify(pc, sig, siglen, dg, dlen) == 1;
    EVP_PKEY_CTX_free(pc);
    return ok;
}

/* Sign with the new pair and check the signature. */
static enum pe_rc sign_once(struct tok_ctx *ctx, CK_OBJECT_HANDLE priv,
                            CK_OBJECT_HANDLE pubh, enum tok_keytype type)
{
    static const unsigned char msg[] = "p11enroll doctor --probe";
    unsigned char dg[32], *sig = NULL;
    size_t siglen = 0;
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;
    enum pe_rc rc;

    rc = tok_key_new_handle(ctx, priv, &key);
    if (rc != PE_OK)
        return rc;
    key->pubh = pubh;
    if (EVP_Digest(msg, sizeof(msg) - 1, dg, NULL, EVP_sha256(), NULL) != 1)
        rc = pe_fail_ossl(PE_E_INTERNAL, "SHA-256");
    if (rc == PE_OK)
        rc = tok_key_public(key, &pub);
    if (rc == PE_OK)
        rc = tok_sign_digest(key, NID_sha256, dg, sizeof(dg), &sig, &siglen);
    if (rc == PE_OK && !signature_ok(pub, dg, sizeof(dg), sig, siglen))
        rc = pe_failf(PE_E_KEY,
                      "Token \"%s\" made a %s key pair whose signature does "
                      "not verify with its public key.",
                      ctx->label, tok_keytype_name(type));
    OPENSSL_free(sig);
    EVP_PKEY_free(pub);
    tok_key_free(key);
    return rc;
}

/* Remove one half; false (after saying which) when it stays. */
static bool remove_half(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                        const char *uri)
{
    CK_RV rv;

    if (h == CK_INVALID_HANDLE)
        return true;
    rv = ctx->fl->C_DestroyObject(ctx->sess, h);
    log_debug(LOG_CAT_PKCS11, "C_DestroyObject (probe key): %s", ckr_name(rv));
    if (rv != CKR_OK && uri != NULL)
        log_warn("The probe key %s could not be removed (%s); remove it "
                 "with the token's tools.",
                 uri, ckr_name(rv));
    return rv == CKR_OK;
}

enum pe_rc tok_probe_keytype(struct tok_ctx *ctx, enum tok_keytype type,
                             bool *ptoken_objects)
{
    struct tok_keygen spec = {type, "p11enroll doctor probe", NULL, 0, false,
                              false};
    CK_OBJECT_HANDLE priv, pub;
    unsigned char id[16];
    char *uri = NULL;
    enum pe_rc rc;
    bool gone;
    CK_RV rv;

    *ptoken_objects = false;
    tok_op_begin(ctx);
    if (RAND_bytes(id, sizeof(id)) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "RAND_bytes");
    rv = CKR_ATTRIBUTE_VALUE_INVALID; /* tpm2-pkcs11's answer */
    if (!tok_quirks(ctx)->no_session_keys)
        rv = tok_keygen_pair(ctx, &spec, id, sizeof(id), true, &priv, &pub);
    if (tok_attr_refused(rv)) {
        log_debug(LOG_CAT_PKCS11,
                  "no session keys (%s): token objects, "
                  "removed again",
                  ckr_name(rv));
        *ptoken_objects = true;
        rv = tok_keygen_pair(ctx, &spec, id, sizeof(id), false, &priv, &pub);
        uri = tok_format_object_uri(ctx, CKO_PRIVATE_KEY, id, sizeof(id),
                                    spec.label);
    }
    if (rv != CKR_OK) {
        rc = tok_ckfail(ctx, rv, "Generating the key pair");
        free(uri);
        return rc;
    }
    rc = sign_once(ctx, priv, pub, type);
    /* tpm2-pkcs11 keeps the pair loaded in the TPM until a logout, also
     * when it is removed: a TPM without a resource manager has room for
     * two or three loaded objects */
    if (*ptoken_objects) {
        enum pe_rc rc2 = tok_login_again(ctx);

        if (rc == PE_OK)
            rc = rc2;
    }
    gone = remove_half(ctx, priv, uri);
    gone = remove_half(ctx, pub, uri) && gone;
    if (rc == PE_OK && !gone)
        rc = pe_failf(PE_E_TOKEN,
                      "Token \"%s\" made and used a %s key pair, but it "
                      "could not be removed again: %s.",
                      ctx->label, tok_keytype_name(type),
                      uri != NULL ? uri : "it ends with the session");
    free(uri);
    return rc;
}
