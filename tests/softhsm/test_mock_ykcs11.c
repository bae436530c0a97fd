/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mock's ykcs11 2.2.0 personality (P11E_MOCK_YKCS11=1) on a SoftHSM
 * token whose user PIN is the PIV PIN 123456: each rule it enforces, and
 * the attestation chain it makes up to the test "Yubico PIV Root".
 */
#include <stdlib.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../mock/mock_client.h"
#include "fixture.h"
#include "harness.h"

#define YK_LABEL "yk"
#define YK_PIN   "123456"
#define YK_MGM   "010203040506070801020304050607080102030405060708"

static struct fx_softhsm fx;
static struct mc m;

static void setup(void)
{
    unsetenv("P11E_MOCK_FAIL");
    unsetenv("P11E_MOCK_TOKEN_FLAGS");
    fx_softhsm_begin(&fx);
    /* The ykcs11 test token: SoftHSM user PIN = PIV PIN. */
    if (fx_sh("softhsm2-util --init-token --free --label %s --so-pin %s "
              "--pin %s >/dev/null",
              YK_LABEL, FX_SO_PIN, YK_PIN) != 0)
        harness_fail(__FILE__, __LINE__, "init the ykcs11 token");
    setenv("P11E_MOCK_YKCS11", "1", 1);
    mc_load(&m);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
}

static void teardown(void)
{
    mc_unload(&m);
    fx_softhsm_end(&fx);
    unsetenv("P11E_MOCK_YKCS11");
}

__attribute__((constructor)) static void register_fixture(void)
{
    harness_set_fixture(setup, teardown);
}

static bool field_is(const CK_UTF8CHAR *field, size_t width, const char *s)
{
    size_t len = strlen(s);

    if (len > width || memcmp(field, s, len) != 0)
        return false;
    for (size_t i = len; i < width; i++)
        if (field[i] != ' ')
            return false;
    return true;
}

static CK_SESSION_HANDLE open_so(void)
{
    CK_SESSION_HANDLE h;

    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO, YK_MGM), CKR_OK);
    return h;
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
                         CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL v = 2;
    CK_ATTRIBUTE a = {type, &v, 1};

    MC_CHECK_RV(m.f->C_GetAttributeValue(h, o, &a, 1), CKR_OK);
    return v;
}

/* The value of attribute type (malloc'ed, NUL-terminated). */
static unsigned char *get_bytes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
                                CK_ATTRIBUTE_TYPE type, CK_ULONG *plen)
{
    CK_ATTRIBUTE a = {type, NULL, 0};

    MC_CHECK_RV(m.f->C_GetAttributeValue(h, o, &a, 1), CKR_OK);
    a.pValue = calloc(1, a.ulValueLen + 1);
    CHECK(a.pValue != NULL);
    MC_CHECK_RV(m.f->C_GetAttributeValue(h, o, &a, 1), CKR_OK);
    *plen = a.ulValueLen;
    return a.pValue;
}

/* The certificate object with CKA_ID id and CKA_TOKEN token. */
static CK_OBJECT_HANDLE find_cert(CK_SESSION_HANDLE h, CK_BYTE id,
                                  CK_BBOOL token)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, &id, 1},
                        {CKA_TOKEN, &token, 1}};

    return mc_find(&m, h, t, 3);
}

static long count_certs(CK_SESSION_HANDLE h, CK_BYTE id)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, &id, 1}, {CKA_TOKEN, &yes, 1}};

    return mc_count(&m, h, t, 3);
}

static X509 *cert_of(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
    CK_ULONG len;
    unsigned char *der = get_bytes(h, o, CKA_VALUE, &len);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);

    free(der);
    CHECK(x != NULL);
    return x;
}

