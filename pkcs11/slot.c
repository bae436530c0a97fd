/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slot.c - RFC 7512 pkcs11: URIs: parse strictly, select exactly one token,
 * format token and object URIs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tok_int.h"

void tok_copy_padded(char *dst, size_t dstsize, const CK_UTF8CHAR *src,
                     size_t srclen)
{
    size_t n = p11_kit_space_strlen(src, srclen);

    if (n >= dstsize)
        n = dstsize - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* p11-kit keeps unknown query attributes as vendor queries; we refuse
 * them: a misspelt pin-source must not silently fall back to a prompt. */
static bool query_known(const char *str)
{
    static const char *const known[] = {"pin-source", "pin-value",
                                        "module-name", "module-path"};
    const char *q = strchr(str, '?'), *end, *eq;
    size_t i, n;
    bool ok;

    if (q == NULL)
        return true;
    for (q++; *q != '\0'; q = *end != '\0' ? end + 1 : end) {
        end = q + strcspn(q, "&");
        eq = memchr(q, '=', (size_t)(end - q));
        n = (size_t)((eq != NULL ? eq : end) - q);
        ok = false;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strlen(known[i]) == n && strncmp(q, known[i], n) == 0)
                ok = true;
        if (!ok && n > 0)
            return false;
    }
    return true;
}

enum pe_rc tok_uri_parse(const char *str, P11KitUri **puri)
{
    P11KitUri *uri;
    int r;

    *puri = NULL;
    uri = p11_kit_uri_new();
    if (uri == NULL)
        return PE_E_NOMEM;
    if (str == NULL || str[0] == '\0')
        str = "pkcs11:";
    r = p11_kit_uri_parse(str, P11_KIT_URI_FOR_ANY, uri);
    if (r != P11_KIT_URI_OK) {
        p11_kit_uri_free(uri);
        return pe_failf(PE_E_USAGE, "\"%s\" is not a valid pkcs11: URI: %s.",
                        str, p11_kit_uri_message(r));
    }
    if (p11_kit_uri_any_unrecognized(uri) || !query_known(str)) {
        p11_kit_uri_free(uri);
        return pe_failf(PE_E_USAGE,
                        "The URI \"%s\" has parts p11enroll does not "
                        "understand; it takes token, manufacturer, serial, "
                        "model, slot-id, slot-description, "
                        "slot-manufacturer, library-*, id, object, type, "
                        "module-name, module-path and pin-source.",
                        str);
    }
    if (p11_kit_uri_get_pin_value(uri) != NULL) {
        p11_kit_uri_free(uri);
        return pe_failf(PE_E_USAGE,
                        "The URI carries pin-value, which would put the PIN "
                        "on the command line; use pin-source or --pin-file "
                        "instead.");
    }
    *puri = uri;
    return PE_OK;
}

char *tok_format_token_uri(const CK_TOKEN_INFO *ti)
{
    P11KitUri *uri = p11_kit_uri_new();
    char *s = NULL;

    if (uri == NULL)
        return NULL;
    memcpy(p11_kit_uri_get_token_info(uri), ti, sizeof(*ti));
    if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_TOKEN, &s) != P11_KIT_URI_OK)
        s = NULL;
    p11_kit_uri_free(uri);
    return s;
}

char *tok_format_object_uri(const struct tok_ctx *ctx, CK_OBJECT_CLASS cls,
                            const unsigned char *id, size_t idlen,
                            const char *label)
{
    P11KitUri *uri = p11_kit_uri_new();
    CK_ATTRIBUTE a;
    char *s = NULL;

    if (uri == NULL)
        return NULL;
    memcpy(p11_kit_uri_get_token_info(uri), &ctx->tinfo, sizeof(ctx->tinfo));
    a.type = CKA_CLASS;
    a.pValue = &cls;
    a.ulValueLen = sizeof(cls);
    p11_kit_uri_set_attribute(uri, &a);
    if (idlen > 0) {
        a.type = CKA_ID;
        a.pValue = (void *)(uintptr_t)id;
        a.ulValueLen = idlen;
        p11_kit_uri_set_attribute(uri, &a);
    }
    if (label != NULL && label[0] != '\0') {
        a.type = CKA_LABEL;
        a.pValue = (void *)(uintptr_t)label;
        a.ulValueLen = strlen(label);
        p11_kit_uri_set_attribute(uri, &a);
    }
    if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &s) !=
        P11_KIT_URI_OK)
        s = NULL;
    p11_kit_uri_free(uri);
    return s;
}

/* Append "uri" to a candidate list in buf (bounded; "..." when full). */
static void cand_add(char *buf, size_t size, const char *uri)
{
    size_t len = strlen(buf);

    if (len + strlen(uri) + 8 >= size) {
        if (len + 5 < size && strstr(buf, " ...") == NULL)
            strcat(buf, " ...");
        return;
    }
    snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "", uri);
}

