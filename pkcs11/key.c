/* SPDX-License-Identifier: Apache-2.0 */
/*
 * key.c - key types, attribute helpers, the key handle, and finding keys
 * by CKA_ID, URI or public key.  Generating: keygen.c; the public key as
 * an EVP_PKEY: pubkey.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "log.h"
#include "tok_int.h"

static const struct {
    enum tok_keytype type;
    const char *name;
    CK_KEY_TYPE ktype;
    unsigned long bits;
    int nid; /* curve */
} keytypes[] = {
    {TOK_EC_P256, "ec-p256", CKK_EC, 256, NID_X9_62_prime256v1},
    {TOK_EC_P384, "ec-p384", CKK_EC, 384, NID_secp384r1},
    {TOK_RSA_3072, "rsa-3072", CKK_RSA, 3072, NID_undef},
    {TOK_RSA_4096, "rsa-4096", CKK_RSA, 4096, NID_undef},
};

#define NKEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

const char *tok_keytype_name(enum tok_keytype type)
{
    size_t i;

    for (i = 0; i < NKEYTYPES; i++)
        if (keytypes[i].type == type)
            return keytypes[i].name;
    return "?";
}

enum pe_rc tok_keytype_parse(const char *name, enum tok_keytype *ptype)
{
    size_t i;

    for (i = 0; i < NKEYTYPES; i++) {
        if (strcmp(keytypes[i].name, name) == 0) {
            *ptype = keytypes[i].type;
            return PE_OK;
        }
    }
    return pe_failf(PE_E_USAGE,
                    "Unknown key type \"%s\"; use ec-p256, ec-p384, "
                    "rsa-3072 or rsa-4096.",
                    name);
}

/* ---- attribute helpers ------------------------------------------------- */

bool tok_attr_refused(CK_RV rv)
{
    return rv == CKR_ATTRIBUTE_TYPE_INVALID ||
           rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT;
}

/* A first read into a buffer this big answers most attributes (a
 * certificate, a public point, a label) in one call instead of two. */
#define ATTR_FIRST_TRY 4096

CK_RV tok_attr_get(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                   CK_ATTRIBUTE_TYPE type, unsigned char **pval, size_t *plen)
{
    CK_FUNCTION_LIST *fl = ctx->fl;
    CK_SESSION_HANDLE sess = ctx->sess;
    CK_ATTRIBUTE a = {type, NULL, ATTR_FIRST_TRY};
    CK_RV rv;

    *pval = NULL;
    *plen = 0;
    a.pValue = malloc(ATTR_FIRST_TRY);
    if (a.pValue == NULL)
        return CKR_HOST_MEMORY;
    rv = fl->C_GetAttributeValue(sess, h, &a, 1);
    if (rv == CKR_OK && a.ulValueLen <= ATTR_FIRST_TRY) {
        if (a.ulValueLen == 0) {
            free(a.pValue);
            return CKR_OK;
        }
        *pval = a.pValue;
        *plen = a.ulValueLen;
        return CKR_OK;
    }
    free(a.pValue);
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
        return rv;
    /* bigger: ask its size, then read it */
    a.pValue = NULL;
    a.ulValueLen = 0;
    rv = fl->C_GetAttributeValue(sess, h, &a, 1);
    if (rv != CKR_OK)
        return rv;
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
        return CKR_ATTRIBUTE_TYPE_INVALID;
    if (a.ulValueLen == 0)
        return CKR_OK;
    if (a.ulValueLen > 1024 * 1024)
        return CKR_DATA_LEN_RANGE;
    a.pValue = malloc(a.ulValueLen);
    if (a.pValue == NULL)
        return CKR_HOST_MEMORY;
    rv = fl->C_GetAttributeValue(sess, h, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return rv;
    }
    *pval = a.pValue;
    *plen = a.ulValueLen;
    return CKR_OK;
}

CK_RV tok_attr_bool(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE_TYPE type, bool *pval)
{
    CK_BBOOL b = CK_FALSE;
    CK_ATTRIBUTE a = {type, &b, sizeof(b)};
    CK_RV rv;

    rv = ctx->fl->C_GetAttributeValue(ctx->sess, h, &a, 1);
    *pval = rv == CKR_OK && b == CK_TRUE;
    return rv;
}

CK_RV tok_attr_ulong(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                     CK_ATTRIBUTE_TYPE type, CK_ULONG *pval)
{
    CK_ATTRIBUTE a = {type, pval, sizeof(*pval)};

    *pval = 0;
    return ctx->fl->C_GetAttributeValue(ctx->sess, h, &a, 1);
}

