/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mech.c - what the token can do: the key types it can generate and sign
 * with (C_GetMechanismList/C_GetMechanismInfo) and the free object memory
 * it reports (CK_TOKEN_INFO).  Used by `p11enroll doctor`.
 */
#include <stdlib.h>

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

/* true when mech is in list and its info has flag and covers the size. */
static bool mech_ok(struct tok_ctx *ctx, const CK_MECHANISM_TYPE *list,
                    CK_ULONG count, CK_MECHANISM_TYPE mech, CK_FLAGS flag,
                    const struct mech_need *n)
{
    CK_MECHANISM_INFO mi = {0};
    CK_ULONG i;
    CK_RV rv;

    for (i = 0; i < count && list[i] != mech; i++)
        ;
    if (i == count)
        return false;
    rv = ctx->fl->C_GetMechanismInfo(ctx->slot, mech, &mi);
    if (rv != CKR_OK) {
        log_debug(LOG_CAT_PKCS11, "C_GetMechanismInfo(0x%lx): %s",
                  (unsigned long)mech, ckr_name(rv));
        return false;
    }
    log_debug(LOG_CAT_PKCS11, "mechanism 0x%lx: sizes %lu..%lu flags 0x%lx",
              (unsigned long)mech, (unsigned long)mi.ulMinKeySize,
              (unsigned long)mi.ulMaxKeySize, (unsigned long)mi.flags);
    return (mi.flags & flag) && size_covered(&mi, n);
}

bool tok_supports_keytype(struct tok_ctx *ctx, enum tok_keytype type)
{
    CK_MECHANISM_TYPE *list = NULL;
    CK_ULONG count = 0;
    struct mech_need n;
    bool ok = false;
    CK_RV rv;

    if (ctx == NULL)
        return false;
    tok_op_begin(ctx);
    need_of(type, &n);
    rv = ctx->fl->C_GetMechanismList(ctx->slot, NULL, &count);
    if (rv != CKR_OK || count == 0)
        goto out;
    list = calloc(count, sizeof(*list));
    if (list == NULL)
        goto out;
    rv = ctx->fl->C_GetMechanismList(ctx->slot, list, &count);
    if (rv != CKR_OK)
        goto out;
    ok = mech_ok(ctx, list, count, n.gen, CKF_GENERATE_KEY_PAIR, &n) &&
         mech_ok(ctx, list, count, n.sign, CKF_SIGN, &n);
out:
    if (rv != CKR_OK) {
        ctx->last_rv = rv;
        log_debug(LOG_CAT_PKCS11, "C_GetMechanismList: %s", ckr_name(rv));
    }
    log_debug(LOG_CAT_PKCS11, "key type %s: %s", tok_keytype_name(type),
              ok ? "supported" : "not supported");
    free(list);
    return ok;
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
