/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest.c - the certificates ykcs11 makes by itself, for the ykcs11
 * personality: the per-slot attestation certificate signed by the f9
 * intermediate, which a test "Yubico PIV Root CA" signed, and the
 * placeholder certificate written into a slot at key generation.
 *
 * The test manufacturer CA lives in att_ca_dir() (root.pem, root.key,
 * f9.pem, f9.key, all EC P-256), made on first use and kept, so a test
 * can read root.pem to verify an attestation chain.  Several processes may
 * race to make it: each builds it in a private directory and renames it
 * into place; the losers use the winner's.
 *
 * Attestation layout from Yubico's PIV attestation doc
 * (developers.yubico.com/PIV/Introduction/PIV_attestation.html) and
 * docs/tokens.md: subject "CN=YubiKey PIV
 * Attestation 9c", issuer the f9 certificate, extensions
 * 1.3.6.1.4.1.41482.3.3 firmware (3 bytes), .3.7 serial (INTEGER),
 * .3.8 PIN and touch policy (2 bytes), .3.9 form factor (1 byte).
 */
#include "mock.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define ROOT_CN "Yubico PIV Root CA (p11e-mock test)"
#define F9_CN   "Yubico PIV Attestation (p11e-mock test)"
#define YK_OID  "1.3.6.1.4.1.41482.3."

static pthread_mutex_t att_lock = PTHREAD_MUTEX_INITIALIZER;
static char loaded_dir[PATH_MAX]; /* the CA below came from here */
static X509 *f9_cert;
static EVP_PKEY *f9_key;

const char *att_ca_dir(void)
{
    static __thread char dir[PATH_MAX];
    const char *env = getenv("P11E_MOCK_YKCS11_DIR");
    const char *conf = getenv("SOFTHSM2_CONF");
    const char *tmp = getenv("TMPDIR");
    const char *slash;

    if (env != NULL && env[0] != '\0')
        snprintf(dir, sizeof(dir), "%s", env);
    else if (conf != NULL && (slash = strrchr(conf, '/')) != NULL)
        snprintf(dir, sizeof(dir), "%.*s/ykcs11-ca", (int)(slash - conf), conf);
    else
        snprintf(dir, sizeof(dir), "%s/p11e-mock-ykcs11-ca",
                 tmp ? tmp : "/tmp");
    return dir;
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return false;
    ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A YubiKey extension 1.3.6.1.4.1.41482.3.<arc> with raw value bytes. */
static bool add_yk_ext(X509 *cert, int arc, const unsigned char *v, int len)
{
    char oid[64];
    ASN1_OBJECT *obj;
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    bool ok = false;

    snprintf(oid, sizeof(oid), YK_OID "%d", arc);
    obj = OBJ_txt2obj(oid, 1);
    if (obj == NULL || os == NULL || !ASN1_OCTET_STRING_set(os, v, len))
        goto out;
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
out:
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ok;
}

static bool set_random_serial(X509 *cert)
{
    BIGNUM *bn = BN_new();
    bool ok = bn != NULL &&
              BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;

    BN_free(bn);
    return ok;
}

/* An unsigned certificate "CN=cn" for pub (issuer NULL: self-issued). */
static X509 *new_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, bool ca)
{
    X509 *cert = X509_new();
    X509_NAME *name;

    if (cert == NULL || !X509_set_version(cert, 2) || !set_random_serial(cert))
        goto fail;
    name = X509_get_subject_name(cert);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0))
        goto fail;
    if (!X509_set_issuer_name(cert,
                              issuer ? X509_get_subject_name(issuer) : name) ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -86400) == NULL ||
        !ASN1_TIME_set_string(X509_getm_notAfter(cert), "99991231235959Z") ||
        !X509_set_pubkey(cert, pub))
        goto fail;
    if (ca &&
        (!add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE") ||
         !add_ext(cert, issuer, NID_key_usage,
                  "critical,keyCertSign,cRLSign") ||
         !add_ext(cert, issuer, NID_subject_key_identifier, "hash")))
        goto fail;
    return cert;
fail:
    X509_free(cert);
    return NULL;
}

