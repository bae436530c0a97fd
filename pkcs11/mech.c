/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mech.c - what the token can do: the key types it can generate and sign
 * with (C_GetMechanismList/C_GetMechanismInfo), checked before a key is
 * made, and the free object memory it reports (CK_TOKEN_INFO).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tok_int.h"

/* The mechanisms and sizes one key type needs. */
struct mech_need {
    CK_MECHANISM_TYPE gen;
    CK_MECHANISM_TYPE sign;
    unsigned long bits;
    bool ec; /* sizes may be given in bits or in bytes */
};

static void need_of(enum tok_keytype type, struct mech_need *n)
{
    switch (type) {
    case TOK_EC_P256:
    case TOK_EC_P384:
        n->gen = CKM_EC_KEY_PAIR_GEN;
        n->sign = CKM_ECDSA;
        n->bits = type == TOK_EC_P256 ? 256 : 384;
        n->ec = true;
        return;
    case TOK_RSA_3072:
    case TOK_RSA_4096:
        break;
    }
    n->gen = CKM_RSA_PKCS_KEY_PAIR_GEN;
    n->sign = CKM_RSA_PKCS;
    n->bits = type == TOK_RSA_3072 ? 3072 : 4096;
    n->ec = false;
}

/* Whether [min, max] covers the size; 0..0 means the module tells no
 * range.  EC sizes are bits for most modules, bytes for some. */
static bool size_covered(const CK_MECHANISM_INFO *mi, const struct mech_need *n)
{
    unsigned long bytes = (n->bits + 7) / 8;

    if (mi->ulMinKeySize == 0 && mi->ulMaxKeySize == 0)
        return true;
    if (mi->ulMinKeySize <= n->bits && n->bits <= mi->ulMaxKeySize)
        return true;
    return n->ec && mi->ulMinKeySize <= bytes && bytes <= mi->ulMaxKeySize;
}

/* The token's mechanism list, read once per ctx (a fixed buffer first:
 * one call for most tokens).  false when the token cannot tell. */
static bool mech_list(struct tok_ctx *ctx)
{
    CK_ULONG count = TOK_MAX_MECHS;
    CK_RV rv;

    if (ctx->nmechs > 0 || ctx->mechs_rv != CKR_OK)
        return ctx->nmechs > 0;
    rv = ctx->fl->C_GetMechanismList(ctx->slot, ctx->mechs, &count);
    log_debug(LOG_CAT_PKCS11, "C_GetMechanismList: %s, %lu mechanisms",
              ckr_name(rv), (unsigned long)count);
    if (rv == CKR_OK && count == 0)
        rv = CKR_FUNCTION_NOT_SUPPORTED; /* tells nothing */
    if (rv == CKR_OK)
        ctx->nmechs = count;
    else
        ctx->mechs_rv = rv; /* CKR_BUFFER_TOO_SMALL too: not asked again */
    return ctx->nmechs > 0;
}

static bool mech_listed(const struct tok_ctx *ctx, CK_MECHANISM_TYPE mech)
{
    CK_ULONG i;

    for (i = 0; i < ctx->nmechs; i++)
        if (ctx->mechs[i] == mech)
            return true;
    return false;
}

/* The info of a key-pair generation mechanism, read once per ctx. */
static CK_RV mech_info(struct tok_ctx *ctx, CK_MECHANISM_TYPE mech,
                       CK_MECHANISM_INFO *pmi)
{
    size_t k = mech == CKM_EC_KEY_PAIR_GEN ? 0 : 1;
    CK_RV rv;

    if (!ctx->gen_read[k]) {
        memset(&ctx->gen_info[k], 0, sizeof(ctx->gen_info[k]));
        rv = ctx->fl->C_GetMechanismInfo(ctx->slot, mech, &ctx->gen_info[k]);
        log_debug(LOG_CAT_PKCS11,
                  "C_GetMechanismInfo(0x%lx): %s, sizes %lu..%lu flags 0x%lx",
                  (unsigned long)mech, ckr_name(rv),
                  (unsigned long)ctx->gen_info[k].ulMinKeySize,
                  (unsigned long)ctx->gen_info[k].ulMaxKeySize,
                  (unsigned long)ctx->gen_info[k].flags);
        ctx->gen_rv[k] = rv;
        ctx->gen_read[k] = true;
    }
    *pmi = ctx->gen_info[k];
    return ctx->gen_rv[k];
}