TEST("/ykcs11/looks_like_ykcs11_2.2.0")
{
    CK_INFO info;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO ti;
    CK_MECHANISM_INFO mi;
    CK_MECHANISM_TYPE list[64];
    CK_ULONG n = 64;
    bool ec = false, ed = false;

    MC_CHECK_RV(m.f->C_GetInfo(&info), CKR_OK);
    CHECK(field_is(info.manufacturerID, 32, "Yubico (www.yubico.com)"));
    CHECK(field_is(info.libraryDescription, 32,
                   "PKCS#11 PIV Library (SP-800-73)"));
    CHECK_INT(info.libraryVersion.major, 2);
    CHECK_INT(info.libraryVersion.minor, 20);
    MC_CHECK_RV(mc_find_slot(&m, YK_LABEL, &slot), CKR_OK);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(field_is(ti.manufacturerID, 32, "Yubico (www.yubico.com)"));
    CHECK(field_is(ti.model, 16, "YubiKey YK5"));
    CHECK(field_is(ti.serialNumber, 16, "12345678"));
    CHECK_INT(ti.ulMinPinLen, 6);
    CHECK_INT(ti.firmwareVersion.major, 5);
    MC_CHECK_RV(m.f->C_GetMechanismList(slot, list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        ec = ec || list[i] == CKM_EC_KEY_PAIR_GEN;
        ed = ed || list[i] == CKM_EC_EDWARDS_KEY_PAIR_GEN;
    }
    CHECK(ec && !ed);
    MC_CHECK_RV(m.f->C_GetMechanismInfo(slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &mi),
                CKR_OK);
    CHECK_INT(mi.ulMaxKeySize, 2048);
    MC_CHECK_RV(m.f->C_GetMechanismInfo(slot, CKM_SHA512, &mi), CKR_OK);
    MC_CHECK_RV(m.f->C_GetMechanismInfo(slot, CKM_AES_CBC, &mi),
                CKR_MECHANISM_INVALID);
}

TEST("/ykcs11/so_login_takes_the_48_hex_management_key")
{
    CK_SESSION_HANDLE h;
    CK_SESSION_INFO si;
    char logpath[PATH_MAX + 16], *log;

    snprintf(logpath, sizeof(logpath), "%s/mock.log", fx.dir);
    setenv("P11E_MOCK_LOG", logpath, 1);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO, "0102030405060708"), CKR_ARGUMENTS_BAD);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO,
                         "x10203040506070801020304050607080"
                         "102030405060708"),
                CKR_ARGUMENTS_BAD);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO,
                         "010203040506070801020304050607080"
                         "102030405060709"),
                CKR_PIN_INCORRECT);
    /* A PIN as SO PIN: verified, then no PIN-protected key (#278). */
    MC_CHECK_RV(mc_login(&m, h, CKU_SO, YK_PIN), CKR_USER_PIN_NOT_INITIALIZED);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO, YK_MGM), CKR_OK);
    MC_CHECK_RV(m.f->C_GetSessionInfo(h, &si), CKR_OK);
    CHECK_INT(si.state, CKS_RW_SO_FUNCTIONS);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO, YK_MGM), CKR_USER_ALREADY_LOGGED_IN);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, YK_PIN),
                CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    MC_CHECK_RV(m.f->C_Logout(h), CKR_OK);
    MC_CHECK_RV(m.f->C_Logout(h), CKR_USER_NOT_LOGGED_IN);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, YK_PIN), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_SO, YK_MGM),
                CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    unsetenv("P11E_MOCK_LOG");
    log = mc_slurp(logpath);
    CHECK(log != NULL);
    CHECK_CONTAINS(log, "C_Login user=0 pin=*** CKR_OK\n");
    CHECK_CONTAINS(log, "C_Login user=0 pin=*** [ykcs11] CKR_PIN_INCORRECT\n");
    CHECK(strstr(log, "0102030405") == NULL);
    CHECK(strstr(log, "pin=" YK_PIN) == NULL);
    free(log);
}

TEST("/ykcs11/so_login_refused_while_a_read_only_session_exists")
{
    CK_SESSION_HANDLE ro, rw;

    MC_CHECK_RV(mc_open(&m, YK_LABEL, 0, &ro), CKR_OK);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &rw), CKR_OK);
    MC_CHECK_RV(mc_login(&m, rw, CKU_SO, YK_MGM), CKR_SESSION_READ_ONLY_EXISTS);
    MC_CHECK_RV(m.f->C_CloseSession(ro), CKR_OK);
    MC_CHECK_RV(mc_login(&m, rw, CKU_SO, YK_MGM), CKR_OK);
}

