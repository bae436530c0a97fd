/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token layer's error paths, through the failure-injecting module
 * (tests/mock, $P11E_MOCK) in front of a real SoftHSM token: PIN flags,
 * a refused PIN, a device that drops and comes back (or not).
 */
#include <stdlib.h>
#include <string.h>

#include "tok_testutil.h"

TU_MOCK_FIXTURE()

static struct tok_ctx *mock_open(const char *fail, const char *flags)
{
    struct tok_ctx *ctx = NULL;
    enum pe_rc rc;

    if (fail != NULL)
        setenv("P11E_MOCK_FAIL", fail, 1);
    if (flags != NULL)
        setenv("P11E_MOCK_TOKEN_FLAGS", flags, 1);
    rc = tok_open(fx.uri, getenv("P11E_MOCK"), &ctx);
    if (rc != PE_OK)
        harness_fail(__FILE__, __LINE__, "tok_open: %s", pe_sentence(rc));
    return ctx;
}

/* Lines of the mock's log that start with prefix. */
static int log_count(const char *prefix)
{
    return tu_log_count(logpath, prefix);
}

TEST("/tok/mock/final_try_is_not_risked_unattended")
{
    struct tok_ctx *ctx = mock_open(NULL, "CKF_USER_PIN_FINAL_TRY");

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_PIN_LOCKED);
    CHECK_CONTAINS(pe_detail(), "only one more PIN try");
    CHECK_INT(log_count("C_Login"), 0);
    /* a person at the terminal is warned, and may go on */
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, true), PE_OK);
    CHECK_INT(log_count("C_Login"), 1);
    tok_close(ctx);
}

TEST("/tok/mock/locked_pin_is_never_tried")
{
    struct tok_ctx *ctx = mock_open(NULL, "CKF_USER_PIN_LOCKED");

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, true), PE_E_PIN_LOCKED);
    CHECK_CONTAINS(pe_detail(), "is locked");
    CHECK_INT(log_count("C_Login"), 0);
    tok_close(ctx);
}

TEST("/tok/mock/refused_pin_is_sent_once")
{
    struct tok_ctx *ctx = mock_open("C_Login=CKR_PIN_INCORRECT", NULL);

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_PIN_INCORRECT);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_PIN_INCORRECT);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, true), PE_E_PIN_INCORRECT);
    CHECK_INT(log_count("C_Login"), 1);
    tok_close(ctx);
}

TEST("/tok/mock/pin_locked_by_the_token")
{
    struct tok_ctx *ctx = mock_open("C_Login=CKR_PIN_LOCKED", NULL);

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_PIN_LOCKED);
    tok_close(ctx);
}

TEST("/tok/mock/pinpad")
{
    struct tok_ctx *ctx;

    setenv("P11E_MOCK_PINPAD_PIN", FX_USER_PIN, 1);
    ctx = mock_open(NULL, "CKF_PROTECTED_AUTHENTICATION_PATH");
    CHECK(tok_token_flags(ctx) & TOK_F_PROTECTED_AUTH_PATH);
    CHECK_INT(tok_login(ctx, NULL, TOK_USER, false), PE_OK);
    tok_close(ctx);
}

TEST("/tok/mock/device_removed_during_sign_recovers")
{
    struct tok_ctx *ctx = mock_open("C_Sign=CKR_DEVICE_REMOVED@1", NULL);
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    CHECK_INT(log_count("C_Sign "), 2);
    CHECK_INT(log_count("C_Login user=1 pin=*** CKR_OK"), 2);
    CHECK_INT(log_count("C_Finalize"), 1);
    /* the handle stays valid after the recovery */
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/mock/device_gone_is_a_clear_error")
{
    struct tok_ctx *ctx = mock_open("C_Sign=CKR_DEVICE_REMOVED!gone", NULL);
    struct tok_key *key = NULL;
    unsigned char dg[32] = {1}, *sig = NULL;
    size_t siglen = 0;

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(tok_sign_digest(key, NID_sha256, dg, 32, &sig, &siglen),
              PE_E_TOKEN);
    CHECK(sig == NULL);
    CHECK_CONTAINS(pe_detail(), "dropped (CKR_DEVICE_REMOVED)");
    CHECK_CONTAINS(pe_detail(), "could not be reached again");
    tok_key_free(key);
    tok_close(ctx);
}

/* A key, and leaf certificates 1 and 2 for it. */
static struct tok_key *key_two_leaves(struct tok_ctx *ctx, X509 **l1, X509 **l2,
                                      EVP_PKEY **pca)
{
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    *pca = tu_ec_key();
    if (tok_login(ctx, &pin, TOK_USER, false) != PE_OK ||
        tok_key_generate(ctx, TOK_EC_P256, "k", &key) != PE_OK ||
        tok_key_public(key, &pub) != PE_OK)
        harness_fail(__FILE__, __LINE__, "key: %s", pe_detail());
    *l1 = tu_cert(pub, "first", NULL, *pca, 1, 0);
    *l2 = tu_cert(pub, "second", NULL, *pca, 2, 0);
    EVP_PKEY_free(pub);
    return key;
}

static void check_only_cert(struct tok_ctx *ctx, struct tok_key *key,
                            X509 *want)
{
    const unsigned char *id;
    size_t idlen;
    X509 *back = NULL;

    tok_key_id(key, &id, &idlen);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, id, idlen), 1);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back != NULL && X509_cmp(back, want) == 0);
    X509_free(back);
}

