/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ykcs11_rules.c - the ykcs11 2.2.0 rules for login, key generation and
 * certificate writing, enforced on top of SoftHSM (see ykcs11.c for the
 * mapping).  Sources: Yubico/yubico-piv-tool tag yubico-piv-tool-2.2.0,
 * files ykcs11/ykcs11.c, ykcs11/token.c, ykcs11/mechanisms.c,
 * ykcs11/objects.c, ykcs11/openssl_utils.c; each check names its place.
 */
#include "ykcs11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define T mock_target
#define FAIL(rv_)                                                              \
    do {                                                                       \
        c->rv = (rv_);                                                         \
        c->note = "[ykcs11]";                                                  \
        goto out;                                                              \
    } while (0)

static const char default_mgm[] =
    "010203040506070801020304050607080102030405060708";

/* The PIV PIN, which is also the SoftHSM token's user PIN. */
static const char *piv_pin(void)
{
    return yk_env_or("P11E_MOCK_YKCS11_PIN", "123456");
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* 48 hex chars into 24 bytes (lib/util.c ykpiv_hex_decode). */
static bool hex24(const CK_UTF8CHAR *s, CK_ULONG len, unsigned char *out)
{
    if (len != YK_MGM_LEN)
        return false;
    for (size_t i = 0; i < 24; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* ykpiv_verify: the card's PIN check with its retry counter (3 tries,
 * CKR_PIN_LOCKED at 0; token.c token_login maps the errors).  The
 * SoftHSM login with the same PIN is done by the caller. */
static CK_RV verify_pin(struct yk_slot *ys, const CK_UTF8CHAR *pin,
                        CK_ULONG len)
{
    const char *want = piv_pin();

    yk_pin_tries = yk_load_pin_tries(); /* another process may have tried */
    if (yk_pin_tries == 0)
        return CKR_PIN_LOCKED;
    if (strlen(want) != len || CRYPTO_memcmp(want, pin, len) != 0) {
        yk_pin_tries--;
        yk_save_pin_tries();
        return yk_pin_tries == 0 ? CKR_PIN_LOCKED : CKR_PIN_INCORRECT;
    }
    yk_pin_tries = YK_RETRIES;
    yk_save_pin_tries();
    ys->pin_ok = true;
    return CKR_OK;
}

/* token.c token_login, tag 2.2.0: a 6..8 char "PIN" is verified as the
 * PIV PIN (for CKU_SO it then needs a PIN-protected management key, which
 * the mock never has: CKR_USER_PIN_NOT_INITIALIZED); otherwise only
 * CKU_SO with exactly 48 chars (hex 3DES key) is accepted, anything else
 * is CKR_ARGUMENTS_BAD; a wrong key is CKR_PIN_INCORRECT (ykpiv_
 * authenticate YKPIV_AUTHENTICATION_ERROR). */
static CK_RV token_login(struct yk_slot *ys, CK_USER_TYPE user,
                         const CK_UTF8CHAR *pin, CK_ULONG len)
{
    unsigned char key[24], want[24];
    const char *mgm = yk_env_or("P11E_MOCK_YKCS11_MGMKEY", default_mgm);
    CK_RV rv;

    if (pin != NULL && len >= YK_PIN_MIN && len <= YK_PIN_MAX) {
        rv = verify_pin(ys, pin, len);
        if (rv != CKR_OK || user != CKU_SO)
            return rv;
        return CKR_USER_PIN_NOT_INITIALIZED;
    }
    if (pin == NULL || len != YK_MGM_LEN || user != CKU_SO)
        return CKR_ARGUMENTS_BAD;
    if (!hex24(pin, len, key))
        return CKR_ARGUMENTS_BAD;
    if (!hex24((const CK_UTF8CHAR *)mgm, strlen(mgm), want)) {
        mock_warn("P11E_MOCK_YKCS11_MGMKEY is not 48 hex characters");
        return CKR_GENERAL_ERROR;
    }
    rv = CRYPTO_memcmp(key, want, 24) == 0 ? CKR_OK : CKR_PIN_INCORRECT;
    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

/* SoftHSM underneath: a user login with the PIV PIN. */
static CK_RV softhsm_login(CK_SESSION_HANDLE h, CK_USER_TYPE user)
{
    char pin[64];
    CK_RV rv;

    snprintf(pin, sizeof(pin), "%s", piv_pin());
    rv = T->C_Login(h, user, (CK_UTF8CHAR *)pin, strlen(pin));
    OPENSSL_cleanse(pin, sizeof(pin));
    if (rv == CKR_USER_ALREADY_LOGGED_IN)
        rv = CKR_OK;
    return rv;
}

bool yk_login(struct mock_call *c, CK_SESSION_HANDLE h, CK_USER_TYPE user,
              CK_UTF8CHAR *pin, CK_ULONG len)
{
    struct yk_session *s;
    struct yk_slot *ys;

    if (!yk_enabled())
        return false;
    pthread_mutex_lock(&yk_lock);
    /* ykcs11.c C_Login: only these three users */
    if (user != CKU_SO && user != CKU_USER && user != CKU_CONTEXT_SPECIFIC)
        FAIL(CKR_USER_TYPE_INVALID);
    if ((s = yk_find_session(h)) == NULL || (ys = yk_get_slot(s->slot)) == 0)
        FAIL(CKR_SESSION_HANDLE_INVALID);
    if (user == CKU_SO) {
        /* ykcs11.c C_Login case CKU_SO: "Tried to log-in SO to a USER
         * session", "...SO to a SO session", "...with existing RO
         * sessions" (any session of the slot, this one included) */
        if (ys->login == YK_USER)
            FAIL(CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
        if (ys->login == YK_SO)
            FAIL(CKR_USER_ALREADY_LOGGED_IN);
        for (size_t i = 0; i < YK_MAX_SESSIONS; i++)
            if (yk_sessions[i].used && yk_sessions[i].slot == s->slot &&
                !yk_sessions[i].rw)
                FAIL(CKR_SESSION_READ_ONLY_EXISTS);
        if ((c->rv = token_login(ys, CKU_SO, pin, len)) != CKR_OK)
            FAIL(c->rv);
        if ((c->rv = softhsm_login(h, CKU_USER)) == CKR_OK)
            ys->login = YK_SO;
        goto out;
    }
    /* ykcs11.c C_Login case CKU_CONTEXT_SPECIFIC: "No sign or decrypt
     * operation in progress. Context specific user is forbidden." */
    if (user == CKU_CONTEXT_SPECIFIC && s->op == 0)
        FAIL(CKR_USER_TYPE_INVALID);
    /* ykcs11.c C_Login case CKU_USER: "Tried to log-in USER to a USER
     * session" / "...to a SO session"; CONTEXT_SPECIFIC is allowed while
     * SO is logged in ("allowing creation of objects AND signing in one
     * session") */
    if (user == CKU_USER && ys->login == YK_USER)
        FAIL(CKR_USER_ALREADY_LOGGED_IN);
    if (user == CKU_USER && ys->login == YK_SO)
        FAIL(CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    if ((c->rv = token_login(ys, CKU_USER, pin, len)) != CKR_OK)
        FAIL(c->rv);
    if (user == CKU_USER) {
        c->rv = softhsm_login(h, CKU_USER);
    } else {
        /* SoftHSM wants this login only for CKA_ALWAYS_AUTHENTICATE
         * keys; ykcs11 accepts it for any key. */
        c->rv = softhsm_login(h, CKU_CONTEXT_SPECIFIC);
        if (c->rv == CKR_OPERATION_NOT_INITIALIZED)
            c->rv = CKR_OK;
    }
    if (c->rv == CKR_OK && ys->login == YK_PUBLIC)
        ys->login = YK_USER;
out:
    pthread_mutex_unlock(&yk_lock);
    return true;
}

bool yk_logout(struct mock_call *c, CK_SESSION_HANDLE h)
{
    struct yk_session *s;
    struct yk_slot *ys;

    if (!yk_enabled())
        return false;
    pthread_mutex_lock(&yk_lock);
    if ((s = yk_find_session(h)) == NULL || (ys = yk_get_slot(s->slot)) == 0)
        FAIL(CKR_SESSION_HANDLE_INVALID);
    /* ykcs11.c C_Logout */
    if (ys->login == YK_PUBLIC)
        FAIL(CKR_USER_NOT_LOGGED_IN);
    T->C_Logout(h);
    ys->login = YK_PUBLIC;
    ys->pin_ok = false;
out:
    pthread_mutex_unlock(&yk_lock);
    return true;
}

struct gen_info {
    bool rsa;
    int algorithm; /* 0 = none yet; else modulus bits or 256/384 */
    int key_id;
};

static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                               0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const CK_BYTE f4[] = {0x01, 0x00, 0x01};

/* mechanisms.c check_pubkey_template (tag 2.2.0): the public template
 * whitelist; RSA only 1024/2048 bits with e = 65537, EC only P-256 and
 * P-384 as DER OIDs. */
static CK_RV check_pubkey_template(struct gen_info *g, const CK_ATTRIBUTE *t,
                                   CK_ULONG n)
{
    CK_ULONG v;

    for (CK_ULONG i = 0; i < n; i++) {
        switch (t[i].type) {
        case CKA_CLASS:
            if (!yk_attr_ulong(&t[i], &v) || v != CKO_PUBLIC_KEY)
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case CKA_KEY_TYPE:
            if (!yk_attr_ulong(&t[i], &v) || v != (g->rsa ? CKK_RSA : CKK_EC))
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case CKA_PUBLIC_EXPONENT:
            if (!g->rsa)
                return CKR_TEMPLATE_INCONSISTENT;
            if (t[i].ulValueLen != 3 || t[i].pValue == NULL ||
                memcmp(t[i].pValue, f4, 3) != 0)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case CKA_MODULUS_BITS:
            if (!g->rsa)
                return CKR_TEMPLATE_INCONSISTENT;
            /* 3072/4096 need ykcs11 >= 2.5.0 and firmware >= 5.7 */
            if (!yk_attr_ulong(&t[i], &v) || (v != 1024 && v != 2048))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            g->algorithm = (int)v;
            break;
        case CKA_EC_PARAMS:
            if (g->rsa)
                return CKR_TEMPLATE_INCONSISTENT;
            if (t[i].ulValueLen == 10 && t[i].pValue != NULL &&
                memcmp(t[i].pValue, p256, 10) == 0)
                g->algorithm = 256;
            else if (t[i].ulValueLen == 7 && t[i].pValue != NULL &&
                     memcmp(t[i].pValue, p384, 7) == 0)
                g->algorithm = 384;
            else
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case CKA_ID:
            if (!yk_valid_id(yk_attr_id(&t[i])))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            g->key_id = yk_attr_id(&t[i]);
            break;
        case CKA_SENSITIVE:
        case CKA_TOKEN:
        case CKA_ENCRYPT:
        case CKA_VERIFY:
        case CKA_WRAP:
        case CKA_DERIVE:
        case CKA_PRIVATE:
        case CKA_LABEL:
        case CKA_SUBJECT:
            break; /* "Ignore these attributes for now" */
        default:
            return CKR_ATTRIBUTE_TYPE_INVALID;
        }
    }
    return CKR_OK;
}

/* mechanisms.c check_pvtkey_template (tag 2.2.0): the private template
 * whitelist; CKA_EXTRACTABLE, CKA_ALWAYS_AUTHENTICATE, CKA_MODIFIABLE
 * and everything else not listed are CKR_ATTRIBUTE_TYPE_INVALID. */
static CK_RV check_pvtkey_template(struct gen_info *g, const CK_ATTRIBUTE *t,
                                   CK_ULONG n)
{
    CK_ULONG v;

    for (CK_ULONG i = 0; i < n; i++) {
        switch (t[i].type) {
        case CKA_CLASS:
            if (!yk_attr_ulong(&t[i], &v) || v != CKO_PRIVATE_KEY)
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case CKA_KEY_TYPE:
            if (!yk_attr_ulong(&t[i], &v) || v != (g->rsa ? CKK_RSA : CKK_EC))
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case CKA_ID:
            if (!yk_valid_id(yk_attr_id(&t[i])))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            /* "Inconsistent CKA_ID" with the public template */
            if (g->key_id != 0 && g->key_id != yk_attr_id(&t[i]))
                return CKR_TEMPLATE_INCONSISTENT;
            g->key_id = yk_attr_id(&t[i]);
            break;
        case CKA_SENSITIVE:
        case CKA_DECRYPT:
        case CKA_UNWRAP:
        case CKA_SIGN:
        case CKA_PRIVATE:
        case CKA_TOKEN:
        case CKA_DERIVE:
        case CKA_LABEL:
        case CKA_SUBJECT:
            break;
        default:
            return CKR_ATTRIBUTE_TYPE_INVALID;
        }
    }
    return CKR_OK;
}

/* The SoftHSM key pair a YubiKey slot holds: token, private, sensitive,
 * never extractable, ykcs11's fixed labels (objects.c piv_objects), and
 * for 9c CKA_ALWAYS_AUTHENTICATE (objects.c pvtkey_objects, get_proa:
 * the table default, TRUE only for 9c). */
static CK_RV softhsm_generate(CK_SESSION_HANDLE h, const struct gen_info *g,
                              CK_OBJECT_HANDLE *ppub, CK_OBJECT_HANDLE *ppriv)
{
    CK_MECHANISM mech = {
        g->rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_BBOOL t = CK_TRUE, f = CK_FALSE, rsa = g->rsa ? CK_TRUE : CK_FALSE;
    CK_BBOOL ec = g->rsa ? CK_FALSE : CK_TRUE;
    CK_BBOOL always = g->key_id == 2 ? CK_TRUE : CK_FALSE;
    CK_ULONG bits = (CK_ULONG)g->algorithm;
    CK_BYTE id = (CK_BYTE)g->key_id, e[3];
    CK_BYTE params[10];
    char name[40], publabel[64], privlabel[64];
    CK_ATTRIBUTE pub[8] = {
        {CKA_ID, &id, 1},    {CKA_TOKEN, &t, 1},     {CKA_PRIVATE, &f, 1},
        {CKA_VERIFY, &t, 1}, {CKA_ENCRYPT, &rsa, 1}, {CKA_LABEL, publabel, 0},
    };
    CK_ATTRIBUTE priv[] = {
        {CKA_ID, &id, 1},
        {CKA_TOKEN, &t, 1},
        {CKA_PRIVATE, &t, 1},
        {CKA_SENSITIVE, &t, 1},
        {CKA_EXTRACTABLE, &f, 1},
        {CKA_SIGN, &t, 1},
        {CKA_DECRYPT, &rsa, 1},
        {CKA_DERIVE, &ec, 1},
        {CKA_ALWAYS_AUTHENTICATE, &always, 1},
        {CKA_LABEL, privlabel, 0},
    };
    CK_ULONG npub = 6;

    yk_slot_name(g->key_id, name, sizeof(name));
    pub[5].ulValueLen = (CK_ULONG)snprintf(publabel, sizeof(publabel),
                                           "Public key for %s", name);
    priv[9].ulValueLen = (CK_ULONG)snprintf(privlabel, sizeof(privlabel),
                                            "Private key for %s", name);
    if (g->rsa) {
        memcpy(e, f4, 3);
        pub[npub++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
        pub[npub] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, e, 3};
    } else {
        memcpy(params, g->algorithm == 256 ? p256 : p384,
               g->algorithm == 256 ? 10 : 7);
        pub[npub] =
            (CK_ATTRIBUTE){CKA_EC_PARAMS, params, g->algorithm == 256 ? 10 : 7};
    }
    npub++;
    return T->C_GenerateKeyPair(h, &mech, pub, npub, priv,
                                sizeof(priv) / sizeof(priv[0]), ppub, ppriv);
}

/* token.c token_generate_key (tag 2.2.0) writes a placeholder certificate
 * into the slot so the public key survives; then ykcs11.c
 * C_GenerateKeyPair makes the attestation. */
static void after_generate(CK_SESSION_HANDLE h, CK_SLOT_ID slot, int id,
                           CK_OBJECT_HANDLE pub)
{
    EVP_PKEY *pkey = NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    char name[40], label[64];
    CK_OBJECT_HANDLE obj;
    struct yk_slot *ys = yk_get_slot(slot);

    yk_slot_name(id, name, sizeof(name));
    snprintf(label, sizeof(label), "X.509 Certificate for %s", name);
    if (att_token_pubkey(h, pub, &pkey) != CKR_OK ||
        att_make_cert('p', yk_piv_slot(id), pkey, &der, &len) != CKR_OK ||
        yk_t_create_cert(h, der, len, id, label, true, &obj) != CKR_OK)
        mock_warn("ykcs11: cannot write the placeholder certificate");
    if (ys != NULL)
        yk_make_attestation(ys, h, id, pub);
    EVP_PKEY_free(pkey);
    OPENSSL_free(der);
}

bool yk_generate_key_pair(struct mock_call *c, CK_SESSION_HANDLE h,
                          CK_MECHANISM *mech, CK_ATTRIBUTE *pub, CK_ULONG npub,
                          CK_ATTRIBUTE *priv, CK_ULONG npriv,
                          CK_OBJECT_HANDLE *phpub, CK_OBJECT_HANDLE *phpriv)
{
    struct gen_info g = {false, 0, 0};
    struct yk_session *s;
    struct yk_slot *ys;

    if (!yk_enabled())
        return false;
    pthread_mutex_lock(&yk_lock);
    /* ykcs11.c C_GenerateKeyPair, in its order */
    if ((s = yk_find_session(h)) == NULL || (ys = yk_get_slot(s->slot)) == 0)
        FAIL(CKR_SESSION_HANDLE_INVALID);
    if (s->op != 0)
        FAIL(CKR_OPERATION_ACTIVE);
    if (mech == NULL || pub == NULL || priv == NULL || phpub == NULL ||
        phpriv == NULL)
        FAIL(CKR_ARGUMENTS_BAD);
    /* mechanisms.c check_generation_mechanism: generation_mechanisms[] */
    if (mech->mechanism != CKM_RSA_PKCS_KEY_PAIR_GEN &&
        mech->mechanism != CKM_EC_KEY_PAIR_GEN)
        FAIL(CKR_MECHANISM_INVALID);
    g.rsa = mech->mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN;
    if ((c->rv = check_pubkey_template(&g, pub, npub)) != CKR_OK)
        FAIL(c->rv);
    if ((c->rv = check_pvtkey_template(&g, priv, npriv)) != CKR_OK)
        FAIL(c->rv);
    /* "Key type or length not specified" / "Key id not specified" */
    if (g.algorithm == 0 || g.key_id == 0)
        FAIL(CKR_TEMPLATE_INCOMPLETE);
    /* "Authentication as SO required to generate keys" */
    if (ys->login != YK_SO)
        FAIL(CKR_USER_TYPE_INVALID);
    /* A slot holds one key: the new one replaces the old. */
    yk_t_destroy_id(h, CKO_PRIVATE_KEY, g.key_id);
    yk_t_destroy_id(h, CKO_PUBLIC_KEY, g.key_id);
    yk_t_destroy_id(h, CKO_CERTIFICATE, g.key_id);
    c->rv = softhsm_generate(h, &g, phpub, phpriv);
    if (c->rv == CKR_OK)
        after_generate(h, s->slot, g.key_id, *phpub);
out:
    pthread_mutex_unlock(&yk_lock);
    return true;
}

/* objects.c check_create_cert (tag 2.2.0): CKA_ID (a valid slot) and
 * CKA_VALUE required; only CLASS, ID, VALUE, TOKEN, LABEL, SUBJECT,
 * ISSUER, CERTIFICATE_TYPE, PRIVATE, SERIAL_NUMBER allowed (so no
 * CKA_CERTIFICATE_CATEGORY, CKA_TRUSTED, CKA_NAME_HASH_ALGORITHM...). */
static CK_RV check_create_cert(const CK_ATTRIBUTE *t, CK_ULONG n, int *pid,
                               const CK_ATTRIBUTE **pvalue)
{
    CK_ULONG v;

    *pid = 0;
    *pvalue = NULL;
    for (CK_ULONG i = 0; i < n; i++) {
        switch (t[i].type) {
        case CKA_CLASS:
            if (!yk_attr_ulong(&t[i], &v) || v != CKO_CERTIFICATE)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case CKA_ID:
            /* a CKA_ID of several bytes is read as its first byte */
            if (!yk_valid_id(yk_attr_id(&t[i])))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            *pid = yk_attr_id(&t[i]);
            break;
        case CKA_VALUE:
            *pvalue = &t[i];
            break;
        case CKA_TOKEN:
        case CKA_LABEL:
        case CKA_SUBJECT:
        case CKA_ISSUER:
        case CKA_CERTIFICATE_TYPE:
        case CKA_PRIVATE:
        case CKA_SERIAL_NUMBER:
            break;
        default:
            return CKR_ATTRIBUTE_TYPE_INVALID;
        }
    }
    return *pid == 0 || *pvalue == NULL ? CKR_TEMPLATE_INCOMPLETE : CKR_OK;
}

bool yk_create_object(struct mock_call *c, CK_SESSION_HANDLE h,
                      CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *ph)
{
    const CK_ATTRIBUTE *cls_attr, *value;
    CK_ULONG cls = CKO_VENDOR_DEFINED;
    struct yk_session *s;
    struct yk_slot *ys;
    char name[40], label[64];
    int id;

    if (!yk_enabled())
        return false;
    pthread_mutex_lock(&yk_lock);
    /* ykcs11.c C_CreateObject */
    if (tmpl == NULL || ph == NULL)
        FAIL(CKR_ARGUMENTS_BAD);
    if ((s = yk_find_session(h)) == NULL || (ys = yk_get_slot(s->slot)) == 0)
        FAIL(CKR_SESSION_HANDLE_INVALID);
    if ((cls_attr = yk_attr_find(tmpl, n, CKA_CLASS)) != NULL)
        yk_attr_ulong(cls_attr, &cls);
    if (cls == CKO_PRIVATE_KEY)
        FAIL(CKR_FUNCTION_NOT_SUPPORTED); /* key import: not emulated */
    if (cls != CKO_CERTIFICATE)
        FAIL(CKR_ATTRIBUTE_VALUE_INVALID); /* "Unknown object type" */
    if ((c->rv = check_create_cert(tmpl, n, &id, &value)) != CKR_OK)
        FAIL(c->rv);
    /* "Authentication as SO required to import objects" */
    if (ys->login != YK_SO)
        FAIL(CKR_USER_TYPE_INVALID);
    /* token.c token_import_cert: do_check_cert (must parse as X.509,
     * else CKR_FUNCTION_FAILED) and at most YKPIV_OBJ_MAX_SIZE bytes */
    if (value->pValue == NULL || value->ulValueLen > YK_OBJ_MAX)
        FAIL(CKR_FUNCTION_FAILED);
    yk_slot_name(id, name, sizeof(name));
    snprintf(label, sizeof(label), "X.509 Certificate for %s", name);
    {
        unsigned char *a = NULL, *b = NULL, *d = NULL;
        size_t al, bl, dl;
        if (att_cert_fields(value->pValue, value->ulValueLen, &a, &al, &b, &bl,
                            &d, &dl) != CKR_OK)
            FAIL(CKR_FUNCTION_FAILED);
        OPENSSL_free(a);
        OPENSSL_free(b);
        OPENSSL_free(d);
    }
    /* The slot has one certificate: the new one overwrites it. */
    yk_t_destroy_id(h, CKO_CERTIFICATE, id);
    c->rv = yk_t_create_cert(h, value->pValue, value->ulValueLen, id, label,
                             true, ph);
out:
    pthread_mutex_unlock(&yk_lock);
    return true;
}

bool yk_destroy_object(struct mock_call *c, CK_SESSION_HANDLE h,
                       CK_OBJECT_HANDLE obj)
{
    CK_BYTE idv[64];
    CK_ATTRIBUTE a = {CKA_ID, idv, sizeof(idv)};
    struct yk_session *s;
    struct yk_slot *ys;

    if (!yk_enabled())
        return false;
    pthread_mutex_lock(&yk_lock);
    /* ykcs11.c C_DestroyObject */
    if ((s = yk_find_session(h)) == NULL || (ys = yk_get_slot(s->slot)) == 0)
        FAIL(CKR_SESSION_HANDLE_INVALID);
    if (T->C_GetAttributeValue(h, obj, &a, 1) != CKR_OK || a.ulValueLen < 1 ||
        !yk_valid_id(idv[0]))
        FAIL(CKR_OBJECT_HANDLE_INVALID);
    /* "Authentication as SO required to delete objects" */
    if (ys->login != YK_SO)
        FAIL(CKR_USER_TYPE_INVALID);
    /* token_delete_cert: whichever object of the slot was named, the
     * slot's certificate goes; the key stays on the card. */
    yk_t_destroy_id(h, CKO_CERTIFICATE, idv[0]);
    c->rv = CKR_OK;
out:
    pthread_mutex_unlock(&yk_lock);
    return true;
}

bool yk_find_objects_init(struct mock_call *c, CK_SESSION_HANDLE h,
                          CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    (void)c, (void)tmpl, (void)n;
    if (yk_enabled()) {
        pthread_mutex_lock(&yk_lock);
        yk_refresh_session(h);
        pthread_mutex_unlock(&yk_lock);
    }
    return false; /* then forwarded */
}

bool yk_sign_init(struct mock_call *c, CK_SESSION_HANDLE h)
{
    struct yk_session *s;
    struct yk_slot *ys;

    if (!yk_enabled())
        return false;
    pthread_mutex_lock(&yk_lock);
    /* ykcs11.c C_SignInit: no login at all is CKR_USER_NOT_LOGGED_IN
     * (SO is enough here: "This allows signing when logged in as SO and
     * then doing a context-specific login to sign") */
    if ((s = yk_find_session(h)) != NULL &&
        (ys = yk_get_slot(s->slot)) != NULL && ys->login == YK_PUBLIC) {
        c->rv = CKR_USER_NOT_LOGGED_IN;
        c->note = "[ykcs11]";
        pthread_mutex_unlock(&yk_lock);
        return true;
    }
    pthread_mutex_unlock(&yk_lock);
    return false;
}

void yk_sign_done(struct mock_call *c, CK_SESSION_HANDLE h, bool final)
{
    struct yk_session *s;
    struct yk_slot *ys;

    if (!yk_enabled() || !final || c->rv != CKR_OK)
        return;
    pthread_mutex_lock(&yk_lock);
    /* mechanisms.c sign_mechanism_final -> ykpiv_sign_data: the card
     * refuses the key until the PIV PIN was verified (a management-key
     * login is not enough): YKPIV_AUTHENTICATION_ERROR ->
     * CKR_USER_NOT_LOGGED_IN, and the operation is over. */
    if ((s = yk_find_session(h)) != NULL &&
        (ys = yk_get_slot(s->slot)) != NULL && !ys->pin_ok) {
        c->rv = CKR_USER_NOT_LOGGED_IN;
        c->note = "[ykcs11]";
    }
    pthread_mutex_unlock(&yk_lock);
}

bool yk_unsupported(struct mock_call *c)
{
    if (!yk_enabled())
        return false;
    /* ykcs11.c C_CopyObject, C_SetAttributeValue: "TODO!!!" */
    c->rv = CKR_FUNCTION_NOT_SUPPORTED;
    c->note = "[ykcs11]";
    return true;
}
