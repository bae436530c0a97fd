/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session.c - open a token, the session, login and the PIN-safety policy,
 * and recovery from a dropped device (re-init, re-find, re-login).
 *
 * PIN rules: token flags are read before every login; a locked
 * PIN is never tried; a final try is never used by an unattended run; a
 * PIN the token refused is never sent again by this process (we remember
 * its SHA-256, not the PIN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "log.h"
#include "tok_int.h"

/*
 * Bounded backoff for SoftHSM's concurrent-writer race (quirks.c,
 * transient_retry): a process that starts or logs in while another
 * rewrites token.object sees no token, a blank one, or gets
 * CKR_GENERAL_ERROR.  We wait at most
 * TOK_RETRY_BUDGET_MS in all per step, in growing, jittered pauses (a
 * fleet started at once must not retry in lockstep).  A selection that saw
 * only well-formed tokens and none matched is most likely a real mismatch:
 * it gets the short budget.  The first retries ask again; later ones
 * re-initialise the module first (it may hold a stale view of the token).
 */
#define TOK_RETRY_BUDGET_MS    2000
#define TOK_RETRY_SHORT_MS     400
#define TOK_RETRY_FIRST_MS     20
#define TOK_RETRY_MAX_MS       400
#define TOK_RETRY_REINIT_AFTER 2 /* plain retries before a re-init */

/* Sleep the next pause unless budget_ms is used up; false when it is. */
static bool backoff_wait(struct tok_backoff *b, unsigned budget_ms)
{
    static unsigned seed;
    unsigned pause;

    if (b->waited_ms >= budget_ms)
        return false;
    if (seed == 0)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ 0x9e3779b9U;
    pause = TOK_RETRY_FIRST_MS << (b->attempt < 5 ? b->attempt : 5);
    if (pause > TOK_RETRY_MAX_MS)
        pause = TOK_RETRY_MAX_MS;
    pause = pause / 2 + (unsigned)rand_r(&seed) % (pause / 2 + 1);
    if (pause > budget_ms - b->waited_ms)
        pause = budget_ms - b->waited_ms;
    b->attempt++;
    b->waited_ms += pause;
    log_debug(LOG_CAT_PKCS11, "retry %u in %u ms (%u ms waited)", b->attempt,
              pause, b->waited_ms);
    usleep((useconds_t)pause * 1000U);
    return true;
}

/* Failures SoftHSM gives while another process rewrites the token: not a
 * verdict of the token (never a PIN refusal; a half-read token.object
 * also looks as if it had no user PIN), so worth another try there.  On
 * any other token CKR_GENERAL_ERROR is the token's answer: the first
 * failing call is what the user is told, and a PIN is never sent again
 * (a real card may have counted the try). */
static bool transient_rv(const struct tok_ctx *ctx, CK_RV rv)
{
    if (!tok_quirks(ctx)->transient_retry)
        return false;
    return rv == CKR_GENERAL_ERROR || rv == CKR_SLOT_ID_INVALID ||
           rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED ||
           rv == CKR_USER_PIN_NOT_INITIALIZED;
}

enum pe_rc tok_ckfail(struct tok_ctx *ctx, CK_RV rv, const char *what)
{
    if (ctx != NULL)
        ctx->last_rv = rv;
    log_debug(LOG_CAT_PKCS11, "%s: %s", what, ckr_name(rv));
    return pe_failf(ckr_rc(rv), "%s on token \"%s\" failed: %s.", what,
                    ctx != NULL ? ctx->label : "?", ckr_name(rv));
}

void tok_op_begin(struct tok_ctx *ctx)
{
    ctx->last_rv = CKR_OK;
}

static enum pe_rc open_session(struct tok_ctx *ctx)
{
    CK_RV rv;

    /* Always RW: ykcs11 refuses SO login while a RO session exists and
     * CloudHSM SDK 5 has no RO sessions. */
    rv = ctx->fl->C_OpenSession(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                NULL, NULL, &ctx->sess);
    log_debug(LOG_CAT_PKCS11, "C_OpenSession slot %lu: %s",
              (unsigned long)ctx->slot, ckr_name(rv));
    if (rv != CKR_OK) {
        ctx->sess = CK_INVALID_HANDLE;
        return tok_ckfail(ctx, rv, "C_OpenSession");
    }
    return PE_OK;
}

/*
 * Select the token; when none matches, re-initialise and look again with a
 * bounded backoff: SoftHSM misses a token while another process rewrites
 * it (the family is not known before the token is found), a restarted network
 * HSM or p11-kit server needs a moment.  A token that is really absent fails
 * with the same sentence, after the wait.
 */
static enum pe_rc select_retry(struct tok_ctx *ctx, bool same)
{
    struct tok_backoff b = {0, 0};
    enum pe_rc rc;
    size_t i;

    for (;;) {
        rc = tok_slot_select(ctx, same);
        if (rc != PE_E_TOKEN_NOT_FOUND || ctx->nmatched != 0)
            return rc;
        if (!backoff_wait(&b, ctx->select_unsure ? TOK_RETRY_BUDGET_MS
                                                 : TOK_RETRY_SHORT_MS))
            return rc;
        log_debug(LOG_CAT_PKCS11, "no token matched; looking again");
        if (b.attempt < TOK_RETRY_REINIT_AFTER)
            continue;
        for (i = 0; i < ctx->mods->n; i++) {
            if (same && &ctx->mods->v[i] != ctx->mod)
                continue;
            if (ctx->mods->v[i].inited || same) {
                rc = tok_mod_reinit(&ctx->mods->v[i]);
                if (rc != PE_OK)
                    return rc;
            }
        }
    }
}

/* Close the session, re-initialise the token's module, find the token
 * again and open a new session (no login).  same: the very token seen
 * before (a recovery mid-work); else the URI's (before the login nothing
 * is tied to the token yet, and the first look may have caught SoftHSM's
 * token info half-written: a serial that is not the one read now). */
static enum pe_rc reopen(struct tok_ctx *ctx, bool same)
{
    enum pe_rc rc;
    CK_RV rv;

    if (ctx->sess != CK_INVALID_HANDLE) {
        rv = ctx->fl->C_CloseSession(ctx->sess);
        log_debug(LOG_CAT_PKCS11, "C_CloseSession: %s", ckr_name(rv));
        ctx->sess = CK_INVALID_HANDLE;
    }
    ctx->generation++;
    rc = tok_mod_reinit(ctx->mod);
    if (rc != PE_OK)
        return rc;
    rc = select_retry(ctx, same);
    if (rc != PE_OK)
        return rc;
    return open_session(ctx);
}

/* Open the session; on a transient failure find the token again and
 * retry within the budget. */
static enum pe_rc open_session_retry(struct tok_ctx *ctx)
{
    struct tok_backoff b = {0, 0};
    enum pe_rc rc;

    rc = open_session(ctx);
    while (rc != PE_OK && transient_rv(ctx, ctx->last_rv) &&
           backoff_wait(&b, TOK_RETRY_BUDGET_MS)) {
        log_debug(LOG_CAT_PKCS11, "C_OpenSession: trying again");
        rc = b.attempt < TOK_RETRY_REINIT_AFTER ? open_session(ctx)
                                                : reopen(ctx, false);
    }
    return rc;
}

enum pe_rc tok_open(const char *uri, const char *module, struct tok_ctx **pctx)
{
    struct tok_ctx *ctx;
    const char *ps;
    enum pe_rc rc;

    *pctx = NULL;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return PE_E_NOMEM;
    ctx->sess = CK_INVALID_HANDLE;
    rc = tok_uri_parse(uri, &ctx->uri);
    if (rc != PE_OK)
        goto out;
    ps = p11_kit_uri_get_pin_source(ctx->uri);
    if (ps != NULL) {
        ctx->uri_pin_source = strdup(ps);
        if (ctx->uri_pin_source == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
    }
    rc = tok_modset_load(module, ctx->uri, &ctx->mods);
    if (rc != PE_OK)
        goto out;
    rc = select_retry(ctx, false);
    if (rc != PE_OK)
        goto out;
    ctx->family =
        tok_detect_family(ctx->mod->path ? ctx->mod->path : ctx->mod->name,
                          &ctx->minfo, &ctx->tinfo);
    log_debug(LOG_CAT_PKCS11, "token %s in %s, family %s", ctx->token_uri,
              ctx->mod->name, tok_family_name(ctx->family));
    rc = open_session_retry(ctx);
    if (rc != PE_OK)
        goto out;
    *pctx = ctx;
    ctx = NULL;
    rc = PE_OK;
out:
    tok_close(ctx);
    return rc;
}

void tok_close(struct tok_ctx *ctx)
{
    CK_RV rv;

    if (ctx == NULL)
        return;
    if (ctx->sess != CK_INVALID_HANDLE) {
        if (ctx->logged_in) {
            rv = ctx->fl->C_Logout(ctx->sess);
            log_debug(LOG_CAT_PKCS11, "C_Logout: %s", ckr_name(rv));
        }
        rv = ctx->fl->C_CloseSession(ctx->sess);
        log_debug(LOG_CAT_PKCS11, "C_CloseSession: %s", ckr_name(rv));
    }
    tok_modset_free(ctx->mods);
    if (ctx->uri != NULL)
        p11_kit_uri_free(ctx->uri);
    free(ctx->uri_pin_source);
    free(ctx->token_uri);
    secret_free(ctx->login_pin);
    secret_free(ctx->ctxpin);
    OPENSSL_cleanse(ctx->refused, sizeof(ctx->refused));
    free(ctx);
}

/* ---- login ------------------------------------------------------------- */

static void pin_digest(const struct secret *pin, unsigned char out[32])
{
    SHA256((const unsigned char *)pin->buf, pin->len, out);
}

static bool was_refused(const struct tok_ctx *ctx, const struct secret *pin)
{
    unsigned char d[32];
    size_t i;
    bool hit = false;

    if (pin->buf == NULL)
        return false;
    pin_digest(pin, d);
    for (i = 0; i < ctx->nrefused; i++)
        if (CRYPTO_memcmp(d, ctx->refused[i], sizeof(d)) == 0)
            hit = true;
    OPENSSL_cleanse(d, sizeof(d));
    return hit;
}

static void remember_refused(struct tok_ctx *ctx, const struct secret *pin)
{
    if (pin->buf == NULL || ctx->nrefused >= TOK_MAX_REFUSED)
        return;
    pin_digest(pin, ctx->refused[ctx->nrefused++]);
}

/* Check the flags before any PIN is sent. */
static enum pe_rc check_flags(struct tok_ctx *ctx, enum tok_user user,
                              bool interactive, unsigned long f)
{
    unsigned long locked, final, low;
    const char *who = user == TOK_SO ? "SO PIN" : "PIN";

    locked = user == TOK_SO ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
    final = user == TOK_SO ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
    low = user == TOK_SO ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;
    if (f & locked)
        return pe_failf(PE_E_PIN_LOCKED,
                        "The %s of token \"%s\" is locked; unlock it "
                        "with the token's own tools.",
                        who, ctx->label);
    if ((f & final) && !interactive)
        return pe_failf(PE_E_PIN_LOCKED,
                        "Token \"%s\" allows only one more %s try; an "
                        "unattended run does not risk it (log in "
                        "interactively once).",
                        ctx->label, who);
    if (f & final)
        say("Careful: token \"%s\" allows only ONE more %s try before it "
            "locks.",
            ctx->label, who);
    else if (f & low)
        say("Token \"%s\" reports that few %s tries are left.", ctx->label,
            who);
    return PE_OK;
}

/* Pick the source: explicit, the URI's pin-source, pinpad, a prompt. */
static enum pe_rc pick_source(struct tok_ctx *ctx,
                              const struct secret_source *pin, bool interactive,
                              struct secret_source *psrc)
{
    enum pe_rc rc;

    if (pin != NULL && pin->kind != SECRET_NONE) {
        *psrc = *pin;
    } else if (ctx->uri_pin_source != NULL) {
        rc = secret_source_parse(ctx->uri_pin_source, psrc);
        if (rc != PE_OK)
            return rc;
    } else if (ctx->tinfo.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        memset(psrc, 0, sizeof(*psrc));
        psrc->kind = SECRET_PINPAD;
    } else if (interactive) {
        memset(psrc, 0, sizeof(*psrc));
        psrc->kind = SECRET_PROMPT;
    } else {
        return pe_failf(PE_E_PIN_SOURCE,
                        "No PIN source for token \"%s\" in an unattended "
                        "run; give --pin-file, --pin-fd, --pin-env or "
                        "pin-source in the URI.",
                        ctx->label);
    }
    if (psrc->kind == SECRET_PINPAD &&
        !(ctx->tinfo.flags & CKF_PROTECTED_AUTHENTICATION_PATH))
        return pe_failf(PE_E_USAGE,
                        "Token \"%s\" has no PIN pad "
                        "(protected authentication path).",
                        ctx->label);
    return PE_OK;
}

static enum pe_rc do_login(struct tok_ctx *ctx, CK_USER_TYPE ut,
                           const struct secret *pin, const char *who)
{
    CK_RV rv;
    CK_TOKEN_INFO ti;
    char what[64];

    rv = ctx->fl->C_Login(ctx->sess, ut, (CK_UTF8CHAR_PTR)pin->buf,
                          pin->buf != NULL ? (CK_ULONG)pin->len : 0);
    log_debug(LOG_CAT_PKCS11, "C_Login user=%lu pin=*** %s", (unsigned long)ut,
              ckr_name(rv));
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return PE_OK;
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
        rv == CKR_PIN_LEN_RANGE) {
        ctx->last_rv = rv;
        if (ut != CKU_CONTEXT_SPECIFIC)
            remember_refused(ctx, pin);
        ti.flags = 0;
        if (ctx->fl->C_GetTokenInfo(ctx->slot, &ti) == CKR_OK)
            ctx->tinfo.flags = ti.flags;
        return pe_failf(
            PE_E_PIN_INCORRECT,
            "Token \"%s\" refused the %s (%s)%s; it will not "
            "be tried again.",
            ctx->label, who, ckr_name(rv),
            (ti.flags & (CKF_USER_PIN_LOCKED | CKF_SO_PIN_LOCKED))
                ? " and is now locked"
            : (ti.flags & (CKF_USER_PIN_FINAL_TRY | CKF_SO_PIN_FINAL_TRY))
                ? "; one try is left"
                : "");
    }
    if (rv == CKR_PIN_LOCKED) {
        ctx->last_rv = rv;
        return pe_failf(PE_E_PIN_LOCKED, "The %s of token \"%s\" is locked.",
                        who, ctx->label);
    }
    snprintf(what, sizeof(what), "C_Login (%s)", who);
    return tok_ckfail(ctx, rv, what);
}

/* flags: the token's, read just now by the caller, or FLAGS_UNREAD. */
#define FLAGS_UNREAD ((unsigned long)-1)

/* One login; *pkind: where a PIN read now came from. */
static enum pe_rc login_once(struct tok_ctx *ctx,
                             const struct secret_source *pin,
                             enum tok_user user, bool interactive,
                             struct secret **psecret, unsigned long flags,
                             enum secret_kind *pkind)
{
    struct secret_source src;
    char prompt[96];
    const char *who = user == TOK_SO ? "SO PIN" : "PIN";
    enum pe_rc rc;

    rc = check_flags(ctx, user, interactive,
                     flags != FLAGS_UNREAD ? flags : tok_token_flags(ctx));
    if (rc != PE_OK)
        return rc;
    if (*psecret == NULL) {
        rc = pick_source(ctx, pin, interactive, &src);
        if (rc != PE_OK)
            return rc;
        if (src.kind == SECRET_PROMPT && src.prompt == NULL) {
            snprintf(prompt, sizeof(prompt), "%s for token \"%s\"", who,
                     ctx->label);
            src.prompt = prompt;
        }
        if (src.kind == SECRET_PINPAD)
            say("Enter the %s on the PIN pad of token \"%s\".", who,
                ctx->label);
        *pkind = src.kind;
        rc = secret_read(&src, false, psecret);
        if (rc != PE_OK)
            return rc;
    }
    if (was_refused(ctx, *psecret))
        return pe_failf(PE_E_PIN_INCORRECT,
                        "Token \"%s\" refused this %s before; it is not "
                        "sent again.",
                        ctx->label, who);
    return do_login(ctx, user == TOK_SO ? CKU_SO : CKU_USER, *psecret, who);
}

bool tok_pin_ask_again(enum secret_kind kind, enum tok_user user,
                       unsigned long flags, int asked)
{
    unsigned long stop = user == TOK_SO
                             ? TOK_F_SO_PIN_LOCKED | TOK_F_SO_PIN_FINAL_TRY
                             : TOK_F_USER_PIN_LOCKED | TOK_F_USER_PIN_FINAL_TRY;

    return kind == SECRET_PROMPT && asked < TOK_PIN_PROMPTS &&
           (flags & stop) == 0;
}

/* The login of tok_login, with its retries of a PIN read once. */
static enum pe_rc login_retried(struct tok_ctx *ctx,
                                const struct secret_source *pin,
                                enum tok_user user, bool interactive,
                                struct secret **psecret, unsigned long flags,
                                enum secret_kind *pkind)
{
    struct tok_backoff b = {0, 0};
    enum pe_rc rc;

    rc = login_once(ctx, pin, user, interactive, psecret, flags, pkind);
    /* On SoftHSM only (transient_rv), CKR_GENERAL_ERROR & co. are no
     * verdict on the PIN (a refusal is CKR_PIN_INCORRECT, final): it gives
     * them while another process rewrites the token, and counts no tries.
     * The same PIN (read once) goes again, in the same session first, then
     * through a re-initialised module. */
    while (rc != PE_OK && rc != PE_E_PIN_INCORRECT && rc != PE_E_PIN_LOCKED &&
           *psecret != NULL && transient_rv(ctx, ctx->last_rv) &&
           backoff_wait(&b, TOK_RETRY_BUDGET_MS)) {
        log_debug(LOG_CAT_PKCS11, "login: trying again");
        if (b.attempt >= TOK_RETRY_REINIT_AFTER) {
            rc = reopen(ctx, false);
            if (rc != PE_OK)
                break;
        }
        rc = login_once(ctx, pin, user, interactive, psecret, FLAGS_UNREAD,
                        pkind);
    }
    if (rc != PE_OK && rc != PE_E_PIN_INCORRECT && rc != PE_E_PIN_LOCKED &&
        tok_recover_once(ctx))
        rc = login_once(ctx, pin, user, interactive, psecret, FLAGS_UNREAD,
                        pkind);
    return rc;
}

enum pe_rc tok_login(struct tok_ctx *ctx, const struct secret_source *pin,
                     enum tok_user user, bool interactive)
{
    struct secret *secret = NULL;
    enum secret_kind kind = SECRET_NONE;
    unsigned long flags;
    int asked = 1;
    enum pe_rc rc;

    if (ctx->logged_in && ctx->user == user)
        return PE_OK;
    tok_op_begin(ctx);
    flags = tok_token_flags(ctx);
    if (user == TOK_USER && !(flags & CKF_LOGIN_REQUIRED)) {
        log_debug(LOG_CAT_PKCS11, "token needs no login");
        return PE_OK;
    }
    ctx->interactive = interactive;
    rc = login_retried(ctx, pin, user, interactive, &secret, flags, &kind);
    /* a mistyped PIN is typed again, while that cannot lock the token */
    while (rc == PE_E_PIN_INCORRECT &&
           tok_pin_ask_again(kind, user, tok_flags_after_refusal(ctx), asked)) {
        say("Token \"%s\" refused that %s; type it again (%d of %d).",
            ctx->label, user == TOK_SO ? "SO PIN" : "PIN", asked + 1,
            TOK_PIN_PROMPTS);
        secret_free(secret);
        secret = NULL;
        asked++;
        rc = login_retried(ctx, pin, user, interactive, &secret, FLAGS_UNREAD,
                           &kind);
    }
    if (rc != PE_OK) {
        secret_free(secret);
        return rc;
    }
    /* Kept (wiped at tok_close) for context-specific logins and to log in
     * again after a network HSM dropped. */
    secret_free(ctx->login_pin);
    ctx->login_pin = secret;
    ctx->pinpad = secret->buf == NULL;
    ctx->logged_in = true;
    ctx->user = user;
    return PE_OK;
}

void tok_set_context_pin(struct tok_ctx *ctx, const struct secret_source *pin)
{
    ctx->ctxpin_src = pin;
}

enum pe_rc tok_context_login(struct tok_ctx *ctx)
{
    const struct secret *pin = NULL;
    struct secret pad = {NULL, 0};
    enum pe_rc rc;

    if (ctx->logged_in && ctx->user == TOK_USER && ctx->login_pin != NULL) {
        pin = ctx->login_pin;
    } else if (ctx->ctxpin != NULL) {
        pin = ctx->ctxpin;
    } else if (ctx->ctxpin_src != NULL) {
        rc = secret_read(ctx->ctxpin_src, false, &ctx->ctxpin);
        if (rc != PE_OK)
            return rc;
        pin = ctx->ctxpin;
    } else if (ctx->tinfo.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        pin = &pad;
    } else if (ctx->interactive) {
        struct secret_source ask;
        char prompt[96];

        memset(&ask, 0, sizeof(ask));
        ask.kind = SECRET_PROMPT;
        snprintf(prompt, sizeof(prompt), "User PIN for the key on \"%s\"",
                 ctx->label);
        ask.prompt = prompt;
        rc = secret_read(&ask, false, &ctx->ctxpin);
        if (rc != PE_OK)
            return rc;
        pin = ctx->ctxpin;
    } else {
        return pe_failf(PE_E_PIN_SOURCE,
                        "The key needs the user PIN for every signature, "
                        "but no user PIN is known in this session (give "
                        "--pin-file or another PIN source with the SO "
                        "PIN).");
    }
    if (was_refused(ctx, pin))
        return pe_failf(PE_E_PIN_INCORRECT,
                        "Token \"%s\" refused this PIN before; it is not "
                        "sent again.",
                        ctx->label);
    rc = do_login(ctx, CKU_CONTEXT_SPECIFIC, pin, "PIN");
    if (rc == PE_E_PIN_INCORRECT && pin != &pad) {
        struct secret *s = ctx->ctxpin;

        /* remember it now that the operation is over */
        remember_refused(ctx, pin);
        if (s == pin) {
            ctx->ctxpin = NULL;
            secret_free(s);
        }
    }
    return rc;
}

enum pe_rc tok_login_again(struct tok_ctx *ctx)
{
    CK_RV rv;

    if (!ctx->logged_in || ctx->login_pin == NULL ||
        ctx->login_pin->buf == NULL)
        return PE_OK; /* nothing to redo, or a PIN pad: not asked twice */
    rv = ctx->fl->C_Logout(ctx->sess);
    log_debug(LOG_CAT_PKCS11, "C_Logout: %s", ckr_name(rv));
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "C_Logout");
    return do_login(ctx, ctx->user == TOK_SO ? CKU_SO : CKU_USER,
                    ctx->login_pin, "PIN");
}