CK_RV tok_find(struct tok_ctx *ctx, CK_ATTRIBUTE *tmpl, CK_ULONG n,
               CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *pcount)
{
    CK_RV rv, rv2;

    *pcount = 0;
    rv = ctx->fl->C_FindObjectsInit(ctx->sess, tmpl, n);
    if (rv != CKR_OK) {
        log_debug(LOG_CAT_PKCS11, "C_FindObjectsInit: %s", ckr_name(rv));
        return rv;
    }
    rv = ctx->fl->C_FindObjects(ctx->sess, out, max, pcount);
    rv2 = ctx->fl->C_FindObjectsFinal(ctx->sess);
    log_debug(LOG_CAT_PKCS11, "C_FindObjects (%lu attributes): %s, %lu found",
              (unsigned long)n, ckr_name(rv != CKR_OK ? rv : rv2),
              (unsigned long)*pcount);
    return rv != CKR_OK ? rv : rv2;
}

enum pe_rc tok_id_in_use(struct tok_ctx *ctx, const unsigned char *id,
                         size_t idlen, bool *pused)
{
    CK_ATTRIBUTE t = {CKA_ID, (void *)(uintptr_t)id, idlen};
    CK_OBJECT_HANDLE h;
    CK_ULONG n;
    CK_RV rv;

    rv = tok_find(ctx, &t, 1, &h, 1, &n);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_FindObjects (CKA_ID)");
    *pused = n > 0;
    return PE_OK;
}

enum pe_rc tok_fresh_id(struct tok_ctx *ctx, unsigned char *id, size_t idlen)
{
    bool used = false;
    enum pe_rc rc;

    if (RAND_bytes(id, (int)idlen) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "RAND_bytes");
    /* 16 random bytes meet another object's ID with probability 2^-128:
     * no search; shorter IDs are looked for */
    if (idlen >= 16)
        return PE_OK;
    rc = tok_id_in_use(ctx, id, idlen, &used);
    if (rc == PE_OK && used)
        rc = pe_failf(PE_E_INTERNAL, "No free CKA_ID found.");
    return rc;
}

/* ---- the key handle ------------------------------------------------------ */

/* Find the private keys with this CKA_ID (up to max). */
static CK_RV find_priv(struct tok_ctx *ctx, const unsigned char *id,
                       size_t idlen, CK_OBJECT_HANDLE *out, CK_ULONG max,
                       CK_ULONG *pn)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};

    return tok_find(ctx, t, 2, out, max, pn);
}

enum pe_rc tok_key_handle(struct tok_key *key, CK_OBJECT_HANDLE *ph)
{
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n;
    CK_RV rv;

    if (key->generation == key->ctx->generation &&
        key->priv != CK_INVALID_HANDLE) {
        *ph = key->priv;
        return PE_OK;
    }
    rv = find_priv(key->ctx, key->id, key->idlen, h, 2, &n);
    if (rv != CKR_OK)
        return tok_ckfail(key->ctx, rv, "Finding the private key");
    if (n != 1)
        return pe_failf(PE_E_KEY, "The private key %s is %s on token \"%s\".",
                        key->uri, n == 0 ? "no longer" : "not unique",
                        key->ctx->label);
    key->priv = h[0];
    key->pubh = CK_INVALID_HANDLE; /* of an older session: found again */
    key->generation = key->ctx->generation;
    *ph = h[0];
    return PE_OK;
}

/* Build a struct tok_key for the private key object h. */
/* ID, label, key type and always-authenticate of key->priv in one call;
 * anything but CKR_OK (a token without CKA_ALWAYS_AUTHENTICATE, a long
 * label): the caller reads them one by one. */
static CK_RV key_attrs_at_once(struct tok_ctx *ctx, struct tok_key *key,
                               unsigned char **plabel, size_t *pllen)
{
    unsigned char id[256], label[256];
    CK_KEY_TYPE kt = 0;
    CK_BBOOL aa = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_ID, id, sizeof(id)},
                        {CKA_LABEL, label, sizeof(label)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_ALWAYS_AUTHENTICATE, &aa, sizeof(aa)}};
    CK_RV rv;

    rv = ctx->fl->C_GetAttributeValue(ctx->sess, key->priv, t, 4);
    if (rv != CKR_OK || t[0].ulValueLen > sizeof(id) ||
        t[1].ulValueLen > sizeof(label))
        return rv != CKR_OK ? rv : CKR_BUFFER_TOO_SMALL;
    key->id = malloc(t[0].ulValueLen + 1);
    *plabel = malloc(t[1].ulValueLen + 1);
    if (key->id == NULL || *plabel == NULL) {
        free(key->id);
        free(*plabel);
        key->id = NULL;
        *plabel = NULL;
        return CKR_HOST_MEMORY;
    }
    memcpy(key->id, id, t[0].ulValueLen);
    key->idlen = t[0].ulValueLen;
    memcpy(*plabel, label, t[1].ulValueLen);
    *pllen = t[1].ulValueLen;
    key->ktype = kt;
    key->always_auth = aa == CK_TRUE;
    return CKR_OK;
}