/* What the token claims about type: its list names the generation and the
 * signing mechanism, and the generation mechanism's sizes cover it. */
enum keytype_claim { CLAIM_NO, CLAIM_YES, CLAIM_UNKNOWN };

static enum keytype_claim keytype_claim(struct tok_ctx *ctx,
                                        enum tok_keytype type)
{
    CK_MECHANISM_INFO mi;
    struct mech_need n;

    need_of(type, &n);
    if (!mech_list(ctx))
        return CLAIM_UNKNOWN;
    if (!mech_listed(ctx, n.gen) || !mech_listed(ctx, n.sign))
        return CLAIM_NO;
    if (mech_info(ctx, n.gen, &mi) != CKR_OK)
        return CLAIM_UNKNOWN;
    return (mi.flags & CKF_GENERATE_KEY_PAIR) && size_covered(&mi, &n)
               ? CLAIM_YES
               : CLAIM_NO;
}

static const enum tok_keytype preferred[] = {TOK_EC_P256, TOK_EC_P384,
                                             TOK_RSA_3072, TOK_RSA_4096};
#define NPREFERRED (sizeof(preferred) / sizeof(preferred[0]))

bool tok_supports_keytype(struct tok_ctx *ctx, enum tok_keytype type)
{
    bool ok;

    if (ctx == NULL)
        return false;
    ok = keytype_claim(ctx, type) == CLAIM_YES;
    log_debug(LOG_CAT_PKCS11, "key type %s: %s", tok_keytype_name(type),
              ok ? "supported" : "not supported");
    return ok;
}

enum pe_rc tok_keytype_check(struct tok_ctx *ctx, enum tok_keytype type)
{
    char can[64] = "";
    const char *first = NULL;
    size_t i, o = 0;

    if (keytype_claim(ctx, type) != CLAIM_NO)
        return PE_OK; /* a token that tells nothing is let try */
    for (i = 0; i < NPREFERRED; i++) {
        if (preferred[i] == type ||
            keytype_claim(ctx, preferred[i]) != CLAIM_YES)
            continue;
        if (first == NULL)
            first = tok_keytype_name(preferred[i]);
        o +=
            (size_t)snprintf(can + o, sizeof(can) - o, "%s%s",
                             o > 0 ? ", " : "", tok_keytype_name(preferred[i]));
    }
    if (first == NULL)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" cannot make %s keys, nor any other "
                        "key type p11enroll makes.",
                        ctx->label, tok_keytype_name(type));
    return pe_failf(PE_E_KEY,
                    "Token \"%s\" cannot make %s keys; it can make %s: "
                    "give --key-type %s.",
                    ctx->label, tok_keytype_name(type), can, first);
}

enum pe_rc tok_keytype_pick(struct tok_ctx *ctx, enum tok_keytype *ptype)
{
    size_t i;

    for (i = 0; i < NPREFERRED; i++) {
        if (keytype_claim(ctx, preferred[i]) == CLAIM_NO)
            continue;
        *ptype = preferred[i];
        return PE_OK;
    }
    return pe_failf(PE_E_KEY,
                    "Token \"%s\" can make none of the key types p11enroll "
                    "makes (ec-p256, ec-p384, rsa-3072, rsa-4096).",
                    ctx->label);
}

static unsigned long memory_value(CK_ULONG v)
{
    if (v == CK_UNAVAILABLE_INFORMATION || v == CK_EFFECTIVELY_INFINITE)
        return TOK_MEMORY_UNKNOWN;
    return (unsigned long)v;
}

enum pe_rc tok_token_memory(struct tok_ctx *ctx, unsigned long *pfree_public,
                            unsigned long *pfree_private)
{
    CK_TOKEN_INFO ti;
    CK_RV rv;

    *pfree_public = TOK_MEMORY_UNKNOWN;
    *pfree_private = TOK_MEMORY_UNKNOWN;
    tok_op_begin(ctx);
    rv = ctx->fl->C_GetTokenInfo(ctx->slot, &ti);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_GetTokenInfo");
    *pfree_public = memory_value(ti.ulFreePublicMemory);
    *pfree_private = memory_value(ti.ulFreePrivateMemory);
    return PE_OK;
}
