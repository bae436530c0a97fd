/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tok_testutil.h - helpers shared by the token layer's tests (header only:
 * every test_*.c is its own program).  Certificates are made here with
 * OpenSSL for public keys read from the token.
 */
#ifndef P11E_TOK_TESTUTIL_H
#define P11E_TOK_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "harness.h"
#include "tok.h"

/* Write pin to DIR/NAME and return a file: source for it. */
static inline struct secret_source tu_pin_file(const struct fx_softhsm *fx,
                                               const char *name,
                                               const char *pin, char *path,
                                               size_t size)
{
    struct secret_source src;
    FILE *f;

    snprintf(path, size, "%.3000s/%.200s", fx->dir, name);
    f = fopen(path, "w");
    if (f == NULL)
        harness_fail(__FILE__, __LINE__, "fopen %s", path);
    fprintf(f, "%s\n", pin);
    fclose(f);
    chmod(path, 0600); /* p11enroll refuses a PIN file others can read */
    memset(&src, 0, sizeof(src));
    src.kind = SECRET_FILE;
    src.arg = path;
    return src;
}

/* Open the fixture's token and log in as user with the known PIN. */
static inline struct tok_ctx *tu_open_login(const struct fx_softhsm *fx,
                                            char *pinpath, size_t size)
{
    struct tok_ctx *ctx = NULL;
    struct secret_source src;
    enum pe_rc rc;

    rc = tok_open(fx->uri, fx->module, &ctx);
    if (rc != PE_OK)
        harness_fail(__FILE__, __LINE__, "tok_open: %s", pe_sentence(rc));
    src = tu_pin_file(fx, "pin", FX_USER_PIN, pinpath, size);
    rc = tok_login(ctx, &src, TOK_USER, false);
    if (rc != PE_OK)
        harness_fail(__FILE__, __LINE__, "tok_login: %s", pe_sentence(rc));
    return ctx;
}

static inline EVP_PKEY *tu_ec_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static inline void tu_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, val);
    if (ext == NULL || !X509_add_ext(x, ext, -1))
        harness_fail(__FILE__, __LINE__, "extension %s", val);
    X509_EXTENSION_free(ext);
}

