/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tokens that say no, through the mock (tests/mock, P11E_MOCK_REFUSE and
 * P11E_MOCK_HIDE_MECHS) in front of a real SoftHSM token: an optional
 * attribute refused on a certificate or a key is left out on a second try;
 * a chain that cannot be written takes the new leaf back with it; a key
 * type the token cannot make is refused before any key is made, with the
 * types it can make named.
 */
#include <stdlib.h>
#include <string.h>

#include "tok_testutil.h"

TU_MOCK_FIXTURE()

/* The mock in front of the token, logged in; fail: P11E_MOCK_FAIL. */
static struct tok_ctx *mock_login(const char *fail)
{
    struct tok_ctx *ctx = NULL;

    setenv("P11E_MOCK_FAIL", fail != NULL ? fail : ";", 1);
    if (tok_open(fx.uri, getenv("P11E_MOCK"), &ctx) != PE_OK ||
        tok_login(ctx, &pin, TOK_USER, false) != PE_OK)
        harness_fail(__FILE__, __LINE__, "open: %s", pe_detail());
    return ctx;
}

/* Lines of the mock's log that start with fn and hold text. */
static int log_lines(const char *fn, const char *text)
{
    return tu_log_lines(logpath, fn, text);
}

struct certs {
    EVP_PKEY *ca, *k1, *k2;
    X509 *l1, *l2, *root, *inter;
    STACK_OF(X509) * chain;
};

/* A key, two leaves for it and a two-certificate chain. */
static struct tok_key *key_and_certs(struct tok_ctx *ctx, struct certs *c)
{
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    if (tok_key_generate(ctx, TOK_EC_P256, "k", &key) != PE_OK ||
        tok_key_public(key, &pub) != PE_OK)
        harness_fail(__FILE__, __LINE__, "key: %s", pe_detail());
    c->ca = tu_ec_key();
    c->k1 = tu_ec_key();
    c->k2 = tu_ec_key();
    c->l1 = tu_cert(pub, "first", NULL, c->ca, 1, 0);
    c->l2 = tu_cert(pub, "second", NULL, c->ca, 2, 0);
    c->root = tu_cert(c->k1, "Root", NULL, c->k1, 3, 1);
    c->inter = tu_cert(c->k2, "Inter", c->root, c->k1, 4, 1);
    c->chain = sk_X509_new_null();
    sk_X509_push(c->chain, c->inter);
    sk_X509_push(c->chain, c->root);
    EVP_PKEY_free(pub);
    return key;
}

static void certs_free(struct certs *c)
{
    sk_X509_free(c->chain);
    X509_free(c->l1);
    X509_free(c->l2);
    X509_free(c->root);
    X509_free(c->inter);
    EVP_PKEY_free(c->ca);
    EVP_PKEY_free(c->k1);
    EVP_PKEY_free(c->k2);
}

/* ---- a refused optional attribute -------------------------------------- */

/* The token refuses attr (as rv) on every object: leaf and chain are
 * written with the minimal template, each after one refused try. */
static void cert_attr_refused(const char *attr, const char *rv, int nrefused)
{
    struct tok_ctx *ctx = mock_login(NULL);
    struct certs c;
    struct tok_key *key = key_and_certs(ctx, &c);
    struct tok_cert_result res;
    char spec[96], note[64];
    size_t w = 9, s = 9;
    X509 *back = NULL;

    snprintf(spec, sizeof(spec), "%s=%s", attr, rv);
    snprintf(note, sizeof(note), "[refused %s] %s", attr, rv);
    setenv("P11E_MOCK_REFUSE", spec, 1);
    CHECK_INT(tok_cert_write_all(ctx, key, c.l1, c.chain, &res, &w, &s), PE_OK);
    CHECK_INT(w, 2);
    CHECK_INT(log_lines("C_CreateObject", note), nrefused);
    CHECK_INT(log_lines("C_CreateObject", "CKR_OK"), 3);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 3);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back != NULL && X509_cmp(back, c.l1) == 0);
    X509_free(back);
    tok_cert_result_clear(&res);
    certs_free(&c);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/refuse/cert_category")
{
    /* only the chain's authority certificates carry it */
    cert_attr_refused("CKA_CERTIFICATE_CATEGORY", "CKR_ATTRIBUTE_TYPE_INVALID",
                      2);
}