TEST("/ykcs11/pin_length_and_retry_counter")
{
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO ti;

    MC_CHECK_RV(mc_find_slot(&m, YK_LABEL, &slot), CKR_OK);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, "1234"), CKR_ARGUMENTS_BAD);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, "123457"), CKR_PIN_INCORRECT);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_USER_PIN_COUNT_LOW);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, "123457"), CKR_PIN_INCORRECT);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_USER_PIN_FINAL_TRY);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, YK_PIN), CKR_OK);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(!(ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY)));
    MC_CHECK_RV(m.f->C_Logout(h), CKR_OK);
    for (int i = 0; i < 2; i++)
        MC_CHECK_RV(mc_login(&m, h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, "000000"), CKR_PIN_LOCKED);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, YK_PIN), CKR_PIN_LOCKED);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_USER_PIN_LOCKED);
    /* the card keeps its counter: still locked in a new run */
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_USER_PIN_LOCKED);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, YK_PIN), CKR_PIN_LOCKED);
}

TEST("/ykcs11/keygen_needs_so")
{
    CK_SESSION_HANDLE h;
    CK_OBJECT_HANDLE pub, priv;

    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_gen_ec(&m, h, 2, &pub, &priv), CKR_USER_TYPE_INVALID);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, YK_PIN), CKR_OK);
    MC_CHECK_RV(mc_gen_ec(&m, h, 2, &pub, &priv), CKR_USER_TYPE_INVALID);
}

/* C_GenerateKeyPair with a public template of np attributes and a
 * private one of nv, both starting with CKA_ID id; extra appended. */
static CK_RV gen(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE mt, CK_ATTRIBUTE *pub,
                 CK_ULONG np, CK_ATTRIBUTE *priv, CK_ULONG nv)
{
    CK_MECHANISM mech = {mt, NULL, 0};
    CK_OBJECT_HANDLE a, b;

    return m.f->C_GenerateKeyPair(h, &mech, pub, np, priv, nv, &a, &b);
}

TEST("/ykcs11/keygen_template_rules")
{
    CK_SESSION_HANDLE h = open_so();
    CK_BYTE id2 = 2, id3 = 3, id0 = 0, id26 = 26;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG b3072 = 3072, b4096 = 4096, b2048 = 2048;
    CK_BYTE p256[10], p384[7];
    static const CK_BYTE p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
    CK_BYTE p521v[7];
    CK_ATTRIBUTE pub[3], priv[3];

    memcpy(p256, mc_p256, 10);
    memcpy(p384, mc_p384, 7);
    memcpy(p521v, p521, 7);
    pub[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, p256, 10};
    priv[0] = (CK_ATTRIBUTE){CKA_SIGN, &yes, 1};
    /* no CKA_ID anywhere */
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 1, priv, 1),
                CKR_TEMPLATE_INCOMPLETE);
    pub[1] = (CK_ATTRIBUTE){CKA_ID, &id0, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 1),
                CKR_ATTRIBUTE_VALUE_INVALID);
    pub[1] = (CK_ATTRIBUTE){CKA_ID, &id26, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 1),
                CKR_ATTRIBUTE_VALUE_INVALID);
    pub[1] = (CK_ATTRIBUTE){CKA_ID, &id2, 1};
    priv[1] = (CK_ATTRIBUTE){CKA_ID, &id3, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 2),
                CKR_TEMPLATE_INCONSISTENT);
    /* not on the 2.2.0 private whitelist */
    priv[1] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 2),
                CKR_ATTRIBUTE_TYPE_INVALID);
    priv[1] = (CK_ATTRIBUTE){CKA_ALWAYS_AUTHENTICATE, &yes, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 2),
                CKR_ATTRIBUTE_TYPE_INVALID);
    priv[1] = (CK_ATTRIBUTE){CKA_MODIFIABLE, &no, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 2),
                CKR_ATTRIBUTE_TYPE_INVALID);
    pub[2] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, 1};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 3, priv, 1),
                CKR_ATTRIBUTE_TYPE_INVALID);
    /* curves and sizes */
    pub[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, p521v, 7};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 1),
                CKR_ATTRIBUTE_VALUE_INVALID);
    pub[0] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &b3072, sizeof(CK_ULONG)};
    MC_CHECK_RV(gen(h, CKM_RSA_PKCS_KEY_PAIR_GEN, pub, 2, priv, 1),
                CKR_ATTRIBUTE_VALUE_INVALID);
    pub[0] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &b4096, sizeof(CK_ULONG)};
    MC_CHECK_RV(gen(h, CKM_RSA_PKCS_KEY_PAIR_GEN, pub, 2, priv, 1),
                CKR_ATTRIBUTE_VALUE_INVALID);
    MC_CHECK_RV(gen(h, CKM_EC_EDWARDS_KEY_PAIR_GEN, pub, 2, priv, 1),
                CKR_MECHANISM_INVALID);
    /* what it takes */
    pub[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, p384, 7};
    MC_CHECK_RV(gen(h, CKM_EC_KEY_PAIR_GEN, pub, 2, priv, 1), CKR_OK);
    pub[0] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &b2048, sizeof(CK_ULONG)};
    pub[1] = (CK_ATTRIBUTE){CKA_ID, &id3, 1};
    MC_CHECK_RV(gen(h, CKM_RSA_PKCS_KEY_PAIR_GEN, pub, 2, priv, 1), CKR_OK);
}

