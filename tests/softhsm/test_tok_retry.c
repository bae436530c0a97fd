/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token layer rides out SoftHSM's concurrent-writer race
 * (docs/tokens.md): CKR_GENERAL_ERROR & co. from C_Login, C_OpenSession or
 * C_GetTokenInfo are tried again within a bounded wait, through the
 * failure-injecting module (tests/mock, $P11E_MOCK) in front of a real
 * SoftHSM token.  A refused PIN is never sent again, and a token that is
 * really absent still fails with its sentence.
 */
#include <stdlib.h>
#include <string.h>

#include "tok_testutil.h"

TU_MOCK_FIXTURE()

/* Lines of the mock's log that start with prefix. */
static int log_count(const char *prefix)
{
    return tu_log_count(logpath, prefix);
}

static enum pe_rc open_with(const char *fail, const char *uri,
                            struct tok_ctx **pctx)
{
    setenv("P11E_MOCK_FAIL", fail, 1);
    return tok_open(uri != NULL ? uri : fx.uri, getenv("P11E_MOCK"), pctx);
}

TEST("/tok/retry/login_general_error_is_tried_again")
{
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;

    CHECK_INT(open_with("C_Login=CKR_GENERAL_ERROR@1", NULL, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(log_count("C_Login"), 2);
    /* logged in for real: a key can be made */
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "after-retry", &key), PE_OK);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/retry/login_pin_not_initialized_is_tried_again")
{
    struct tok_ctx *ctx = NULL;

    /* a half-read token.object looks as if it had no user PIN */
    CHECK_INT(open_with("C_Login=CKR_USER_PIN_NOT_INITIALIZED@1", NULL, &ctx),
              PE_OK);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(log_count("C_Login"), 2);
    tok_close(ctx);
}

TEST("/tok/retry/refused_pin_is_never_sent_again")
{
    struct tok_ctx *ctx = NULL;

    CHECK_INT(open_with("C_Login=CKR_PIN_INCORRECT@1", NULL, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_PIN_INCORRECT);
    CHECK_CONTAINS(pe_detail(), "will not be tried again");
    CHECK_INT(log_count("C_Login"), 1);
    /* and not by a second call in this process either */
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_PIN_INCORRECT);
    CHECK_INT(log_count("C_Login"), 1);
    tok_close(ctx);
}

TEST("/tok/retry/login_error_that_stays_fails_after_a_bounded_wait")
{
    struct tok_ctx *ctx = NULL;
    int n;

    CHECK_INT(open_with("C_Login=CKR_GENERAL_ERROR", NULL, &ctx), PE_OK);
    CHECK(tok_login(ctx, &pin, TOK_USER, false) != PE_OK);
    CHECK_CONTAINS(pe_detail(), "C_Login (PIN) on token \"p11e-test\" failed: "
                                "CKR_GENERAL_ERROR");
    n = log_count("C_Login");
    CHECK(n >= 2);
    CHECK(n <= 20);
    tok_close(ctx);
}

TEST("/tok/retry/open_session_general_error_is_tried_again")
{
    struct tok_ctx *ctx = NULL;

    CHECK_INT(open_with("C_OpenSession=CKR_GENERAL_ERROR@1", NULL, &ctx),
              PE_OK);
    CHECK(log_count("C_OpenSession") >= 2);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    tok_close(ctx);
}

TEST("/tok/retry/unreadable_token_is_looked_for_again")
{
    struct tok_ctx *ctx = NULL;

    /* the first C_GetTokenInfo (the token scan) fails: "no token" */
    CHECK_INT(open_with("C_GetTokenInfo=CKR_GENERAL_ERROR@1", NULL, &ctx),
              PE_OK);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    tok_close(ctx);
}

TEST("/tok/retry/absent_token_still_fails_clearly")
{
    struct tok_ctx *ctx = NULL;

    CHECK_INT(open_with(";", "pkcs11:token=no-such-token", &ctx),
              PE_E_TOKEN_NOT_FOUND);
    CHECK_CONTAINS(pe_detail(), "No token matches");
    CHECK_CONTAINS(pe_detail(), "token=p11e-test");
    CHECK(ctx == NULL);
    /* a module whose slots never show a token */
    CHECK_INT(open_with("C_GetTokenInfo=CKR_GENERAL_ERROR", NULL, &ctx),
              PE_E_TOKEN_NOT_FOUND);
    CHECK_CONTAINS(pe_detail(), "No token is present");
    CHECK(ctx == NULL);
}

/* The token failed the keygen (nothing made) or made the key and the
 * answer was lost (!after): either way exactly one key pair, never two. */
static void keygen_once_more(const char *fail)
{
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    CHECK_INT(open_with(fail, NULL, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(log_count("C_GenerateKeyPair"), 2);
    CHECK_INT((int)tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 1);
    CHECK_INT((int)tu_count(ctx, TOK_OBJ_PUBLIC_KEY, NULL, 0), 1);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK_INT(tu_sign_verify(key, pub, EVP_sha256()), 1);
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/retry/keygen_general_error_makes_one_key")
{
    keygen_once_more("C_GenerateKeyPair=CKR_GENERAL_ERROR@1");
}

TEST("/tok/retry/keygen_answer_lost_adopts_the_key_made")
{
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;

    CHECK_INT(
        open_with("C_GenerateKeyPair=CKR_GENERAL_ERROR@1!after", NULL, &ctx),
        PE_OK);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    /* adopted by its CKA_ID, not made again */
    CHECK_INT(log_count("C_GenerateKeyPair"), 1);
    CHECK_INT((int)tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 1);
    tok_key_free(key);
    tok_close(ctx);
}

/* The retries above are SoftHSM's (quirks.c).  Any other token's
 * CKR_GENERAL_ERROR is its answer: the PIN is sent once, and the message
 * names that call and that code. */
TEST("/tok/retry/login_general_error_is_final_on_other_tokens")
{
    struct tok_ctx *ctx = NULL;

    CHECK_INT(open_with("C_Login=CKR_GENERAL_ERROR@1", NULL, &ctx), PE_OK);
    tok_set_family(ctx, TOK_FAMILY_GENERIC);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_E_TOKEN);
    CHECK_CONTAINS(pe_detail(), "C_Login (PIN) on token \"p11e-test\" failed: "
                                "CKR_GENERAL_ERROR.");
    CHECK_INT(log_count("C_Login"), 1);
    CHECK_INT(log_count("C_Finalize"), 0);
    tok_close(ctx);
}

TEST("/tok/retry/keygen_general_error_is_final_on_other_tokens")
{
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;

    CHECK_INT(
        open_with("C_GenerateKeyPair=CKR_GENERAL_ERROR@1!after", NULL, &ctx),
        PE_OK);
    tok_set_family(ctx, TOK_FAMILY_GENERIC);
    CHECK_INT(tok_login(ctx, &pin, TOK_USER, false), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_E_TOKEN);
    CHECK_CONTAINS(pe_detail(), "Generating the key pair on token "
                                "\"p11e-test\" failed: CKR_GENERAL_ERROR.");
    CHECK(key == NULL);
    CHECK_INT(log_count("C_GenerateKeyPair"), 1);
    CHECK_INT(log_count("C_Login"), 1);
    tok_close(ctx);
}