TEST("/tok/refuse/cert_issuer")
{
    cert_attr_refused("CKA_ISSUER", "CKR_ATTRIBUTE_VALUE_INVALID", 3);
}

TEST("/tok/refuse/cert_serial_number")
{
    cert_attr_refused("CKA_SERIAL_NUMBER", "CKR_TEMPLATE_INCONSISTENT", 3);
}

TEST("/tok/refuse/cert_private")
{
    cert_attr_refused("CKA_PRIVATE", "CKR_ATTRIBUTE_TYPE_INVALID", 3);
}

TEST("/tok/refuse/required_attribute_is_reported")
{
    struct tok_ctx *ctx = mock_login(NULL);
    struct certs c;
    struct tok_key *key = key_and_certs(ctx, &c);

    /* CKA_SUBJECT is in the minimal template too: the first refusal is
     * what the user reads, and nothing is left behind */
    setenv("P11E_MOCK_REFUSE", "CKA_SUBJECT=CKR_ATTRIBUTE_VALUE_INVALID", 1);
    CHECK_INT(tok_cert_write_all(ctx, key, c.l1, c.chain, NULL, NULL, NULL),
              PE_E_TOKEN);
    CHECK_CONTAINS(pe_detail(), "Writing the certificate on token "
                                "\"p11e-test\" failed: "
                                "CKR_ATTRIBUTE_VALUE_INVALID.");
    CHECK_INT(log_lines("C_CreateObject", "[refused"), 2);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 0);
    certs_free(&c);
    tok_key_free(key);
    tok_close(ctx);
}

/* The token refuses attr (as rv) in a key template: the key is made with
 * the minimal one, and is as safe (checked by reading it back). */
static void key_attr_refused(const char *attr, const char *rv)
{
    struct tok_ctx *ctx = mock_login(NULL);
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;
    char spec[96], note[64];

    snprintf(spec, sizeof(spec), "%s=%s", attr, rv);
    snprintf(note, sizeof(note), "[refused %s] %s", attr, rv);
    setenv("P11E_MOCK_REFUSE", spec, 1);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(log_lines("C_GenerateKeyPair", note), 1);
    CHECK_INT(log_lines("C_GenerateKeyPair", "CKR_OK"), 1);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 1);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PUBLIC_KEY, NULL, 0), 1);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/refuse/key_verify")
{
    key_attr_refused("CKA_VERIFY", "CKR_ATTRIBUTE_TYPE_INVALID");
}

TEST("/tok/refuse/key_decrypt")
{
    key_attr_refused("CKA_DECRYPT", "CKR_TEMPLATE_INCONSISTENT");
}

TEST("/tok/refuse/key_extractable")
{
    key_attr_refused("CKA_EXTRACTABLE", "CKR_ATTRIBUTE_VALUE_INVALID");
}

/* ---- leaf and chain, or neither ---------------------------------------- */

/* The 1st chain certificate cannot be written (the 3rd create: after two
 * leaves): the new leaf goes again, and the key keeps its old
 * certificate, alone. */
static void chain_fails_token_unchanged(const char *fail, enum pe_rc want,
                                        enum tok_family family)
{
    struct tok_ctx *ctx = mock_login(fail);
    struct certs c;
    struct tok_key *key = key_and_certs(ctx, &c);
    size_t w = 9, s = 9;
    X509 *back = NULL;