/* ECDSA r||s of digest by key, checked with OpenSSL against cert's key. */
static bool verifies_with(X509 *cert, const CK_BYTE *rs, CK_ULONG len,
                          const CK_BYTE *digest)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(cert), NULL);
    int dlen, ok = 0;

    ECDSA_SIG_set0(sig, BN_bin2bn(rs, (int)len / 2, NULL),
                   BN_bin2bn(rs + len / 2, (int)len / 2, NULL));
    dlen = i2d_ECDSA_SIG(sig, &der);
    if (ctx != NULL && dlen > 0 && EVP_PKEY_verify_init(ctx) == 1)
        ok = EVP_PKEY_verify(ctx, der, (size_t)dlen, digest, 32);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1;
}

static bool has_ext(X509 *cert, const char *oid, const unsigned char *want,
                    int len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    int i = X509_get_ext_by_OBJ(cert, obj, -1);
    ASN1_OCTET_STRING *v;

    ASN1_OBJECT_free(obj);
    if (i < 0)
        return false;
    v = X509_EXTENSION_get_data(X509_get_ext(cert, i));
    return want == NULL || (ASN1_STRING_length(v) == len &&
                            memcmp(ASN1_STRING_get0_data(v), want, len) == 0);
}

TEST("/ykcs11/keygen_makes_slot_objects_and_an_attestation_chain")
{
    CK_SESSION_HANDLE h = open_so();
    CK_OBJECT_HANDLE pub, priv, att, f9, ph;
    CK_ULONG len;
    char *label, path[PATH_MAX + 32];
    X509 *acert = NULL, *f9cert = NULL, *root = NULL;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    static const unsigned char fw[3] = {5, 4, 3};
    CK_BYTE sig[96], digest[32];
    FILE *fp;

    MC_CHECK_RV(mc_gen_ec(&m, h, 2, &pub, &priv), CKR_OK);
    label = (char *)get_bytes(h, priv, CKA_LABEL, &len);
    CHECK_STR(label, "Private key for Digital Signature");
    free(label);
    CHECK_INT(get_bool(h, priv, CKA_ALWAYS_AUTHENTICATE), CK_TRUE);
    CHECK_INT(get_bool(h, priv, CKA_EXTRACTABLE), CK_FALSE);
    CHECK_INT(get_bool(h, priv, CKA_SENSITIVE), CK_TRUE);
    CHECK_INT(get_bool(h, priv, CKA_TOKEN), CK_TRUE);
    /* the placeholder certificate in slot 9c */
    ph = find_cert(h, 2, CK_TRUE);
    CHECK(ph != CK_INVALID_HANDLE);
    CHECK_INT(count_certs(h, 2), 1);
    /* the attestation: a session object with the key's id, and f9 */
    att = find_cert(h, 2, CK_FALSE);
    CHECK(att != CK_INVALID_HANDLE);
    label = (char *)get_bytes(h, att, CKA_LABEL, &len);
    CHECK_STR(label, "X.509 Certificate for PIV Attestation 9c");
    free(label);
    f9 = find_cert(h, 25, CK_TRUE);
    CHECK(f9 != CK_INVALID_HANDLE);
    label = (char *)get_bytes(h, f9, CKA_LABEL, &len);
    CHECK_STR(label, "X.509 Certificate for PIV Attestation");
    free(label);
    acert = cert_of(h, att);
    f9cert = cert_of(h, f9);
    CHECK(has_ext(acert, "1.3.6.1.4.1.41482.3.3", fw, 3));
    CHECK(has_ext(acert, "1.3.6.1.4.1.41482.3.7", NULL, 0));
    /* attestation -> f9 -> the root the mock keeps next to the token */
    snprintf(path, sizeof(path), "%s/ykcs11-ca/root.pem", fx.dir);
    fp = fopen(path, "r");
    CHECK(fp != NULL);
    root = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    CHECK(root != NULL);
    X509_STORE_add_cert(store, root);
    sk_X509_push(chain, f9cert);
    CHECK(X509_STORE_CTX_init(vctx, store, acert, chain) == 1);
    CHECK_INT(X509_verify_cert(vctx), 1);
    /* the attested key is the new key: it verifies the key's signature
     * (9c: the PIN again after C_SignInit, even with SO logged in) */
    len = sizeof(sig);
    MC_CHECK_RV(mc_sign(&m, h, priv, sig, &len), CKR_USER_NOT_LOGGED_IN);
    {
        CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
        memset(digest, 0x5a, sizeof(digest));
        MC_CHECK_RV(m.f->C_SignInit(h, &mech, priv), CKR_OK);
        MC_CHECK_RV(mc_login(&m, h, CKU_CONTEXT_SPECIFIC, "654321"),
                    CKR_PIN_INCORRECT);
        MC_CHECK_RV(mc_login(&m, h, CKU_CONTEXT_SPECIFIC, YK_PIN), CKR_OK);
        len = sizeof(sig);
        MC_CHECK_RV(m.f->C_Sign(h, digest, 32, sig, &len), CKR_OK);
    }
    CHECK(verifies_with(acert, sig, len, digest));
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
    sk_X509_free(chain);
    X509_free(acert);
    X509_free(f9cert);
    X509_free(root);
}