/* ---- recovery ---------------------------------------------------------- */

static enum pe_rc recover(struct tok_ctx *ctx)
{
    enum pe_rc rc;

    say("Token \"%s\" dropped (%s); re-initialising the module and trying "
        "again.",
        ctx->label, ckr_name(ctx->last_rv));
    rc = reopen(ctx, true);
    if (rc != PE_OK)
        return rc;
    if (ctx->logged_in && ctx->login_pin != NULL) {
        rc = do_login(ctx, ctx->user == TOK_SO ? CKU_SO : CKU_USER,
                      ctx->login_pin, "PIN");
        if (rc != PE_OK)
            return rc;
    }
    return PE_OK;
}

bool tok_retry_transient(struct tok_ctx *ctx, struct tok_backoff *b)
{
    CK_RV rv = ctx->last_rv;
    enum pe_rc rc;

    if (!transient_rv(ctx, rv) || !backoff_wait(b, TOK_RETRY_BUDGET_MS))
        return false;
    log_debug(LOG_CAT_PKCS11, "%s: trying again", ckr_name(rv));
    ctx->last_rv = CKR_OK;
    if (b->attempt < TOK_RETRY_REINIT_AFTER || ctx->recovering)
        return true;
    /* SoftHSM may keep a stale view of token.object: re-initialise, find
     * the same token, log in again with the PIN it accepted before */
    ctx->recovering = true;
    rc = reopen(ctx, true);
    if (rc == PE_OK && ctx->logged_in && ctx->login_pin != NULL)
        rc = do_login(ctx, ctx->user == TOK_SO ? CKU_SO : CKU_USER,
                      ctx->login_pin, "PIN");
    ctx->recovering = false;
    if (rc != PE_OK) {
        log_debug(LOG_CAT_PKCS11, "re-open after %s failed: %s", ckr_name(rv),
                  pe_sentence(rc));
        /* a transient failure of the re-open may be retried in turn */
        return transient_rv(ctx, ctx->last_rv) && tok_retry_transient(ctx, b);
    }
    return true;
}

