/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the token can do: SoftHSM generates and signs with all four key
 * types; the mock's ykcs11 personality (RSA 1024-2048, EC 256-384 only)
 * has no RSA-3072/4096.  Free memory: SoftHSM tells none, or a number.
 */
#include <stdlib.h>

#include "tok_testutil.h"

static struct fx_softhsm fx;

static void setup(void)
{
    fx_softhsm_begin(&fx);
}

static void teardown(void)
{
    unsetenv("P11E_MOCK_YKCS11");
    fx_softhsm_end(&fx);
}

__attribute__((constructor)) static void init(void)
{
    harness_set_fixture(setup, teardown);
}

static struct tok_ctx *open_token(const char *module)
{
    struct tok_ctx *ctx = NULL;
    enum pe_rc rc = tok_open(fx.uri, module, &ctx);

    if (rc != PE_OK)
        harness_fail(__FILE__, __LINE__, "tok_open: %s", pe_sentence(rc));
    return ctx;
}

TEST("/tok/mech/softhsm_all_types")
{
    struct tok_ctx *ctx = open_token(fx.module);

    CHECK(tok_supports_keytype(ctx, TOK_EC_P256));
    CHECK(tok_supports_keytype(ctx, TOK_EC_P384));
    CHECK(tok_supports_keytype(ctx, TOK_RSA_3072));
    CHECK(tok_supports_keytype(ctx, TOK_RSA_4096));
    tok_close(ctx);
}

TEST("/tok/mech/softhsm_memory")
{
    struct tok_ctx *ctx = open_token(fx.module);
    unsigned long pub = 0, priv = 0;

    CHECK_INT(tok_token_memory(ctx, &pub, &priv), PE_OK);
    /* SoftHSM 2.6 reports CK_UNAVAILABLE_INFORMATION */
    CHECK(pub == TOK_MEMORY_UNKNOWN || pub > 0);
    CHECK(priv == TOK_MEMORY_UNKNOWN || priv > 0);
    tok_close(ctx);
}

TEST("/tok/mech/ykcs11_no_big_rsa")
{
    struct tok_ctx *ctx;

    if (getenv("P11E_MOCK") == NULL || getenv("P11E_MOCK")[0] == '\0')
        SKIP("P11E_MOCK is not set");
    setenv("P11E_MOCK_TARGET", fx.module, 1);
    setenv("P11E_MOCK_YKCS11", "1", 1);
    ctx = open_token(getenv("P11E_MOCK"));
    CHECK(tok_supports_keytype(ctx, TOK_EC_P256));
    CHECK(tok_supports_keytype(ctx, TOK_EC_P384));
    CHECK(!tok_supports_keytype(ctx, TOK_RSA_3072));
    CHECK(!tok_supports_keytype(ctx, TOK_RSA_4096));
    tok_close(ctx);
}

TEST("/tok/mech/list_fails")
{
    struct tok_ctx *ctx;

    if (getenv("P11E_MOCK") == NULL || getenv("P11E_MOCK")[0] == '\0')
        SKIP("P11E_MOCK is not set");
    setenv("P11E_MOCK_TARGET", fx.module, 1);
    setenv("P11E_MOCK_FAIL", "C_GetMechanismList=CKR_DEVICE_ERROR", 1);
    ctx = open_token(getenv("P11E_MOCK"));
    CHECK(!tok_supports_keytype(ctx, TOK_EC_P256));
    tok_close(ctx);
    unsetenv("P11E_MOCK_FAIL");
}