TEST("/ykcs11/sign_needs_the_pin_not_just_the_management_key")
{
    CK_SESSION_HANDLE h = open_so();
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    CK_BYTE sig[96], digest[32];
    CK_ULONG len = sizeof(sig);

    memset(digest, 1, sizeof(digest));
    MC_CHECK_RV(mc_gen_ec(&m, h, 1, &pub, &priv), CKR_OK); /* 9a */
    CHECK_INT(get_bool(h, priv, CKA_ALWAYS_AUTHENTICATE), CK_FALSE);
    /* CONTEXT_SPECIFIC only while signing */
    MC_CHECK_RV(mc_login(&m, h, CKU_CONTEXT_SPECIFIC, YK_PIN),
                CKR_USER_TYPE_INVALID);
    MC_CHECK_RV(mc_sign(&m, h, priv, sig, &len), CKR_USER_NOT_LOGGED_IN);
    MC_CHECK_RV(m.f->C_SignInit(h, &mech, priv), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_CONTEXT_SPECIFIC, YK_PIN), CKR_OK);
    len = sizeof(sig);
    MC_CHECK_RV(m.f->C_Sign(h, digest, 32, sig, &len), CKR_OK);
    /* PIN policy "once" for 9a: the next signature needs no PIN */
    len = sizeof(sig);
    MC_CHECK_RV(mc_sign(&m, h, priv, sig, &len), CKR_OK);
}