static bool write_pem(const char *dir, const char *name, X509 *cert,
                      EVP_PKEY *key)
{
    char path[PATH_MAX + 16];
    FILE *fp;
    bool ok;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return false;
    fp = fopen(path, "w");
    if (fp == NULL)
        return false;
    ok = cert ? PEM_write_X509(fp, cert) == 1
              : PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
    return fclose(fp) == 0 && ok;
}

/* Make the CA in a private directory next to dir and rename it there. */
static bool make_ca(const char *dir)
{
    char tmp[PATH_MAX + 16];
    EVP_PKEY *rkey = EVP_EC_gen("P-256"), *fkey = EVP_EC_gen("P-256");
    X509 *root = NULL, *f9 = NULL;
    bool ok = false;

    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dir);
    if (rkey == NULL || fkey == NULL || mkdtemp(tmp) == NULL)
        goto out;
    root = new_cert(ROOT_CN, rkey, NULL, true);
    if (root == NULL || !X509_sign(root, rkey, EVP_sha256()))
        goto out;
    f9 = new_cert(F9_CN, fkey, root, true);
    if (f9 == NULL || !X509_sign(f9, rkey, EVP_sha256()))
        goto out;
    if (!write_pem(tmp, "root.pem", root, NULL) ||
        !write_pem(tmp, "root.key", NULL, rkey) ||
        !write_pem(tmp, "f9.pem", f9, NULL) ||
        !write_pem(tmp, "f9.key", NULL, fkey))
        goto out;
    if (rename(tmp, dir) != 0 && errno != EEXIST && errno != ENOTEMPTY)
        goto out;
    ok = true;
out:
    if (access(tmp, F_OK) == 0) {
        char path[PATH_MAX + 32];
        static const char *const files[] = {"root.pem", "root.key", "f9.pem",
                                            "f9.key"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(path, sizeof(path), "%s/%s", tmp, files[i]);
            unlink(path);
        }
        rmdir(tmp);
    }
    X509_free(root);
    X509_free(f9);
    EVP_PKEY_free(rkey);
    EVP_PKEY_free(fkey);
    return ok;
}

/* Called with att_lock held: f9_cert and f9_key for the current dir. */
static bool load_ca(void)
{
    const char *dir = att_ca_dir();
    char path[PATH_MAX + 16];
    FILE *fp;

    if (f9_cert != NULL && strcmp(dir, loaded_dir) == 0)
        return true;
    X509_free(f9_cert);
    EVP_PKEY_free(f9_key);
    f9_cert = NULL;
    f9_key = NULL;
    snprintf(path, sizeof(path), "%s/f9.key", dir);
    if (access(path, R_OK) != 0 && !make_ca(dir)) {
        mock_warn("cannot make the test manufacturer CA in %s", dir);
        return false;
    }
    if ((fp = fopen(path, "r")) != NULL) {
        f9_key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
        fclose(fp);
    }
    snprintf(path, sizeof(path), "%s/f9.pem", dir);
    if ((fp = fopen(path, "r")) != NULL) {
        f9_cert = PEM_read_X509(fp, NULL, NULL, NULL);
        fclose(fp);
    }
    if (f9_cert == NULL || f9_key == NULL) {
        mock_warn("cannot read the test manufacturer CA in %s", dir);
        return false;
    }
    snprintf(loaded_dir, sizeof(loaded_dir), "%s", dir);
    return true;
}

static CK_RV to_der(X509 *cert, unsigned char **pder, size_t *plen)
{
    int len;

    *pder = NULL;
    len = i2d_X509(cert, pder);
    if (len <= 0)
        return CKR_FUNCTION_FAILED;
    *plen = (size_t)len;
    return CKR_OK;
}

CK_RV att_f9_cert(unsigned char **pder, size_t *plen)
{
    CK_RV rv = CKR_FUNCTION_FAILED;

    pthread_mutex_lock(&att_lock);
    if (load_ca())
        rv = to_der(f9_cert, pder, plen);
    pthread_mutex_unlock(&att_lock);
    return rv;
}

/* The attestation extensions of a YubiKey 5 with firmware 5.4.3, the
 * serial from P11E_MOCK_YKCS11_SERIAL and default slot policies. */