enum pe_rc tok_key_new_handle(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                              struct tok_key **pkey)
{
    struct tok_key *key;
    unsigned char *label = NULL, *v = NULL;
    size_t llen = 0, vlen = 0;
    CK_RV rv;
    enum pe_rc rc = PE_E_NOMEM;

    key = calloc(1, sizeof(*key));
    if (key == NULL)
        return PE_E_NOMEM;
    key->ctx = ctx;
    key->priv = h;
    key->pubh = CK_INVALID_HANDLE;
    key->generation = ctx->generation;
    rv = key_attrs_at_once(ctx, key, &label, &llen);
    if (rv != CKR_OK) {
        rv = tok_attr_get(ctx, h, CKA_ID, &key->id, &key->idlen);
        if (rv == CKR_OK)
            rv = tok_attr_get(ctx, h, CKA_LABEL, &label, &llen);
        if (rv == CKR_OK)
            rv = tok_attr_ulong(ctx, h, CKA_KEY_TYPE, &key->ktype);
        if (rv != CKR_OK) {
            rc = tok_ckfail(ctx, rv, "Reading the key's attributes");
            goto out;
        }
        if (tok_attr_bool(ctx, h, CKA_ALWAYS_AUTHENTICATE, &key->always_auth) !=
            CKR_OK)
            key->always_auth = false;
    }
    key->label = calloc(1, llen + 1);
    if (key->label == NULL)
        goto out;
    if (llen > 0)
        memcpy(key->label, label, llen);
    if (key->ktype == CKK_RSA &&
        tok_attr_get(ctx, h, CKA_MODULUS, &v, &vlen) == CKR_OK) {
        key->bits = vlen * 8;
    } else if (key->ktype == CKK_EC &&
               tok_attr_get(ctx, h, CKA_EC_PARAMS, &v, &vlen) == CKR_OK) {
        const unsigned char *p = v;
        ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)vlen);
        int nid = oid != NULL ? OBJ_obj2nid(oid) : NID_undef;

        key->bits = nid == NID_X9_62_prime256v1 ? 256
                    : nid == NID_secp384r1      ? 384
                    : nid == NID_secp521r1      ? 521
                                                : 0;
        ASN1_OBJECT_free(oid);
    }
    key->uri = tok_format_object_uri(ctx, CKO_PRIVATE_KEY, key->id, key->idlen,
                                     key->label);
    if (key->uri == NULL)
        goto out;
    *pkey = key;
    key = NULL;
    rc = PE_OK;
out:
    free(label);
    free(v);
    tok_key_free(key);
    return rc;
}

void tok_key_free(struct tok_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pub);
    free(key->id);
    free(key->label);
    free(key->uri);
    free(key);
}

void tok_key_id(const struct tok_key *key, const unsigned char **pid,
                size_t *plen)
{
    *pid = key->id;
    *plen = key->idlen;
}

const char *tok_key_label(const struct tok_key *key)
{
    return key->label;
}

const char *tok_key_uri(const struct tok_key *key)
{
    return key->uri;
}

bool tok_key_always_auth(const struct tok_key *key)
{
    return key->always_auth;
}

enum pe_rc tok_key_type(const struct tok_key *key, enum tok_keytype *ptype)
{
    size_t i;

    for (i = 0; i < NKEYTYPES; i++) {
        if (keytypes[i].ktype == key->ktype && keytypes[i].bits == key->bits) {
            *ptype = keytypes[i].type;
            return PE_OK;
        }
    }
    return pe_failf(PE_E_KEY,
                    "The key %s is %s-%lu, not one of ec-p256, ec-p384, "
                    "rsa-3072, rsa-4096.",
                    key->uri, key->ktype == CKK_RSA ? "RSA" : "EC", key->bits);
}

/* ---- finding ------------------------------------------------------------- */