TEST("/ykcs11/certificate_write_rules")
{
    CK_SESSION_HANDLE h = open_so(), hu;
    CK_OBJECT_HANDLE pub, priv, ph, obj;
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE, data = CKO_DATA;
    CK_ULONG len, cat = 2;
    CK_BBOOL yes = CK_TRUE;
    CK_BYTE id2 = 2, id26 = 26, garbage[16];
    CK_BYTE longid[20];
    unsigned char *der;
    char *label;
    CK_ATTRIBUTE t[4];

    MC_CHECK_RV(mc_gen_ec(&m, h, 2, &pub, &priv), CKR_OK);
    ph = find_cert(h, 2, CK_TRUE);
    der = get_bytes(h, ph, CKA_VALUE, &len);
    t[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    t[1] = (CK_ATTRIBUTE){CKA_VALUE, der, len};
    t[2] = (CK_ATTRIBUTE){CKA_ID, &id2, 1};
    /* no slot for a chain certificate with an id of its own */
    memset(longid, 0x3a, sizeof(longid));
    t[2] = (CK_ATTRIBUTE){CKA_ID, longid, sizeof(longid)};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 3, &obj),
                CKR_ATTRIBUTE_VALUE_INVALID);
    t[2] = (CK_ATTRIBUTE){CKA_ID, &id26, 1};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 3, &obj),
                CKR_ATTRIBUTE_VALUE_INVALID);
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 2, &obj), CKR_TEMPLATE_INCOMPLETE);
    t[2] = (CK_ATTRIBUTE){CKA_ID, &id2, 1};
    t[3] = (CK_ATTRIBUTE){CKA_CERTIFICATE_CATEGORY, &cat, sizeof(cat)};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 4, &obj), CKR_ATTRIBUTE_TYPE_INVALID);
    t[3] = (CK_ATTRIBUTE){CKA_TRUSTED, &yes, 1};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 4, &obj), CKR_ATTRIBUTE_TYPE_INVALID);
    memset(garbage, 0x30, sizeof(garbage));
    t[1] = (CK_ATTRIBUTE){CKA_VALUE, garbage, sizeof(garbage)};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 3, &obj), CKR_FUNCTION_FAILED);
    t[0] = (CK_ATTRIBUTE){CKA_CLASS, &data, sizeof(data)};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 3, &obj),
                CKR_ATTRIBUTE_VALUE_INVALID);
    /* the write overwrites the slot's certificate, fixed label */
    t[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    t[1] = (CK_ATTRIBUTE){CKA_VALUE, der, len};
    MC_CHECK_RV(m.f->C_CreateObject(h, t, 3, &obj), CKR_OK);
    CHECK_INT(count_certs(h, 2), 1);
    label = (char *)get_bytes(h, obj, CKA_LABEL, &len);
    CHECK_STR(label, "X.509 Certificate for Digital Signature");
    free(label);
    /* needs SO */
    MC_CHECK_RV(m.f->C_Logout(h), CKR_OK);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &hu), CKR_OK);
    MC_CHECK_RV(mc_login(&m, hu, CKU_USER, YK_PIN), CKR_OK);
    MC_CHECK_RV(m.f->C_CreateObject(hu, t, 3, &obj), CKR_USER_TYPE_INVALID);
    MC_CHECK_RV(m.f->C_DestroyObject(hu, obj), CKR_USER_TYPE_INVALID);
    free(der);
}

TEST("/ykcs11/destroy_removes_the_slot_certificate_only")
{
    CK_SESSION_HANDLE h = open_so();
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE none[1];

    MC_CHECK_RV(mc_gen_ec(&m, h, 3, &pub, &priv), CKR_OK);
    CHECK_INT(count_certs(h, 3), 1);
    MC_CHECK_RV(m.f->C_DestroyObject(h, priv), CKR_OK);
    CHECK_INT(count_certs(h, 3), 0);
    /* the key stays on the card */
    CHECK_INT(get_bool(h, priv, CKA_SIGN), CK_TRUE);
    MC_CHECK_RV(m.f->C_CopyObject(h, pub, none, 0, &priv),
                CKR_FUNCTION_NOT_SUPPORTED);
}

TEST("/ykcs11/attestation_is_there_in_a_later_session")
{
    CK_SESSION_HANDLE h = open_so(), h2;
    CK_OBJECT_HANDLE pub, priv;

    MC_CHECK_RV(mc_gen_ec(&m, h, 2, &pub, &priv), CKR_OK);
    MC_CHECK_RV(m.f->C_CloseSession(h), CKR_OK);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 1, &h2), CKR_OK);
    CHECK(find_cert(h2, 2, CK_FALSE) != CK_INVALID_HANDLE);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, YK_LABEL, 0, &h2), CKR_OK);
    CHECK(find_cert(h2, 2, CK_FALSE) != CK_INVALID_HANDLE);
    CHECK(find_cert(h2, 25, CK_TRUE) != CK_INVALID_HANDLE);
}