/* A certificate for pub named cn, signed by cakey (issuer ca, or self). */
static inline X509 *tu_cert(EVP_PKEY *pub, const char *cn, X509 *ca,
                            EVP_PKEY *cakey, long serial, int is_ca)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();

    if (x == NULL || name == NULL)
        harness_fail(__FILE__, __LINE__, "X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : name);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
    X509_set_pubkey(x, pub);
    tu_ext(x, ca, NID_basic_constraints,
           is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    tu_ext(x, ca, NID_key_usage,
           is_ca ? "critical,keyCertSign,cRLSign"
                 : "critical,digitalSignature");
    if (!is_ca)
        tu_ext(x, ca, NID_ext_key_usage, "codeSigning");
    if (X509_sign(x, cakey, EVP_sha256()) <= 0)
        harness_fail(__FILE__, __LINE__, "X509_sign");
    X509_NAME_free(name);
    return x;
}

/* Sign "message" with the token key (md) and verify with pub. */
static inline int tu_sign_verify(struct tok_key *key, EVP_PKEY *pub,
                                 const EVP_MD *md)
{
    static const unsigned char msg[] = "p11enroll test message";
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    EVP_MD_CTX *mctx;
    enum pe_rc rc;
    int ok;

    EVP_Digest(msg, sizeof(msg), dg, &dlen, md, NULL);
    rc = tok_sign_digest(key, EVP_MD_get_type(md), dg, dlen, &sig, &siglen);
    if (rc != PE_OK) {
        fprintf(stderr, "tok_sign_digest: %s\n", pe_sentence(rc));
        return 0;
    }
    mctx = EVP_MD_CTX_new();
    ok = EVP_DigestVerifyInit(mctx, NULL, md, NULL, pub) == 1 &&
         EVP_DigestVerify(mctx, sig, siglen, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(sig);
    return ok;
}

/* Objects of class cls on the token (optionally with this CKA_ID). */
static inline size_t tu_count(struct tok_ctx *ctx, enum tok_obj_class cls,
                              const unsigned char *id, size_t idlen)
{
    struct tok_object_list *list = NULL;
    size_t i, n = 0;

    if (tok_list_objects(ctx, &list) != PE_OK)
        harness_fail(__FILE__, __LINE__, "tok_list_objects: %s", pe_detail());
    for (i = 0; i < list->n; i++)
        if (list->v[i].cls == cls &&
            (id == NULL || (list->v[i].idlen == idlen &&
                            memcmp(list->v[i].id, id, idlen) == 0)))
            n++;
    tok_object_list_free(list);
    return n;
}

/* The failure-injecting module (tests/mock, $P11E_MOCK) in front of fx's
 * SoftHSM, its call log at logpath (fx->dir/mock.log); skips the test when
 * the module was not built.  tu_mock_end forgets the mock's settings. */
static inline void tu_mock_begin(const struct fx_softhsm *fx, char *logpath,
                                 size_t size)
{
    if (getenv("P11E_MOCK") == NULL || getenv("P11E_MOCK")[0] == '\0')
        SKIP("P11E_MOCK is not set");
    snprintf(logpath, size, "%.3000s/mock.log", fx->dir);
    setenv("P11E_MOCK_LOG", logpath, 1);
    setenv("P11E_MOCK_TARGET", fx->module, 1);
}

static inline void tu_mock_end(void)
{
    unsetenv("P11E_MOCK_FAIL");
    unsetenv("P11E_MOCK_TOKEN_FLAGS");
    unsetenv("P11E_MOCK_PINPAD_PIN");
    unsetenv("P11E_MOCK_LOG");
    unsetenv("P11E_MOCK_REFUSE");
    unsetenv("P11E_MOCK_HIDE_MECHS");
    unsetenv("P11E_MOCK_DELAY_MS");
}

/* The fixture of a test file that works on a fresh SoftHSM token for each
 * test, opened and logged in as ctx (tu_open_login). */
#define TU_LOGIN_FIXTURE()                                                     \
    static struct fx_softhsm fx;                                               \
    static struct tok_ctx *ctx;                                                \
    static char pinpath[PATH_MAX];                                             \
                                                                               \
    static void setup(void)                                                    \
    {                                                                          \
        fx_softhsm_begin(&fx);                                                 \
        ctx = tu_open_login(&fx, pinpath, sizeof(pinpath));                    \
    }                                                                          \
                                                                               \
    static void teardown(void)                                                 \
    {                                                                          \
        tok_close(ctx);                                                        \
        ctx = NULL;                                                            \
        fx_softhsm_end(&fx);                                                   \
    }                                                                          \
                                                                               \
    __attribute__((constructor)) static void init(void)                        \
    {                                                                          \
        harness_set_fixture(setup, teardown);                                  \
    }

/* The fixture of a test file that puts the mock in front of a fresh
 * SoftHSM token for each test: fx, the mock's log at logpath and a PIN
 * file, pin, holding the user PIN. */
#define TU_MOCK_FIXTURE()                                                      \
    static struct fx_softhsm fx;                                               \
    static char logpath[PATH_MAX], pinpath[PATH_MAX];                          \
    static struct secret_source pin;                                           \
                                                                               \
    static void setup(void)                                                    \
    {                                                                          \
        fx_softhsm_begin(&fx);                                                 \
        tu_mock_begin(&fx, logpath, sizeof(logpath));                          \
        pin = tu_pin_file(&fx, "pin", FX_USER_PIN, pinpath, sizeof(pinpath));  \
    }                                                                          \
                                                                               \
    static void teardown(void)                                                 \
    {                                                                          \
        tu_mock_end();                                                         \
        fx_softhsm_end(&fx);                                                   \
    }                                                                          \
                                                                               \
    __attribute__((constructor)) static void init(void)                        \
    {                                                                          \
        harness_set_fixture(setup, teardown);                                  \
    }

/* Lines of the mock's log at logpath that start with prefix and hold
 * text (any line, for NULL). */
static inline int tu_log_lines(const char *logpath, const char *prefix,
                               const char *text)
{
    char line[512];
    int n = 0;
    FILE *f = fopen(logpath, "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, prefix, strlen(prefix)) == 0 &&
            (text == NULL || strstr(line, text) != NULL))
            n++;
    fclose(f);
    return n;
}

/* Lines of the mock's log at logpath that start with prefix. */
static inline int tu_log_count(const char *logpath, const char *prefix)
{
    return tu_log_lines(logpath, prefix, NULL);
}

#endif
