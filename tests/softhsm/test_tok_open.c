/* SPDX-License-Identifier: Apache-2.0 */
/* Token selection by URI and the PIN rules, against real SoftHSM tokens. */
#include <stdlib.h>
#include <string.h>

#include "tok_testutil.h"

TEST("/tok/open/by_label")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;

    fx_softhsm_begin(&fx);
    CHECK_INT(tok_open(fx.uri, fx.module, &ctx), PE_OK);
    CHECK_STR(tok_token_label(ctx), FX_LABEL);
    CHECK_STR(tok_token_manufacturer(ctx), "SoftHSM project");
    CHECK_CONTAINS(tok_token_uri(ctx), "token=p11e-test");
    CHECK_CONTAINS(tok_token_uri(ctx), "serial=");
    CHECK(strlen(tok_token_serial(ctx)) > 0);
    CHECK(tok_token_flags(ctx) & TOK_F_LOGIN_REQUIRED);
    CHECK_INT(tok_family(ctx), TOK_FAMILY_SOFTHSM);
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/open/own_uri_selects_again")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL, *ctx2 = NULL;
    char uri[512];

    fx_softhsm_begin(&fx);
    fx_softhsm_add_token(&fx, "other");
    CHECK_INT(tok_open(fx.uri, fx.module, &ctx), PE_OK);
    snprintf(uri, sizeof(uri), "%s", tok_token_uri(ctx));
    tok_close(ctx);
    CHECK_INT(tok_open(uri, fx.module, &ctx2), PE_OK);
    CHECK_STR(tok_token_label(ctx2), FX_LABEL);
    tok_close(ctx2);
    fx_softhsm_end(&fx);
}

TEST("/tok/open/unknown_uri_part_is_an_error")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;

    fx_softhsm_begin(&fx);
    CHECK_INT(tok_open("pkcs11:token=p11e-test;colour=blue", fx.module, &ctx),
              PE_E_USAGE);
    CHECK(ctx == NULL);
    CHECK_CONTAINS(pe_detail(), "does not understand");
    CHECK_INT(
        tok_open("pkcs11:token=p11e-test?pin-value=1234", fx.module, &ctx),
        PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "pin-value");
    CHECK_INT(tok_open("token=p11e-test", fx.module, &ctx), PE_E_USAGE);
    CHECK_INT(
        tok_open("pkcs11:token=p11e-test?pin-sauce=file:/x", fx.module, &ctx),
        PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "does not understand");
    fx_softhsm_end(&fx);
}

TEST("/tok/open/no_match_lists_candidates")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;

    fx_softhsm_begin(&fx);
    CHECK_INT(tok_open("pkcs11:token=nope", fx.module, &ctx),
              PE_E_TOKEN_NOT_FOUND);
    CHECK(ctx == NULL);
    CHECK_CONTAINS(pe_detail(), "No token matches pkcs11:");
    CHECK_CONTAINS(pe_detail(), "token=p11e-test");
    fx_softhsm_end(&fx);
}

TEST("/tok/open/several_matches_list_candidates")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;

    fx_softhsm_begin(&fx);
    fx_softhsm_add_token(&fx, "second");
    CHECK_INT(
        tok_open("pkcs11:manufacturer=SoftHSM%20project", fx.module, &ctx),
        PE_E_TOKEN_NOT_FOUND);
    CHECK_CONTAINS(pe_detail(), "2 tokens match");
    CHECK_CONTAINS(pe_detail(), "token=p11e-test");
    CHECK_CONTAINS(pe_detail(), "token=second");
    CHECK_INT(tok_open("pkcs11:token=second", fx.module, &ctx), PE_OK);
    CHECK_STR(tok_token_label(ctx), "second");
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/open/bad_module")
{
    struct tok_ctx *ctx = NULL;

    CHECK_INT(tok_open("pkcs11:", "/nonexistent/libnothing.so", &ctx),
              PE_E_MODULE);
    CHECK_CONTAINS(pe_detail(), "/nonexistent/libnothing.so");
    CHECK_INT(tok_open("pkcs11:", "no-such-registered-module", &ctx),
              PE_E_MODULE);
    CHECK_CONTAINS(pe_detail(), "no-such-registered-module");
}

