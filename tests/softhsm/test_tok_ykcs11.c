/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token layer against the mock's ykcs11 2.2.0 personality
 * (P11E_MOCK_YKCS11=1): family detection, SO login with the management
 * key, whitelisted keygen template in a PIV slot, signing with the
 * context-specific login of slot 9c, leaf write, no chain on the card.
 */
#include <stdlib.h>
#include <string.h>

#include "tok_testutil.h"

#define MGMKEY "010203040506070801020304050607080102030405060708"
#define YK_PIN "123456" /* PIV PINs are 6..8 characters */
#define YK_URI "pkcs11:token=yk;manufacturer=Yubico%20%28www.yubico.com%29"

static struct fx_softhsm fx;
static char pinpath[PATH_MAX], sopath[PATH_MAX];
static struct secret_source pin, so;

static void setup(void)
{
    if (getenv("P11E_MOCK") == NULL || getenv("P11E_MOCK")[0] == '\0')
        SKIP("P11E_MOCK is not set");
    fx_softhsm_begin(&fx);
    setenv("P11E_MOCK_TARGET", fx.module, 1);
    setenv("P11E_MOCK_YKCS11", "1", 1);
    setenv("P11E_MOCK_YKCS11_PIN", YK_PIN, 1);
    if (fx_sh("softhsm2-util --init-token --free --label yk --so-pin %s "
              "--pin %s >/dev/null",
              FX_SO_PIN, YK_PIN) != 0)
        harness_fail(__FILE__, __LINE__, "init token yk");
    pin = tu_pin_file(&fx, "pin", YK_PIN, pinpath, sizeof(pinpath));
    so = tu_pin_file(&fx, "mgm", MGMKEY, sopath, sizeof(sopath));
}

static void teardown(void)
{
    unsetenv("P11E_MOCK_YKCS11");
    unsetenv("P11E_MOCK_YKCS11_PIN");
    fx_softhsm_end(&fx);
}

__attribute__((constructor)) static void init(void)
{
    harness_set_fixture(setup, teardown);
}

static struct tok_ctx *yk_open(void)
{
    struct tok_ctx *ctx = NULL;
    enum pe_rc rc = tok_open(YK_URI, getenv("P11E_MOCK"), &ctx);

    if (rc != PE_OK)
        harness_fail(__FILE__, __LINE__, "tok_open: %s", pe_sentence(rc));
    return ctx;
}

TEST("/tok/ykcs11/detected")
{
    struct tok_ctx *ctx = yk_open();

    CHECK_INT(tok_family(ctx), TOK_FAMILY_YKCS11);
    CHECK(!tok_can_store_chain(ctx));
    tok_close(ctx);
}

TEST("/tok/ykcs11/slot_is_required")
{
    struct tok_ctx *ctx = yk_open();
    struct tok_key *key = NULL;

    CHECK_INT(tok_login(ctx, &so, TOK_SO, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "x", &key), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "PIV slot");
    tok_close(ctx);
}

TEST("/tok/ykcs11/keygen_sign_write_in_9c")
{
    static const unsigned char slot9c[] = {2};
    struct tok_keygen spec = {TOK_EC_P256, NULL, slot9c, 1, false, false};
    struct tok_ctx *ctx = yk_open();
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL, *ca = tu_ec_key();
    X509 *leaf, *back = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    size_t w = 9;

    CHECK_INT(tok_login(ctx, &so, TOK_SO, false), PE_OK);
    tok_set_context_pin(ctx, &pin);
    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_OK);
    CHECK(tok_key_always_auth(key));
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    leaf = tu_cert(pub, "Yuki", NULL, ca, 5, 0);
    CHECK_INT(tok_cert_write_leaf(ctx, key, leaf, NULL), PE_OK);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back != NULL && X509_cmp(back, leaf) == 0);
    sk_X509_push(chain, leaf);
    CHECK_INT(tok_cert_write_chain(ctx, chain, &w, NULL), PE_OK);
    CHECK_INT(w, 0);
    sk_X509_free(chain);
    X509_free(back);
    X509_free(leaf);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(ca);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/ykcs11/attestation")
{
    static const unsigned char slot9a[] = {1};
    struct tok_keygen spec = {TOK_EC_P384, NULL, slot9a, 1, false, false};
    struct tok_ctx *ctx = yk_open();
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;
    X509 *att = NULL, *f9 = NULL;

    CHECK_INT(tok_login(ctx, &so, TOK_SO, false), PE_OK);
    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_OK);
    CHECK_INT(tok_attestation_read(ctx, key, &att, &f9), PE_OK);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(att), pub) == 1);
    CHECK(X509_verify(att, X509_get0_pubkey(f9)) == 1);
    X509_free(att);
    X509_free(f9);
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
}