static bool add_attestation_exts(X509 *cert, int piv_slot)
{
    static const unsigned char fw[3] = {5, 4, 3};
    const char *s = getenv("P11E_MOCK_YKCS11_SERIAL");
    unsigned char serial[8], *p = serial;
    /* PIN policy 3 = always for 9c, 2 = once otherwise; touch 1 = never */
    unsigned char policy[2] = {piv_slot == 0x9c ? 3 : 2, 1};
    unsigned char form = 0x01; /* USB-A keychain */
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    int len;
    bool ok;

    ok = num != NULL &&
         ASN1_INTEGER_set_int64(num, s ? strtoll(s, NULL, 10) : 12345678);
    len = ok ? i2d_ASN1_INTEGER(num, NULL) : 0;
    ok = ok && len > 0 && len <= (int)sizeof(serial) &&
         i2d_ASN1_INTEGER(num, &p) == len;
    ASN1_INTEGER_free(num);
    return ok && add_yk_ext(cert, 3, fw, 3) &&
           add_yk_ext(cert, 7, serial, len) && add_yk_ext(cert, 8, policy, 2) &&
           add_yk_ext(cert, 9, &form, 1);
}

CK_RV att_make_cert(int kind, int piv_slot, EVP_PKEY *pub, unsigned char **pder,
                    size_t *plen)
{
    char cn[64];
    X509 *cert = NULL;
    EVP_PKEY *throwaway = NULL;
    CK_RV rv = CKR_FUNCTION_FAILED;

    pthread_mutex_lock(&att_lock);
    if (kind == 'a') {
        /* Signed by the f9 key, like the card's ykpiv_attest. */
        snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %02x", piv_slot);
        if (!load_ca())
            goto out;
        cert = new_cert(cn, pub, f9_cert, false);
        if (cert == NULL || !add_attestation_exts(cert, piv_slot) ||
            !X509_sign(cert, f9_key, EVP_sha256()))
            goto out;
    } else {
        /* ykcs11/openssl_utils.c do_sign_empty_cert (tag 2.2.0): CN
         * "YubiKey PIV Slot 9c" as subject and issuer, serial 0,
         * notBefore = notAfter = now, SHA-1 by a throw-away P-256 key. */
        snprintf(cn, sizeof(cn), "YubiKey PIV Slot %x", piv_slot);
        throwaway = EVP_EC_gen("P-256");
        cert = X509_new();
        if (throwaway == NULL || cert == NULL || !X509_set_version(cert, 2) ||
            !X509_NAME_add_entry_by_txt(X509_get_issuer_name(cert), "CN",
                                        MBSTRING_ASC, (const unsigned char *)cn,
                                        -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN",
                                        MBSTRING_ASC, (const unsigned char *)cn,
                                        -1, -1, 0) ||
            !ASN1_INTEGER_set(X509_get_serialNumber(cert), 0) ||
            X509_gmtime_adj(X509_getm_notBefore(cert), 0) == NULL ||
            X509_gmtime_adj(X509_getm_notAfter(cert), 0) == NULL ||
            !X509_set_pubkey(cert, pub))
            goto out;
        if (!X509_sign(cert, throwaway, EVP_sha1()) &&
            !X509_sign(cert, throwaway, EVP_sha256()))
            goto out;
    }
    rv = to_der(cert, pder, plen);
out:
    pthread_mutex_unlock(&att_lock);
    if (rv != CKR_OK)
        ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(throwaway);
    return rv;
}

CK_RV att_cert_fields(const unsigned char *der, size_t len,
                      unsigned char **psubj, size_t *psubj_len,
                      unsigned char **pissuer, size_t *pissuer_len,
                      unsigned char **pserial, size_t *pserial_len)
{
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    int a, b, c;

    *psubj = *pissuer = *pserial = NULL;
    if (cert == NULL) {
        ERR_clear_error();
        return CKR_FUNCTION_FAILED;
    }
    a = i2d_X509_NAME(X509_get_subject_name(cert), psubj);
    b = i2d_X509_NAME(X509_get_issuer_name(cert), pissuer);
    c = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), pserial);
    X509_free(cert);
    if (a <= 0 || b <= 0 || c <= 0) {
        OPENSSL_free(*psubj);
        OPENSSL_free(*pissuer);
        OPENSSL_free(*pserial);
        *psubj = *pissuer = *pserial = NULL;
        return CKR_FUNCTION_FAILED;
    }
    *psubj_len = (size_t)a;
    *pissuer_len = (size_t)b;
    *pserial_len = (size_t)c;
    return CKR_OK;
}