static bool same_token(const CK_TOKEN_INFO *a, const CK_TOKEN_INFO *b)
{
    return memcmp(a->label, b->label, sizeof(a->label)) == 0 &&
           memcmp(a->serialNumber, b->serialNumber, sizeof(a->serialNumber)) ==
               0 &&
           memcmp(a->manufacturerID, b->manufacturerID,
                  sizeof(a->manufacturerID)) == 0 &&
           memcmp(a->model, b->model, sizeof(a->model)) == 0;
}

struct match {
    struct tok_mod *mod;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO ti;
    CK_INFO mi;      /* of mod */
    size_t n;        /* matches */
    size_t ntokens;  /* tokens seen */
    size_t nodd;     /* slots unreadable or tokens without label+serial */
    size_t ntrust;   /* p11-kit trust store tokens, passed over */
    char cands[640]; /* URIs of every token seen */
};

static void match_module(struct tok_ctx *ctx, struct tok_mod *m, bool want_same,
                         struct match *mt)
{
    CK_SLOT_ID slots[64], want_slot;
    CK_ULONG n = 64, i;
    CK_INFO mi;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_RV rv;
    char *u;

    if (m->fl->C_GetInfo(&mi) != CKR_OK)
        memset(&mi, 0, sizeof(mi));
    else if (!want_same && !p11_kit_uri_match_module_info(ctx->uri, &mi))
        return;
    rv = m->fl->C_GetSlotList(CK_TRUE, slots, &n);
    log_debug(LOG_CAT_PKCS11, "C_GetSlotList %s: %s, %lu slots", m->name,
              ckr_name(rv), (unsigned long)n);
    if (rv != CKR_OK)
        return;
    want_slot = p11_kit_uri_get_slot_id(ctx->uri);
    for (i = 0; i < n; i++) {
        /* an uninitialised token (SoftHSM's free slot) is no candidate */
        rv = m->fl->C_GetTokenInfo(slots[i], &ti);
        if (rv != CKR_OK) {
            log_debug(LOG_CAT_PKCS11, "C_GetTokenInfo slot %lu: %s",
                      (unsigned long)slots[i], ckr_name(rv));
            mt->nodd++;
            continue;
        }
        if (!(ti.flags & CKF_TOKEN_INITIALIZED))
            continue;
        /* CA certificates only: no key is ever made or found there */
        if (tok_is_trust_store(m->path != NULL ? m->path : m->name, &mi, &ti)) {
            mt->ntrust++;
            continue;
        }
        mt->ntokens++;
        /* SoftHSM shows a token it is rewriting without label and serial */
        if (p11_kit_space_strlen(ti.label, sizeof(ti.label)) == 0 &&
            p11_kit_space_strlen(ti.serialNumber, sizeof(ti.serialNumber)) == 0)
            mt->nodd++;
        u = tok_format_token_uri(&ti);
        if (u != NULL)
            cand_add(mt->cands, sizeof(mt->cands), u);
        free(u);
        if (want_same) {
            if (!same_token(&ti, &ctx->tinfo))
                continue;
        } else {
            if (!p11_kit_uri_match_token_info(ctx->uri, &ti))
                continue;
            if (want_slot != (CK_SLOT_ID)-1 && want_slot != slots[i])
                continue;
            if (m->fl->C_GetSlotInfo(slots[i], &si) == CKR_OK &&
                !p11_kit_uri_match_slot_info(ctx->uri, &si))
                continue;
        }
        if (mt->n++ == 0) {
            mt->mod = m;
            mt->slot = slots[i];
            mt->ti = ti;
            mt->mi = mi;
        }
    }
}

static enum pe_rc not_found(struct tok_ctx *ctx, const struct match *mt)
{
    char *want = NULL;
    enum pe_rc rc;

    if (p11_kit_uri_format(ctx->uri, P11_KIT_URI_FOR_TOKEN, &want) !=
        P11_KIT_URI_OK)
        want = NULL;
    if (mt->ntokens == 0 && mt->ntrust > 0)
        rc = pe_failf(PE_E_TOKEN_NOT_FOUND,
                      "No token that can hold keys is present; the only "
                      "one is p11-kit's trust store (CA certificates, no "
                      "keys).");
    else if (mt->ntokens == 0)
        rc = pe_failf(PE_E_TOKEN_NOT_FOUND,
                      "No token is present%s%s (no slot of the module%s "
                      "shows a token; a network HSM or p11-kit server may "
                      "be unreachable).",
                      ctx->mods->n == 1 ? " in " : "",
                      ctx->mods->n == 1 ? ctx->mods->v[0].name : "",
                      ctx->mods->n == 1 ? "" : "s");
    else if (mt->n == 0)
        rc = pe_failf(PE_E_TOKEN_NOT_FOUND,
                      "No token matches %s; tokens present: %s.",
                      want ? want : "the URI", mt->cands);
    else
        rc = pe_failf(PE_E_TOKEN_NOT_FOUND,
                      "%zu tokens match %s; name one with token= or "
                      "serial=: %s.",
                      mt->n, want ? want : "the URI", mt->cands);
    free(want);
    return rc;
}