TEST("/tok/open/module_path_in_uri")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;
    char uri[PATH_MAX + 64];

    fx_softhsm_begin(&fx);
    snprintf(uri, sizeof(uri), "pkcs11:token=p11e-test?module-path=%s",
             fx.module);
    CHECK_INT(tok_open(uri, NULL, &ctx), PE_OK);
    CHECK_STR(tok_token_label(ctx), FX_LABEL);
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/list_tokens/shows_both")
{
    struct fx_softhsm fx;
    struct tok_token_list *list = NULL;
    size_t i, seen = 0;

    fx_softhsm_begin(&fx);
    fx_softhsm_add_token(&fx, "second");
    CHECK_INT(tok_list_tokens(fx.module, &list), PE_OK);
    CHECK_INT(list->nmodules, 1);
    for (i = 0; i < list->n; i++)
        if (strcmp(list->v[i].label, FX_LABEL) == 0 ||
            strcmp(list->v[i].label, "second") == 0)
            seen++;
    CHECK_INT(seen, 2);
    CHECK_CONTAINS(list->v[0].uri, "pkcs11:");
    tok_token_list_free(list);
    fx_softhsm_end(&fx);
}

TEST("/tok/login/pin_file")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx;
    char path[PATH_MAX];

    fx_softhsm_begin(&fx);
    ctx = tu_open_login(&fx, path, sizeof(path));
    /* a second login is a no-op */
    CHECK_INT(tok_login(ctx, NULL, TOK_USER, false), PE_OK);
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/login/pin_source_from_uri")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;
    char path[PATH_MAX], uri[PATH_MAX + 64];

    fx_softhsm_begin(&fx);
    tu_pin_file(&fx, "pin", FX_USER_PIN, path, sizeof(path));
    snprintf(uri, sizeof(uri), "pkcs11:token=p11e-test?pin-source=file:%s",
             path);
    CHECK_INT(tok_open(uri, fx.module, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, NULL, TOK_USER, false), PE_OK);
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/login/env_source")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;
    struct secret_source src;

    fx_softhsm_begin(&fx);
    setenv("P11E_TEST_PIN", FX_USER_PIN, 1);
    CHECK_INT(secret_source_parse("env:P11E_TEST_PIN", &src), PE_OK);
    CHECK_INT(tok_open(fx.uri, fx.module, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, &src, TOK_USER, false), PE_OK);
    tok_close(ctx);
    unsetenv("P11E_TEST_PIN");
    fx_softhsm_end(&fx);
}

TEST("/tok/login/unattended_without_source_fails")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;

    fx_softhsm_begin(&fx);
    CHECK_INT(tok_open(fx.uri, fx.module, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, NULL, TOK_USER, false), PE_E_PIN_SOURCE);
    CHECK_CONTAINS(pe_detail(), "--pin-file");
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/login/wrong_pin_is_never_sent_again")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;
    struct secret_source bad, good;
    char p1[PATH_MAX], p2[PATH_MAX];

    fx_softhsm_begin(&fx); /* a fresh token */
    bad = tu_pin_file(&fx, "bad", "9999", p1, sizeof(p1));
    good = tu_pin_file(&fx, "good", FX_USER_PIN, p2, sizeof(p2));
    CHECK_INT(tok_open(fx.uri, fx.module, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, &bad, TOK_USER, false), PE_E_PIN_INCORRECT);
    CHECK_CONTAINS(pe_detail(), "refused the PIN");
    CHECK_INT(tok_login(ctx, &bad, TOK_USER, false), PE_E_PIN_INCORRECT);
    CHECK_CONTAINS(pe_detail(), "not sent again");
    CHECK_INT(tok_login(ctx, &good, TOK_USER, false), PE_OK);
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/login/so")
{
    struct fx_softhsm fx;
    struct tok_ctx *ctx = NULL;
    struct secret_source so;
    char p[PATH_MAX];

    fx_softhsm_begin(&fx);
    so = tu_pin_file(&fx, "so", FX_SO_PIN, p, sizeof(p));
    CHECK_INT(tok_open(fx.uri, fx.module, &ctx), PE_OK);
    CHECK_INT(tok_login(ctx, &so, TOK_SO, false), PE_OK);
    tok_close(ctx);
    fx_softhsm_end(&fx);
}

TEST("/tok/family/names")
{
    enum tok_family f;
    enum tok_keytype t;

    CHECK_INT(tok_family_parse("ykcs11", &f), PE_OK);
    CHECK_INT(f, TOK_FAMILY_YKCS11);
    CHECK_STR(tok_family_name(TOK_FAMILY_P11KIT_REMOTE), "p11kit-remote");
    CHECK_INT(tok_family_parse("softhsm", &f), PE_OK);
    CHECK_INT(f, TOK_FAMILY_SOFTHSM);
    CHECK_INT(tok_family_parse("luna", &f), PE_E_USAGE);
    CHECK_INT(tok_keytype_parse("rsa-3072", &t), PE_OK);
    CHECK_INT(t, TOK_RSA_3072);
    CHECK_STR(tok_keytype_name(TOK_EC_P384), "ec-p384");
    CHECK_INT(tok_keytype_parse("rsa-2048", &t), PE_E_USAGE);
}