/* Attribute type of obj, OPENSSL_malloc'ed, through the real module. */
static unsigned char *get_attr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
                               CK_ATTRIBUTE_TYPE type, size_t *plen)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    unsigned char *buf;

    if (mock_target->C_GetAttributeValue(h, obj, &a, 1) != CKR_OK ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 4096)
        return NULL;
    buf = OPENSSL_malloc(a.ulValueLen + 1);
    if (buf == NULL)
        return NULL;
    a.pValue = buf;
    if (mock_target->C_GetAttributeValue(h, obj, &a, 1) != CKR_OK) {
        OPENSSL_free(buf);
        return NULL;
    }
    *plen = a.ulValueLen;
    return buf;
}

/* The push functions keep pointers: build the params before freeing. */
static OSSL_PARAM *ec_params(OSSL_PARAM_BLD *bld, CK_SESSION_HANDLE h,
                             CK_OBJECT_HANDLE obj)
{
    OSSL_PARAM *res = NULL;
    size_t plen = 0, qlen = 0;
    unsigned char *params = get_attr(h, obj, CKA_EC_PARAMS, &plen);
    unsigned char *point = get_attr(h, obj, CKA_EC_POINT, &qlen);
    const unsigned char *p = params, *q = point;
    ASN1_OBJECT *oid = NULL;
    ASN1_OCTET_STRING *os = NULL;

    if (params == NULL || point == NULL)
        goto out;
    oid = d2i_ASN1_OBJECT(NULL, &p, (long)plen);
    os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)qlen); /* DER-wrapped */
    if (oid == NULL || os == NULL || OBJ_obj2nid(oid) == NID_undef)
        goto out;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        OBJ_nid2sn(OBJ_obj2nid(oid)), 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                         ASN1_STRING_get0_data(os),
                                         (size_t)ASN1_STRING_length(os)))
        res = OSSL_PARAM_BLD_to_param(bld);
out:
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(os);
    OPENSSL_free(params);
    OPENSSL_free(point);
    return res;
}

static OSSL_PARAM *rsa_params(OSSL_PARAM_BLD *bld, CK_SESSION_HANDLE h,
                              CK_OBJECT_HANDLE obj, BIGNUM **pn, BIGNUM **pe)
{
    OSSL_PARAM *res = NULL;
    size_t nlen = 0, elen = 0;
    unsigned char *n = get_attr(h, obj, CKA_MODULUS, &nlen);
    unsigned char *e = get_attr(h, obj, CKA_PUBLIC_EXPONENT, &elen);

    if (n != NULL && e != NULL) {
        *pn = BN_bin2bn(n, (int)nlen, NULL);
        *pe = BN_bin2bn(e, (int)elen, NULL);
        if (*pn != NULL && *pe != NULL &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *pn) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *pe))
            res = OSSL_PARAM_BLD_to_param(bld);
    }
    OPENSSL_free(n);
    OPENSSL_free(e);
    return res;
}

CK_RV att_token_pubkey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
                       EVP_PKEY **ppkey)
{
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    CK_RV rv = CKR_FUNCTION_FAILED;

    *ppkey = NULL;
    if (bld == NULL ||
        mock_target->C_GetAttributeValue(h, obj, &a, 1) != CKR_OK)
        goto out;
    params =
        kt == CKK_EC ? ec_params(bld, h, obj) : rsa_params(bld, h, obj, &n, &e);
    if (params == NULL)
        goto out;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, kt == CKK_EC ? "EC" : "RSA", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, ppkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    rv = CKR_OK;
out:
    if (rv != CKR_OK)
        ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return rv;
}

void att_release(void)
{
    /* At C_Finalize, not in a destructor: at exit OpenSSL may be gone. */
    pthread_mutex_lock(&att_lock);
    X509_free(f9_cert);
    EVP_PKEY_free(f9_key);
    f9_cert = NULL;
    f9_key = NULL;
    pthread_mutex_unlock(&att_lock);
}
