/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keygen.c - generate key pairs on the token, check them, destroy them.
 *
 * SoftHSM defaults CKA_TOKEN and CKA_SENSITIVE to FALSE, so every safety
 * attribute is sent explicitly; ykcs11 2.2.0 rejects EXTRACTABLE and
 * ALWAYS_AUTHENTICATE, so its template leaves them out and relies on the
 * card; tpm2-pkcs11 sets the usage itself (quirks.c).  Curve and size stay
 * in the public template.  What is sent is read back (tok_key_check_safe).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "log.h"
#include "tok_int.h"

#define TOK_ID_LEN 16

static const unsigned char oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char oid_p384[] = {0x06, 0x05, 0x2b, 0x81,
                                         0x04, 0x00, 0x22};
static const unsigned char rsa_e[] = {0x01, 0x00, 0x01};

#define ADD(tmpl, n, t, p, l)                                                  \
    do {                                                                       \
        (tmpl)[(n)].type = (t);                                                \
        (tmpl)[(n)].pValue = (void *)(uintptr_t)(p);                           \
        (tmpl)[(n)].ulValueLen = (l);                                          \
        (n)++;                                                                 \
    } while (0)

enum pe_rc tok_key_check_safe(struct tok_ctx *ctx, CK_OBJECT_HANDLE priv)
{
    bool sensitive = false, extractable = true, local = false;
    CK_BBOOL b[3] = {CK_FALSE, CK_TRUE, CK_FALSE};
    CK_ATTRIBUTE t[] = {{CKA_SENSITIVE, &b[0], 1},
                        {CKA_EXTRACTABLE, &b[1], 1},
                        {CKA_LOCAL, &b[2], 1}};
    CK_RV rv;

    /* one call; a token that lacks one of them is asked one by one */
    rv = ctx->fl->C_GetAttributeValue(ctx->sess, priv, t, 3);
    if (rv == CKR_OK) {
        if (b[0] != CK_TRUE || b[1] != CK_FALSE)
            return pe_failf(PE_E_KEY,
                            "Token \"%s\" made the new key %s; it was "
                            "removed.",
                            ctx->label,
                            b[0] != CK_TRUE ? "not sensitive" : "extractable");
        if (b[2] != CK_TRUE)
            return pe_failf(PE_E_KEY,
                            "Token \"%s\" says the new key was not generated "
                            "on the token (CKA_LOCAL false); it was removed.",
                            ctx->label);
        return PE_OK;
    }
    rv = tok_attr_bool(ctx, priv, CKA_SENSITIVE, &sensitive);
    if (rv == CKR_OK)
        rv = tok_attr_bool(ctx, priv, CKA_EXTRACTABLE, &extractable);
    if (rv != CKR_OK)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" does not tell whether the new key is "
                        "sensitive and not extractable (%s); it was removed.",
                        ctx->label, ckr_name(rv));
    if (!sensitive || extractable)
        return pe_failf(
            PE_E_KEY, "Token \"%s\" made the new key %s; it was removed.",
            ctx->label, !sensitive ? "not sensitive" : "extractable");
    rv = tok_attr_bool(ctx, priv, CKA_LOCAL, &local);
    if (rv == CKR_OK && !local)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" says the new key was not generated on "
                        "the token (CKA_LOCAL false); it was removed.",
                        ctx->label);
    if (rv != CKR_OK)
        log_warn("Token \"%s\" does not report CKA_LOCAL (%s).", ctx->label,
                 ckr_name(rv));
    return PE_OK;
}

static void destroy_id(struct tok_ctx *ctx, const unsigned char *id,
                       size_t idlen, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_OBJECT_HANDLE h[8];
    CK_ULONG n = 0, i;
    CK_RV rv;

    if (tok_find(ctx, t, 2, h, 8, &n) != CKR_OK)
        return;
    for (i = 0; i < n; i++) {
        rv = ctx->fl->C_DestroyObject(ctx->sess, h[i]);
        log_debug(LOG_CAT_PKCS11, "C_DestroyObject: %s", ckr_name(rv));
        if (rv != CKR_OK)
            ctx->last_rv = rv;
    }
}