enum pe_rc tok_slot_select(struct tok_ctx *ctx, bool want_same)
{
    struct match *mt;
    enum pe_rc rc;
    size_t i;

    mt = calloc(1, sizeof(*mt));
    if (mt == NULL)
        return PE_E_NOMEM;
    for (i = 0; i < ctx->mods->n; i++)
        if (ctx->mods->v[i].inited &&
            (!want_same || &ctx->mods->v[i] == ctx->mod))
            match_module(ctx, &ctx->mods->v[i], want_same, mt);
    ctx->nmatched = mt->n;
    ctx->select_unsure = mt->ntokens == 0 || mt->nodd > 0;
    if (mt->n != 1) {
        rc = not_found(ctx, mt);
        goto out;
    }
    ctx->mod = mt->mod;
    ctx->fl = mt->mod->fl;
    ctx->slot = mt->slot;
    ctx->tinfo = mt->ti;
    ctx->minfo = mt->mi;
    tok_copy_padded(ctx->label, sizeof(ctx->label), mt->ti.label,
                    sizeof(mt->ti.label));
    tok_copy_padded(ctx->serial, sizeof(ctx->serial), mt->ti.serialNumber,
                    sizeof(mt->ti.serialNumber));
    tok_copy_padded(ctx->manufacturer, sizeof(ctx->manufacturer),
                    mt->ti.manufacturerID, sizeof(mt->ti.manufacturerID));
    tok_copy_padded(ctx->model, sizeof(ctx->model), mt->ti.model,
                    sizeof(mt->ti.model));
    free(ctx->token_uri);
    ctx->token_uri = tok_format_token_uri(&mt->ti);
    rc = ctx->token_uri != NULL ? PE_OK : PE_E_NOMEM;
out:
    free(mt);
    return rc;
}

const char *tok_token_uri(const struct tok_ctx *ctx)
{
    return ctx->token_uri != NULL ? ctx->token_uri : "";
}

const char *tok_token_label(const struct tok_ctx *ctx)
{
    return ctx->label;
}

const char *tok_token_serial(const struct tok_ctx *ctx)
{
    return ctx->serial;
}

const char *tok_token_manufacturer(const struct tok_ctx *ctx)
{
    return ctx->manufacturer;
}

const char *tok_token_model(const struct tok_ctx *ctx)
{
    return ctx->model;
}

unsigned long tok_token_flags(struct tok_ctx *ctx)
{
    CK_TOKEN_INFO ti;
    CK_RV rv;

    rv = ctx->fl->C_GetTokenInfo(ctx->slot, &ti);
    if (rv == CKR_OK)
        ctx->tinfo.flags = ti.flags;
    else
        log_debug(LOG_CAT_PKCS11, "C_GetTokenInfo: %s", ckr_name(rv));
    return ctx->tinfo.flags;
}

unsigned long tok_flags_after_refusal(struct tok_ctx *ctx)
{
    CK_TOKEN_INFO ti;
    CK_RV rv;

    rv = ctx->fl->C_GetTokenInfo(ctx->slot, &ti);
    if (rv != CKR_OK) {
        log_debug(LOG_CAT_PKCS11, "C_GetTokenInfo: %s", ckr_name(rv));
        return ctx->tinfo.flags | TOK_F_USER_PIN_FINAL_TRY |
               TOK_F_SO_PIN_FINAL_TRY;
    }
    ctx->tinfo.flags = ti.flags;
    return ti.flags;
}

static const struct {
    unsigned long flag;
    const char *name;
} flag_names[] = {
    {TOK_F_RNG, "rng"},
    {TOK_F_WRITE_PROTECTED, "write-protected"},
    {TOK_F_LOGIN_REQUIRED, "login-required"},
    {TOK_F_USER_PIN_INITIALIZED, "user-pin-initialized"},
    {TOK_F_PROTECTED_AUTH_PATH, "protected-auth-path"},
    {TOK_F_TOKEN_INITIALIZED, "token-initialized"},
    {TOK_F_USER_PIN_COUNT_LOW, "user-pin-count-low"},
    {TOK_F_USER_PIN_FINAL_TRY, "user-pin-final-try"},
    {TOK_F_USER_PIN_LOCKED, "user-pin-locked"},
    {TOK_F_USER_PIN_TO_BE_CHANGED, "user-pin-to-be-changed"},
    {TOK_F_SO_PIN_COUNT_LOW, "so-pin-count-low"},
    {TOK_F_SO_PIN_FINAL_TRY, "so-pin-final-try"},
    {TOK_F_SO_PIN_LOCKED, "so-pin-locked"},
};

const char *tok_flags_str(unsigned long flags, char *buf, size_t size)
{
    size_t i, len = 0;
    int n;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if ((flags & flag_names[i].flag) == 0)
            continue;
        n = snprintf(buf + len, size - len, "%s%s", len > 0 ? "," : "",
                     flag_names[i].name);
        if (n < 0 || (size_t)n >= size - len)
            break;
        len += (size_t)n;
    }
    return buf;
}