    tok_set_family(ctx, family);
    CHECK_INT(tok_cert_write_leaf(ctx, key, c.l1, NULL), PE_OK);
    CHECK_INT(tok_cert_write_all(ctx, key, c.l2, c.chain, NULL, &w, &s), want);
    CHECK_CONTAINS(pe_detail(), "The token holds what it held before.");
    CHECK_INT(w, 0);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 1);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back != NULL && X509_cmp(back, c.l1) == 0);
    X509_free(back);
    certs_free(&c);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/half/chain_refused_takes_the_leaf_back")
{
    chain_fails_token_unchanged("C_CreateObject=CKR_FUNCTION_FAILED@3",
                                PE_E_TOKEN, TOK_FAMILY_GENERIC);
    CHECK_CONTAINS(pe_detail(), "Writing the certificate on token "
                                "\"p11e-test\" failed: CKR_FUNCTION_FAILED.");
}

TEST("/tok/half/token_full_at_the_second_chain_certificate")
{
    /* the first chain certificate is written and goes again too */
    chain_fails_token_unchanged("C_CreateObject=CKR_DEVICE_MEMORY@4",
                                PE_E_TOKEN, TOK_FAMILY_GENERIC);
    CHECK_INT(log_lines("C_DestroyObject", "CKR_OK"), 2);
}

/* ---- key types --------------------------------------------------------- */

TEST("/tok/keytype/refused_before_keygen_with_the_choices")
{
    struct tok_ctx *ctx;
    struct tok_key *key = NULL;

    setenv("P11E_MOCK_HIDE_MECHS", "CKM_EC_KEY_PAIR_GEN", 1);
    ctx = mock_login(NULL);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_E_KEY);
    CHECK_STR(pe_detail(), "Token \"p11e-test\" cannot make ec-p256 keys; it "
                           "can make rsa-3072, rsa-4096: give --key-type "
                           "rsa-3072.");
    CHECK(key == NULL);
    CHECK_INT(log_lines("C_GenerateKeyPair", ""), 0);
    CHECK_INT(tok_keytype_check(ctx, TOK_RSA_3072), PE_OK);
    tok_close(ctx);
}

TEST("/tok/keytype/none_the_token_can_make")
{
    struct tok_ctx *ctx;
    struct tok_key *key = NULL;
    struct tok_keygen spec = {TOK_EC_P256, "k", NULL, 0, false, true};

    setenv("P11E_MOCK_HIDE_MECHS", "CKM_ECDSA,CKM_RSA_PKCS", 1);
    ctx = mock_login(NULL);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P384, "k", &key), PE_E_KEY);
    CHECK_STR(pe_detail(), "Token \"p11e-test\" cannot make ec-p384 keys, "
                           "nor any other key type p11enroll makes.");
    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_E_KEY);
    CHECK_CONTAINS(pe_detail(), "can make none of the key types");
    CHECK_INT(log_lines("C_GenerateKeyPair", ""), 0);
    tok_close(ctx);
}

TEST("/tok/keytype/no_type_asked_takes_the_first_it_can_make")
{
    struct tok_ctx *ctx;
    struct tok_key *key = NULL;
    struct tok_keygen spec = {TOK_EC_P256, "k", NULL, 0, false, true};
    enum tok_keytype t = TOK_EC_P256;

    /* no EC at all: the first of the list it can make is rsa-3072 */
    setenv("P11E_MOCK_HIDE_MECHS", "CKM_EC_KEY_PAIR_GEN", 1);
    ctx = mock_login(NULL);
    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_OK);
    CHECK_INT(tok_key_type(key, &t), PE_OK);
    CHECK_INT(t, TOK_RSA_3072);
    tok_key_free(key);
    tok_close(ctx);
    /* a token that can: ec-p256, and the mechanism list is read once */
    unsetenv("P11E_MOCK_HIDE_MECHS");
    ctx = mock_login(";;");
    CHECK_INT(tok_keytype_pick(ctx, &t), PE_OK);
    CHECK_INT(t, TOK_EC_P256);
    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_OK);
    CHECK_INT(tok_key_type(key, &t), PE_OK);
    CHECK_INT(t, TOK_EC_P256);
    CHECK_INT(log_lines("C_GetMechanismList", ""), 2); /* 1 per context */
    tok_key_free(key);
    tok_close(ctx);
}