/*
 * One C_GenerateKeyPair.  The full template states every usage and safety
 * attribute; the family's quirks leave out what it rejects or reads
 * otherwise; minimal keeps only what PKCS#11 requires for a private,
 * sensitive signing key (the rest is read back by tok_key_check_safe).
 * Returns the CK_RV; the caller makes the sentence.
 */
static CK_RV generate_once(struct tok_ctx *ctx, const struct tok_keygen *spec,
                           const unsigned char *id, size_t idlen, bool minimal,
                           bool session, CK_OBJECT_HANDLE *ppriv,
                           CK_OBJECT_HANDLE *ppub)
{
    const struct tok_quirks *q = tok_quirks(ctx);
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BBOOL *token = session ? &no : &yes;
    CK_ULONG bits = spec->type == TOK_RSA_4096 ? 4096 : 3072;
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub[12], priv[12];
    CK_ULONG np = 0, nq = 0;
    size_t llen = spec->label != NULL ? strlen(spec->label) : 0;
    CK_RV rv;

    ADD(pub, np, CKA_TOKEN, token, sizeof(*token));
    if (!minimal && !q->usage_from_token)
        ADD(pub, np, CKA_VERIFY, &yes, sizeof(yes));
    ADD(pub, np, CKA_ID, id, idlen);
    if (llen > 0)
        ADD(pub, np, CKA_LABEL, spec->label, llen);
    if (spec->type == TOK_EC_P256)
        ADD(pub, np, CKA_EC_PARAMS, oid_p256, sizeof(oid_p256));
    else if (spec->type == TOK_EC_P384)
        ADD(pub, np, CKA_EC_PARAMS, oid_p384, sizeof(oid_p384));
    else {
        mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        ADD(pub, np, CKA_MODULUS_BITS, &bits, sizeof(bits));
        ADD(pub, np, CKA_PUBLIC_EXPONENT, rsa_e, sizeof(rsa_e));
    }
    ADD(priv, nq, CKA_TOKEN, token, sizeof(*token));
    ADD(priv, nq, CKA_PRIVATE, &yes, sizeof(yes));
    ADD(priv, nq, CKA_SENSITIVE, &yes, sizeof(yes));
    ADD(priv, nq, CKA_SIGN, &yes, sizeof(yes));
    ADD(priv, nq, CKA_ID, id, idlen);
    if (llen > 0)
        ADD(priv, nq, CKA_LABEL, spec->label, llen);
    if (!minimal && !q->minimal_templates) {
        ADD(priv, nq, CKA_EXTRACTABLE, &no, sizeof(no));
        if (!q->usage_from_token)
            ADD(priv, nq, CKA_DECRYPT, &no, sizeof(no));
        if (spec->always_authenticate)
            ADD(priv, nq, CKA_ALWAYS_AUTHENTICATE, &yes, sizeof(yes));
    }
    rv = ctx->fl->C_GenerateKeyPair(ctx->sess, &mech, pub, np, priv, nq, ppub,
                                    ppriv);
    log_debug(LOG_CAT_PKCS11, "C_GenerateKeyPair %s%s%s: %s",
              tok_keytype_name(spec->type), session ? " (session objects)" : "",
              minimal ? " (minimal template)" : "", ckr_name(rv));
    return rv;
}

CK_RV tok_keygen_pair(struct tok_ctx *ctx, const struct tok_keygen *spec,
                      const unsigned char *id, size_t idlen, bool session,
                      CK_OBJECT_HANDLE *ppriv, CK_OBJECT_HANDLE *ppub)
{
    const struct tok_quirks *q = tok_quirks(ctx);
    CK_RV rv, rv2;

    *ppriv = CK_INVALID_HANDLE;
    *ppub = CK_INVALID_HANDLE;
    rv = generate_once(ctx, spec, id, idlen, false, session, ppriv, ppub);
    if (!tok_attr_refused(rv))
        return rv;
    log_debug(LOG_CAT_PKCS11,
              "the key template was refused (%s); trying the minimal one",
              ckr_name(rv));
    rv2 = generate_once(ctx, spec, id, idlen, true, session, ppriv, ppub);
    if (rv2 == CKR_OK && spec->always_authenticate && !q->minimal_templates)
        log_warn("Token \"%s\" refused part of the key template; the key "
                 "was made without always-authenticate.",
                 ctx->label);
    return rv2 == CKR_OK ? CKR_OK : rv;
}