/* A write fails as fail says, and the device stays pulled for the rest of
 * the run: what a user checks afterwards is that the old certificate is
 * still there, alone (nothing half-made beside it). */
static void keeps_old_certificate(const char *fail)
{
    struct tok_ctx *ctx = mock_open(fail, NULL);
    X509 *l1, *l2;
    EVP_PKEY *ca;
    struct tok_key *key = key_two_leaves(ctx, &l1, &l2, &ca);

    CHECK_INT(tok_cert_write_leaf(ctx, key, l1, NULL), PE_OK);
    CHECK_INT(tok_cert_write_leaf(ctx, key, l2, NULL), PE_E_TOKEN);
    CHECK_CONTAINS(pe_detail(), "CKR_DEVICE_REMOVED");
    unsetenv("P11E_MOCK_FAIL");
    tok_close(ctx);
    ctx = mock_open(NULL, NULL);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    tok_key_free(key);
    CHECK_INT(tok_key_find_by_public(ctx, X509_get0_pubkey(l1), &key), PE_OK);
    check_only_cert(ctx, key, l1);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 1);
    X509_free(l1);
    X509_free(l2);
    EVP_PKEY_free(ca);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/mock/device_removed_mid_write_keeps_old_certificate")
{
    keeps_old_certificate("C_CreateObject=CKR_DEVICE_REMOVED@2+");
}

TEST("/tok/mock/device_removed_mid_write_recovers")
{
    struct tok_ctx *ctx =
        mock_open("C_CreateObject=CKR_DEVICE_REMOVED@2", NULL);
    struct tok_cert_result res;
    X509 *l1, *l2;
    EVP_PKEY *ca;
    struct tok_key *key = key_two_leaves(ctx, &l1, &l2, &ca);

    CHECK_INT(tok_cert_write_leaf(ctx, key, l1, NULL), PE_OK);
    CHECK_INT(tok_cert_write_leaf(ctx, key, l2, &res), PE_OK);
    CHECK(res.replaced);
    tok_cert_result_clear(&res);
    check_only_cert(ctx, key, l2);
    X509_free(l1);
    X509_free(l2);
    EVP_PKEY_free(ca);
    tok_key_free(key);
    tok_close(ctx);
}

/* The 2nd write reaches the token but its answer is lost: found again,
 * not written twice. */
TEST("/tok/mock/write_answer_lost_leaves_one_certificate")
{
    struct tok_ctx *ctx =
        mock_open("C_CreateObject=CKR_DEVICE_REMOVED@2!after", NULL);
    X509 *l1, *l2;
    EVP_PKEY *ca;
    struct tok_key *key;

    tok_set_family(ctx, TOK_FAMILY_GENERIC);
    key = key_two_leaves(ctx, &l1, &l2, &ca);
    CHECK_INT(tok_cert_write_leaf(ctx, key, l1, NULL), PE_OK);
    CHECK_INT(tok_cert_write_leaf(ctx, key, l2, NULL), PE_OK);
    check_only_cert(ctx, key, l2);
    CHECK_INT(log_count("C_CreateObject"), 2);
    X509_free(l1);
    X509_free(l2);
    EVP_PKEY_free(ca);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/mock/keygen_answer_lost_makes_one_key")
{
    struct tok_ctx *ctx =
        mock_open("C_GenerateKeyPair=CKR_DEVICE_REMOVED@1!after", NULL);
    struct tok_key *key = NULL;

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "once", &key), PE_OK);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 1);
    CHECK_INT(log_count("C_GenerateKeyPair"), 1);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/mock/chain_write_recovers")
{
    struct tok_ctx *ctx =
        mock_open("C_CreateObject=CKR_DEVICE_REMOVED@2", NULL);
    EVP_PKEY *k1 = tu_ec_key(), *k2 = tu_ec_key();
    X509 *root = tu_cert(k1, "Root", NULL, k1, 1, 1);
    X509 *inter = tu_cert(k2, "Inter", root, k1, 2, 1);
    STACK_OF(X509) *chain = sk_X509_new_null();
    size_t w = 0, s = 0;

    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    sk_X509_push(chain, inter);
    sk_X509_push(chain, root);
    CHECK_INT(tok_cert_write_chain(ctx, chain, &w, &s), PE_OK);
    CHECK_INT(w, 2);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 2);
    sk_X509_free(chain);
    X509_free(root);
    X509_free(inter);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    tok_close(ctx);
}

/*
 * tok_cert_write_all writes the leaf, then the chain, on the one session.
 * Each case: a leaf and a two-certificate chain written through the fault
 * spec; whatever failed, the token ends with the leaf next to its key and
 * each chain certificate once, and the counts say so.
 */