bool tok_recover_once(struct tok_ctx *ctx)
{
    CK_RV lost = ctx->last_rv;
    enum pe_rc rc;

    if (ctx->recovering || !ckr_is_device_lost(lost))
        return false;
    ctx->recovering = true;
    rc = recover(ctx);
    ctx->recovering = false;
    ctx->last_rv = CKR_OK;
    if (rc != PE_OK) {
        char why[512];

        snprintf(why, sizeof(why), "%s", pe_sentence(rc));
        log_debug(LOG_CAT_PKCS11, "recovery failed: %s", why);
        pe_failf(PE_E_TOKEN,
                 "Token \"%s\" dropped (%s) and could not be reached "
                 "again: %s",
                 ctx->label, ckr_name(lost), why);
        /* logged_in stays: a later recovery logs in again */
        return false;
    }
    return true;
}

enum pe_rc tok_retry(struct tok_ctx *ctx, tok_step_fn step, void *arg)
{
    struct tok_backoff b = {0, 0};
    enum pe_rc rc;

    tok_op_begin(ctx);
    rc = step(ctx, arg);
    while (rc != PE_OK && tok_retry_transient(ctx, &b))
        rc = step(ctx, arg);
    if (rc != PE_OK && tok_recover_once(ctx))
        rc = step(ctx, arg);
    return rc;
}