/* The key pair on the token, with the sentence of the first failure. */
static enum pe_rc generate(struct tok_ctx *ctx, const struct tok_keygen *spec,
                           const unsigned char *id, size_t idlen,
                           CK_OBJECT_HANDLE *ppriv, CK_OBJECT_HANDLE *ppub)
{
    const struct tok_quirks *q = tok_quirks(ctx);
    CK_RV rv;

    rv = tok_keygen_pair(ctx, spec, id, idlen, false, ppriv, ppub);
    if (rv == CKR_OK)
        return PE_OK;
    if (rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_USER_TYPE_INVALID) {
        ctx->last_rv = rv;
        return pe_failf(
            PE_E_TOKEN, "Token \"%s\" needs a %s login to generate keys (%s).",
            ctx->label, q->so_for_keygen ? "SO" : "user", ckr_name(rv));
    }
    return tok_ckfail(ctx, rv, "Generating the key pair");
}

/* A key with this id made by an earlier, interrupted attempt. */
static bool adopt_existing(struct tok_ctx *ctx, const unsigned char *id,
                           size_t idlen, CK_OBJECT_HANDLE *ppriv)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_ULONG n = 0;

    return tok_find(ctx, t, 2, ppriv, 1, &n) == CKR_OK && n == 1;
}

static enum pe_rc check_spec(struct tok_ctx *ctx, const struct tok_keygen *spec)
{
    const struct tok_quirks *q = tok_quirks(ctx);

    if (q->piv_ids && (spec->id == NULL || spec->idlen != 1 ||
                       spec->id[0] < 1 || spec->id[0] > 25))
        return pe_failf(PE_E_USAGE,
                        "Token \"%s\" (%s) keeps keys in PIV slots; name the "
                        "slot (CKA_ID 1..25, e.g. --slot 9c).",
                        ctx->label, tok_family_name(ctx->family));
    if (q->minimal_templates && spec->always_authenticate)
        log_info("Token \"%s\" sets the PIN policy itself; "
                 "always-authenticate is not sent.",
                 ctx->label);
    if (spec->id != NULL && spec->idlen == 0)
        return pe_failf(PE_E_USAGE, "An empty key ID was given.");
    return PE_OK;
}

/* The type is one the token can make: the one asked for, or with
 * any_type the first it can make (*pspec then points to chosen). */
static enum pe_rc check_type(struct tok_ctx *ctx,
                             const struct tok_keygen **pspec,
                             struct tok_keygen *chosen)
{
    enum pe_rc rc;

    if (!(*pspec)->any_type)
        return tok_keytype_check(ctx, (*pspec)->type);
    *chosen = **pspec;
    rc = tok_keytype_pick(ctx, &chosen->type);
    if (rc != PE_OK)
        return rc;
    say("No key type was given: making %s, the first of ec-p256, ec-p384, "
        "rsa-3072 and rsa-4096 token \"%s\" can make.",
        tok_keytype_name(chosen->type), ctx->label);
    *pspec = chosen;
    return PE_OK;
}

enum pe_rc tok_key_generate_ex(struct tok_ctx *ctx,
                               const struct tok_keygen *spec,
                               struct tok_key **pkey)
{
    unsigned char fresh[TOK_ID_LEN];
    const unsigned char *id = spec->id;
    size_t idlen = spec->idlen;
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
    struct tok_backoff b = {0, 0};
    struct tok_keygen chosen;
    bool used = false;
    enum pe_rc rc;