static enum pe_rc find_by_id_once(struct tok_ctx *ctx, const unsigned char *id,
                                  size_t idlen, struct tok_key **pkey)
{
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n;
    CK_RV rv;

    rv = find_priv(ctx, id, idlen, h, 2, &n);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_FindObjects (private key)");
    if (n == 0)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" has no private key with that ID (is "
                        "the PIN given? private keys are visible only "
                        "after login).",
                        ctx->label);
    if (n > 1)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" has several private keys with that "
                        "ID; name the key by object= in its URI.",
                        ctx->label);
    return tok_key_new_handle(ctx, h[0], pkey);
}

enum pe_rc tok_key_find_by_id(struct tok_ctx *ctx, const unsigned char *id,
                              size_t idlen, struct tok_key **pkey)
{
    enum pe_rc rc;

    *pkey = NULL;
    tok_op_begin(ctx);
    rc = find_by_id_once(ctx, id, idlen, pkey);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = find_by_id_once(ctx, id, idlen, pkey);
    return rc;
}

static enum pe_rc find_by_uri_once(struct tok_ctx *ctx, P11KitUri *uri,
                                   struct tok_key **pkey)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_ATTRIBUTE *a;
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n = 1, count;
    CK_RV rv;

    a = p11_kit_uri_get_attribute(uri, CKA_ID);
    if (a != NULL)
        t[n++] = *a;
    a = p11_kit_uri_get_attribute(uri, CKA_LABEL);
    if (a != NULL)
        t[n++] = *a;
    if (n == 1)
        return pe_failf(PE_E_USAGE, "The key URI names no id= or object=.");
    rv = tok_find(ctx, t, n, h, 2, &count);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_FindObjects (private key)");
    if (count != 1)
        return pe_failf(PE_E_KEY,
                        "%s private key on token \"%s\" matches "
                        "the key URI.",
                        count == 0 ? "No" : "More than one", ctx->label);
    return tok_key_new_handle(ctx, h[0], pkey);
}

enum pe_rc tok_key_find_by_uri(struct tok_ctx *ctx, const char *str,
                               struct tok_key **pkey)
{
    P11KitUri *uri = NULL;
    CK_ATTRIBUTE *a;
    enum pe_rc rc;

    *pkey = NULL;
    rc = tok_uri_parse(str, &uri);
    if (rc != PE_OK)
        return rc;
    if (!p11_kit_uri_match_token_info(uri, &ctx->tinfo)) {
        rc = pe_failf(PE_E_USAGE,
                      "The key URI names another token than "
                      "%s.",
                      ctx->token_uri);
        goto out;
    }
    a = p11_kit_uri_get_attribute(uri, CKA_CLASS);
    if (a != NULL && a->ulValueLen == sizeof(CK_OBJECT_CLASS) &&
        *(CK_OBJECT_CLASS *)a->pValue != CKO_PRIVATE_KEY) {
        rc = pe_failf(PE_E_USAGE, "The key URI must name type=private.");
        goto out;
    }
    tok_op_begin(ctx);
    rc = find_by_uri_once(ctx, uri, pkey);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = find_by_uri_once(ctx, uri, pkey);
out:
    p11_kit_uri_free(uri);
    return rc;
}

static enum pe_rc find_by_public_once(struct tok_ctx *ctx, EVP_PKEY *pub,
                                      struct tok_key **pkey)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE h[256];
    CK_ULONG n, i;
    struct tok_key *key = NULL;
    EVP_PKEY *cand = NULL;
    enum pe_rc rc;
    CK_RV rv;

    rv = tok_find(ctx, &t, 1, h, 256, &n);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_FindObjects (private keys)");
    for (i = 0; i < n; i++) {
        rc = tok_key_new_handle(ctx, h[i], &key);
        if (rc != PE_OK)
            return rc;
        if (tok_key_public_once(key, &cand) == PE_OK &&
            EVP_PKEY_eq(cand, pub) == 1) {
            EVP_PKEY_free(cand);
            *pkey = key;
            return PE_OK;
        }
        EVP_PKEY_free(cand);
        cand = NULL;
        tok_key_free(key);
        key = NULL;
        if (ctx->last_rv != CKR_OK && ckr_is_device_lost(ctx->last_rv))
            return PE_E_TOKEN;
    }
    return pe_failf(PE_E_KEY,
                    "No private key on token \"%s\" has this public key "
                    "(%lu private keys looked at).",
                    ctx->label, (unsigned long)n);
}

enum pe_rc tok_key_find_by_public(struct tok_ctx *ctx, EVP_PKEY *pub,
                                  struct tok_key **pkey)
{
    enum pe_rc rc;

    *pkey = NULL;
    tok_op_begin(ctx);
    rc = find_by_public_once(ctx, pub, pkey);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = find_by_public_once(ctx, pub, pkey);
    return rc;
}