struct write_all_case {
    struct tok_ctx *ctx;
    struct tok_key *key;
    X509 *l1, *l2, *root, *inter;
    EVP_PKEY *ca, *k1, *k2;
    STACK_OF(X509) * chain;
};

static void write_all_begin(struct write_all_case *c, const char *fail)
{
    memset(c, 0, sizeof(*c));
    c->ctx = mock_open(fail, NULL);
    c->key = key_two_leaves(c->ctx, &c->l1, &c->l2, &c->ca);
    c->k1 = tu_ec_key();
    c->k2 = tu_ec_key();
    c->root = tu_cert(c->k1, "Root", NULL, c->k1, 1, 1);
    c->inter = tu_cert(c->k2, "Inter", c->root, c->k1, 2, 1);
    c->chain = sk_X509_new_null();
    sk_X509_push(c->chain, c->inter);
    sk_X509_push(c->chain, c->root);
}

static void write_all_end(struct write_all_case *c)
{
    sk_X509_free(c->chain);
    X509_free(c->root);
    X509_free(c->inter);
    X509_free(c->l1);
    X509_free(c->l2);
    EVP_PKEY_free(c->k1);
    EVP_PKEY_free(c->k2);
    EVP_PKEY_free(c->ca);
    tok_key_free(c->key);
    tok_close(c->ctx);
}

/* Write l1 and the chain; expect it all on the token, each once. */
static void write_all_check(struct write_all_case *c)
{
    struct tok_cert_result res;
    size_t w = 99, s = 99;

    CHECK_INT(tok_cert_write_all(c->ctx, c->key, c->l1, c->chain, &res, &w, &s),
              PE_OK);
    CHECK(res.uri != NULL && !res.unchanged && !res.replaced);
    tok_cert_result_clear(&res);
    CHECK_INT(w, 2);
    CHECK_INT(s, 0);
    check_only_cert(c->ctx, c->key, c->l1);
    CHECK_INT(tu_count(c->ctx, TOK_OBJ_CERT, NULL, 0), 3);
}

TEST("/tok/mock/write_all_chain_beside_leaf")
{
    struct write_all_case c;
    size_t w = 99, s = 99;

    write_all_begin(&c, NULL);
    write_all_check(&c);
    CHECK_INT(log_count("C_CreateObject class=1 token=1"), 3);
    CHECK_INT(log_count("C_CopyObject"), 0);
    CHECK_INT(log_count("C_OpenSession"), 1); /* tok_open's only */
    /* renewal: the chain is there; the new leaf replaces the old one */
    CHECK_INT(tok_cert_write_all(c.ctx, c.key, c.l2, c.chain, NULL, &w, &s),
              PE_OK);
    CHECK_INT(w, 0);
    CHECK_INT(s, 2);
    check_only_cert(c.ctx, c.key, c.l2);
    CHECK_INT(tu_count(c.ctx, TOK_OBJ_CERT, NULL, 0), 3);
    CHECK_INT(log_count("C_OpenSession"), 1);
    write_all_end(&c);
}

TEST("/tok/mock/write_all_transient_failure")
{
    struct write_all_case c;

    /* SoftHSM (quirks.c): the 1st chain certificate's write fails once
     * and is made again, nothing twice */
    write_all_begin(&c, "C_CreateObject=CKR_GENERAL_ERROR@2");
    CHECK_INT(tok_family(c.ctx), TOK_FAMILY_SOFTHSM);
    write_all_check(&c);
    CHECK_INT(log_count("C_CreateObject"), 4);
    write_all_end(&c);
}

TEST("/tok/mock/general_error_is_final_on_other_tokens")
{
    struct write_all_case c;
    size_t w = 99, s = 99;

    /* any family but SoftHSM: CKR_GENERAL_ERROR is the token's answer,
     * reported as the call that gave it, not tried again */
    write_all_begin(&c, "C_CreateObject=CKR_GENERAL_ERROR@2");
    tok_set_family(c.ctx, TOK_FAMILY_GENERIC);
    CHECK_INT(tok_cert_write_all(c.ctx, c.key, c.l1, c.chain, NULL, &w, &s),
              PE_E_TOKEN);
    CHECK_CONTAINS(pe_detail(), "Writing the certificate on token "
                                "\"p11e-test\" failed: CKR_GENERAL_ERROR.");
    CHECK_CONTAINS(pe_detail(), "The token holds what it held before.");
    CHECK_INT(log_count("C_CreateObject"), 2);
    CHECK_INT(log_count("C_Finalize"), 0);
    CHECK_INT(tu_count(c.ctx, TOK_OBJ_CERT, NULL, 0), 0);
    write_all_end(&c);
}

/* Pulled as fail says and plugged in again: every session fails until the
 * re-plug (one re-initialisation), then what is missing is written. */
static void write_all_replugged(const char *fail)
{
    struct write_all_case c;

    write_all_begin(&c, fail);
    write_all_check(&c);
    CHECK_INT(log_count("C_Finalize"), 1);
    write_all_end(&c);
}

TEST("/tok/mock/write_all_device_removed_recovers")
{
    /* during the 2nd write */
    write_all_replugged("C_CreateObject=CKR_DEVICE_REMOVED@2");
}