    *pkey = NULL;
    tok_op_begin(ctx);
    rc = check_spec(ctx, spec);
    if (rc == PE_OK)
        rc = check_type(ctx, &spec, &chosen);
    if (rc != PE_OK)
        return rc;
    if (id == NULL) {
        rc = tok_fresh_id(ctx, fresh, sizeof(fresh));
        id = fresh;
        idlen = sizeof(fresh);
    } else if (!tok_quirks(ctx)->piv_ids) {
        rc = tok_id_in_use(ctx, id, idlen, &used);
        if (rc == PE_OK && used)
            rc = pe_failf(PE_E_KEY,
                          "Token \"%s\" already has an object with that "
                          "key ID.",
                          ctx->label);
    }
    if (rc != PE_OK)
        return rc;
    rc = generate(ctx, spec, id, idlen, &priv, &pub);
    /* SoftHSM fails a keygen with CKR_GENERAL_ERROR while another process
     * rewrites the token (tok_retry_transient is false on other families:
     * there the first failure stands and nothing is adopted).  The ID was free
     * before: a private key with it now is ours (made before the answer was
     * lost), never a second one; a lone public half goes.  Not for PIV slots,
     * whose ID was not free. */
    while (rc != PE_OK && !tok_quirks(ctx)->piv_ids &&
           tok_retry_transient(ctx, &b)) {
        pub = CK_INVALID_HANDLE;
        if (adopt_existing(ctx, id, idlen, &priv)) {
            rc = PE_OK;
            break;
        }
        destroy_id(ctx, id, idlen, CKO_PUBLIC_KEY);
        rc = generate(ctx, spec, id, idlen, &priv, &pub);
    }
    if (rc != PE_OK && tok_recover_once(ctx)) {
        /* The key may have been made before the device dropped. */
        if (!adopt_existing(ctx, id, idlen, &priv))
            rc = generate(ctx, spec, id, idlen, &priv, &pub);
        else
            rc = PE_OK;
    }
    if (rc != PE_OK)
        return rc;
    rc = tok_key_check_safe(ctx, priv);
    if (rc == PE_OK)
        rc = tok_key_new_handle(ctx, priv, pkey);
    if (rc != PE_OK) {
        char why[512];

        snprintf(why, sizeof(why), "%s", pe_sentence(rc));
        destroy_id(ctx, id, idlen, CKO_PRIVATE_KEY);
        destroy_id(ctx, id, idlen, CKO_PUBLIC_KEY);
        return pe_failf(rc, "%s", why);
    }
    /* the public half's handle spares a search for it (tok_key_public) */
    (*pkey)->pubh = pub;
    log_info("Generated %s key %s.", tok_keytype_name(spec->type),
             (*pkey)->uri);
    return PE_OK;
}

enum pe_rc tok_key_generate(struct tok_ctx *ctx, enum tok_keytype type,
                            const char *label, struct tok_key **pkey)
{
    struct tok_keygen spec;

    memset(&spec, 0, sizeof(spec));
    spec.type = type;
    spec.label = label;
    return tok_key_generate_ex(ctx, &spec, pkey);
}

enum pe_rc tok_key_destroy(struct tok_key *key)
{
    struct tok_ctx *ctx;
    CK_OBJECT_HANDLE h;
    enum pe_rc rc;

    if (key == NULL)
        return PE_OK;
    ctx = key->ctx;
    tok_op_begin(ctx);
    rc = tok_key_handle(key, &h);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = tok_key_handle(key, &h);
    if (rc == PE_OK) {
        destroy_id(ctx, key->id, key->idlen, CKO_PRIVATE_KEY);
        destroy_id(ctx, key->id, key->idlen, CKO_PUBLIC_KEY);
        if (ctx->last_rv != CKR_OK)
            rc = tok_ckfail(ctx, ctx->last_rv, "Removing the key pair");
        else
            log_info("Removed key pair %s.", key->uri);
    }
    tok_key_free(key);
    return rc;
}

enum pe_rc tok_key_remove_half(struct tok_ctx *ctx, const unsigned char *id,
                               size_t idlen, unsigned *premoved)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_OBJECT_HANDLE h[8];
    CK_ULONG n = 0;
    CK_RV rv;

    *premoved = 0;
    tok_op_begin(ctx);
    rv = tok_find(ctx, t, 2, h, 8, &n);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Looking for the private key");
    if (n > 0)
        return PE_OK; /* a whole pair, or at least its private half */
    cls = CKO_PUBLIC_KEY;
    rv = tok_find(ctx, t, 2, h, 8, &n);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Looking for the public key");
    if (n == 0)
        return PE_OK;
    ctx->last_rv = CKR_OK;
    destroy_id(ctx, id, idlen, CKO_PUBLIC_KEY);
    if (ctx->last_rv != CKR_OK)
        return tok_ckfail(ctx, ctx->last_rv, "Removing the lone public key");
    *premoved = (unsigned)n;
    return PE_OK;
}
