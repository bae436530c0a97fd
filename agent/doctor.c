/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor.c - the checks' report and the token side of `p11enroll doctor`:
 * module, token, state, PIN tries, login, and each leaf certificate's
 * expiry and chain.  The CA side is doctor_ca.c.
 */
#include "doctor.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "bundle.h"
#include "expiry.h"
#include "util.h"

/* Below this many free bytes a key pair and a chain may not fit. */
#define DOCTOR_MIN_FREE 8192UL

const char *doctor_status_name(enum doctor_status s)
{
    switch (s) {
    case DOCTOR_OK:
        return "ok";
    case DOCTOR_WARN:
        return "warn";
    case DOCTOR_FAIL:
        return "fail";
    case DOCTOR_SKIP:
        return "skip";
    }
    return "?";
}

void doctor_add(struct doctor_report *r, const char *name,
                enum doctor_status st, enum pe_rc rc, const char *fmt, ...)
{
    struct doctor_check *c;
    va_list ap;

    if (r->n < DOCTOR_MAX_CHECKS)
        r->n++;
    c = &r->v[r->n - 1];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->status = st;
    c->rc = st == DOCTOR_FAIL ? (rc != PE_OK ? rc : PE_E_INTERNAL) : PE_OK;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
}

/* ---- module, token, state, PIN ------------------------------------------ */

/* Whether the token was opened; reports module and token either way. */
static bool check_open(struct doctor_report *r, const struct tokopt *to,
                       struct tok_ctx *ctx, enum pe_rc rc)
{
    const char *mod = to->module != NULL ? to->module : NULL;

    if (rc == PE_E_MODULE) {
        doctor_add(r, "module", DOCTOR_FAIL, rc, "%s", pe_sentence(rc));
        doctor_add(r, "token", DOCTOR_SKIP, PE_OK,
                   "Not looked for: no module loaded.");
        return false;
    }
    if (rc != PE_OK) {
        if (mod != NULL)
            doctor_add(r, "module", DOCTOR_OK, PE_OK, "Module \"%s\" loads.",
                       mod);
        else
            doctor_add(r, "module", DOCTOR_OK, PE_OK,
                       "p11-kit's registered modules load.");
        doctor_add(r, "token", DOCTOR_FAIL, rc, "%s", pe_sentence(rc));
        return false;
    }
    doctor_add(r, "module", DOCTOR_OK, PE_OK, "Module \"%s\" loads.",
               tok_module_name(ctx));
    doctor_add(r, "token", DOCTOR_OK, PE_OK,
               "Token \"%s\" (%s %s, serial %s) is present: %s.",
               tok_token_label(ctx), tok_token_manufacturer(ctx),
               tok_token_model(ctx), tok_token_serial(ctx), tok_token_uri(ctx));
    doctor_add(r, "family", DOCTOR_OK, PE_OK, "Module family \"%s\"%s.",
               tok_family_name(tok_family(ctx)),
               to->family != NULL ? " (as --token-family says)"
                                  : " (detected; --token-family overrides)");
    return true;
}

static void check_state(struct doctor_report *r, unsigned long f)
{
    if (!(f & TOK_F_TOKEN_INITIALIZED))
        doctor_add(r, "token-state", DOCTOR_FAIL, PE_E_TOKEN,
                   "The token is not initialised; initialise it with its "
                   "vendor's tool first.");
    else if (f & TOK_F_WRITE_PROTECTED)
        doctor_add(r, "token-state", DOCTOR_FAIL, PE_E_TOKEN,
                   "The token is write-protected: no key or certificate "
                   "can be written to it.");
    else if ((f & TOK_F_LOGIN_REQUIRED) && !(f & TOK_F_USER_PIN_INITIALIZED))
        doctor_add(r, "token-state", DOCTOR_FAIL, PE_E_PIN_LOCKED,
                   "The token's user PIN is not set; set it with the "
                   "vendor's tool first.");
    else if (f & TOK_F_USER_PIN_TO_BE_CHANGED)
        doctor_add(r, "token-state", DOCTOR_WARN, PE_OK,
                   "The token asks for its user PIN to be changed before "
                   "use.");
    else
        doctor_add(r, "token-state", DOCTOR_OK, PE_OK,
                   "The token is initialised and writable%s.",
                   (f & TOK_F_RNG) ? ", with its own random generator" : "");
}

static void check_pin_tries(struct doctor_report *r, unsigned long f)
{
    if (!(f & TOK_F_LOGIN_REQUIRED))
        doctor_add(r, "pin", DOCTOR_OK, PE_OK, "The token needs no PIN.");
    else if (f & TOK_F_USER_PIN_LOCKED)
        doctor_add(r, "pin", DOCTOR_FAIL, PE_E_PIN_LOCKED,
                   "The user PIN is locked; unblock it with the SO PIN "
                   "and the vendor's tool.");
    else if (f & TOK_F_USER_PIN_FINAL_TRY)
        doctor_add(r, "pin", DOCTOR_FAIL, PE_E_PIN_LOCKED,
                   "The user PIN is on its final try: one more wrong PIN "
                   "locks it, so unattended runs will not try it.");
    else if (f & TOK_F_USER_PIN_COUNT_LOW)
        doctor_add(r, "pin", DOCTOR_WARN, PE_OK,
                   "A wrong PIN was entered: the token reports few tries "
                   "left.");
    else
        doctor_add(r, "pin", DOCTOR_OK, PE_OK,
                   "The token reports no failed PIN tries (PKCS#11 tells "
                   "no exact count).");
}

static const char *pin_from(const struct tokopt *to, unsigned long f, char *buf,
                            size_t size)
{
    switch (to->pin.kind) {
    case SECRET_FILE:
        snprintf(buf, size, "file %s", to->pin.arg);
        break;
    case SECRET_FD:
        snprintf(buf, size, "descriptor %s", to->pin.arg);
        break;
    case SECRET_ENV:
        snprintf(buf, size, "variable %s", to->pin.arg);
        break;
    case SECRET_PINPAD:
        snprintf(buf, size, "the PIN pad");
        break;
    case SECRET_PROMPT:
        snprintf(buf, size, "the prompt");
        break;
    case SECRET_NONE:
        if (to->token != NULL && strstr(to->token, "pin-source=") != NULL)
            snprintf(buf, size, "the URI's pin-source");
        else if (f & TOK_F_PROTECTED_AUTH_PATH)
            snprintf(buf, size, "the PIN pad");
        else
            snprintf(buf, size, "the prompt");
        break;
    }
    return buf;
}

/* Log in when a PIN source is at hand and it cannot cost the last try. */
static bool check_login(struct doctor_report *r, const struct tokopt *to,
                        struct tok_ctx *ctx, unsigned long f)
{
    char from[300];
    enum pe_rc rc;

    if (!(f & TOK_F_LOGIN_REQUIRED))
        return true;
    if (f & (TOK_F_USER_PIN_LOCKED | TOK_F_USER_PIN_FINAL_TRY)) {
        doctor_add(r, "login", DOCTOR_SKIP, PE_OK,
                   "Login not tried: it could lock the PIN.");
        return false;
    }
    if (to->pin.kind == SECRET_NONE && !tokopt_interactive(to) &&
        !(f & TOK_F_PROTECTED_AUTH_PATH) &&
        (to->token == NULL || strstr(to->token, "pin-source=") == NULL)) {
        doctor_add(r, "login", DOCTOR_SKIP, PE_OK,
                   "Login not tried: no PIN source given (--pin-file, "
                   "--pin-fd, --pin-env or pin-source= in the URI); an "
                   "unattended enroll or renew needs one.");
        return false;
    }
    pin_from(to, f, from, sizeof(from));
    rc = tokopt_login(to, ctx, TOK_USER);
    if (rc != PE_OK) {
        doctor_add(r, "login", DOCTOR_FAIL, rc, "%s", pe_sentence(rc));
        return false;
    }
    doctor_add(r, "login", DOCTOR_OK, PE_OK,
               "Login with the PIN from %s succeeded.", from);
    return true;
}

/* ---- what the token can do ---------------------------------------------- */

/* Append ", name" (or "name" first) to buf. */
static void list_add(char *buf, size_t size, const char *name)
{
    size_t len = strlen(buf);

    snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "", name);
}

static void check_key_types(struct doctor_report *r, struct tok_ctx *ctx)
{
    static const enum tok_keytype types[] = {TOK_EC_P256, TOK_EC_P384,
                                             TOK_RSA_3072, TOK_RSA_4096};
    char yes[80] = "", no[80] = "";
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (tok_supports_keytype(ctx, types[i]))
            list_add(yes, sizeof(yes), tok_keytype_name(types[i]));
        else
            list_add(no, sizeof(no), tok_keytype_name(types[i]));
    }
    if (yes[0] == '\0')
        doctor_add(r, "key-types", DOCTOR_FAIL, PE_E_TOKEN,
                   "The token can generate and sign with none of %s: "
                   "p11enroll cannot make a key on it.",
                   no);
    else if (no[0] == '\0')
        doctor_add(r, "key-types", DOCTOR_OK, PE_OK,
                   "The token can generate and sign with %s.", yes);
    else
        doctor_add(r, "key-types", DOCTOR_OK, PE_OK,
                   "The token can generate and sign with %s (not %s).", yes,
                   no);
}

/* doctor --probe: each key type the token claims, made, used once and
 * removed (tok_probe_keytype). */
static void check_probe(struct doctor_report *r, struct tok_ctx *ctx,
                        bool logged_in)
{
    static const enum tok_keytype types[] = {TOK_EC_P256, TOK_EC_P384,
                                             TOK_RSA_3072, TOK_RSA_4096};
    bool token_objects;
    const char *name;
    enum pe_rc rc;
    size_t i;

    if (!logged_in) {
        doctor_add(r, "probe", DOCTOR_SKIP, PE_OK,
                   "Not probed: making a key needs the login.");
        return;
    }
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        name = tok_keytype_name(types[i]);
        if (!tok_supports_keytype(ctx, types[i]))
            continue;
        rc = tok_probe_keytype(ctx, types[i], &token_objects);
        if (rc != PE_OK)
            doctor_add(r, "probe", DOCTOR_FAIL, rc,
                       "The token lists %s keys, but making and using one "
                       "failed: %s",
                       name, pe_sentence(rc));
        else
            doctor_add(r, "probe", DOCTOR_OK, PE_OK,
                       "Made a %s key pair%s, signed with it and checked the "
                       "signature; it was removed again.",
                       name,
                       token_objects ? " (as token objects: the token makes "
                                       "no session keys)"
                                     : " in the session");
    }
}

/* "1234 bytes" or "not told" */
static const char *memory_str(unsigned long v, char *buf, size_t size)
{
    if (v == TOK_MEMORY_UNKNOWN)
        snprintf(buf, size, "not told");
    else
        snprintf(buf, size, "%lu bytes", v);
    return buf;
}

static void check_free_space(struct doctor_report *r, struct tok_ctx *ctx)
{
    unsigned long pub, priv;
    char a[40], b[40];
    enum pe_rc rc;

    rc = tok_token_memory(ctx, &pub, &priv);
    if (rc != PE_OK) {
        doctor_add(r, "free-space", DOCTOR_SKIP, PE_OK, "Not checked: %s",
                   pe_sentence(rc));
        return;
    }
    if (pub == TOK_MEMORY_UNKNOWN && priv == TOK_MEMORY_UNKNOWN) {
        doctor_add(r, "free-space", DOCTOR_SKIP, PE_OK,
                   "Not checked: the token does not report its free memory "
                   "(unavailable or effectively unlimited).");
        return;
    }
    memory_str(pub, a, sizeof(a));
    memory_str(priv, b, sizeof(b));
    if ((pub != TOK_MEMORY_UNKNOWN && pub < DOCTOR_MIN_FREE) ||
        (priv != TOK_MEMORY_UNKNOWN && priv < DOCTOR_MIN_FREE))
        doctor_add(r, "free-space", DOCTOR_WARN, PE_OK,
                   "The token reports little free memory (public %s, "
                   "private %s): a key pair and certificate chain may not "
                   "fit.",
                   a, b);
    else
        doctor_add(r, "free-space", DOCTOR_OK, PE_OK,
                   "The token reports free memory: public %s, private %s.", a,
                   b);
}

/* ---- certificates ---------------------------------------------------------
 */

/* "CN=x,O=y" (ID 0a1b), to follow "Certificate " or "The chain of " */
static void cert_what(const struct tok_object *o, char *buf, size_t size)
{
    char name[256], id[80];

    bundle_name_str(X509_get_subject_name(o->cert), name, sizeof(name));
    util_hex_encode(o->id, o->idlen, id, sizeof(id));
    snprintf(buf, size, "\"%s\" (ID %s)", name, id);
}

static void check_chain(struct doctor_report *r, struct tok_ctx *ctx,
                        const char *what, const struct tok_object *leaf,
                        const struct tok_object_list *l)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    STACK_OF(X509) * chain;
    char name[256];
    size_t i;
    int err;

    if (store == NULL || sc == NULL || untrusted == NULL) {
        doctor_add(r, "chain", DOCTOR_FAIL, PE_E_NOMEM, "Out of memory.");
        goto out;
    }
    for (i = 0; i < l->n; i++) {
        X509 *c = l->v[i].cert;

        if (l->v[i].cls != TOK_OBJ_CERT || c == NULL || c == leaf->cert)
            continue;
        if (X509_self_signed(c, 0) == 1)
            X509_STORE_add_cert(store, c);
        else
            sk_X509_push(untrusted, c);
    }
    X509_STORE_set_default_paths(store);
    if (X509_STORE_CTX_init(sc, store, leaf->cert, untrusted) != 1) {
        doctor_add(r, "chain", DOCTOR_FAIL, PE_E_NOMEM, "Out of memory.");
        goto out;
    }
    /* expiry is its own check; this one is about completeness */
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(sc),
                                X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(sc) == 1) {
        chain = X509_STORE_CTX_get0_chain(sc);
        bundle_name_str(
            X509_get_subject_name(sk_X509_value(chain, sk_X509_num(chain) - 1)),
            name, sizeof(name));
        doctor_add(r, "chain", DOCTOR_OK, PE_OK,
                   "The chain of %s is complete: %d certificates up to "
                   "\"%s\".",
                   what, sk_X509_num(chain), name);
        goto out;
    }
    err = X509_STORE_CTX_get_error(sc);
    if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
        err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) {
        X509 *cur = X509_STORE_CTX_get_current_cert(sc);

        bundle_name_str(X509_get_issuer_name(cur != NULL ? cur : leaf->cert),
                        name, sizeof(name));
        if (!tok_can_store_chain(ctx))
            doctor_add(r, "chain", DOCTOR_WARN, PE_OK,
                       "The token keeps only the leaf of %s (%s tokens hold "
                       "no chain); give signing tools the chain file.",
                       what, tok_family_name(tok_family(ctx)));
        else
            doctor_add(r, "chain", DOCTOR_FAIL, PE_E_VERIFY,
                       "The chain of %s is incomplete: its issuer \"%s\" is "
                       "neither on the token nor trusted by the system (a "
                       "missing intermediate).",
                       what, name);
    } else if (err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) {
        doctor_add(r, "chain", DOCTOR_WARN, PE_OK,
                   "Certificate %s is self-signed.", what);
    } else {
        doctor_add(r, "chain", DOCTOR_FAIL, PE_E_VERIFY,
                   "The chain of %s does not verify: %s.", what,
                   X509_verify_cert_error_string(err));
    }
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(sc);
    X509_STORE_free(store);
}

static void check_cert(struct doctor_report *r, struct tok_ctx *ctx,
                       const struct expiry_item *it,
                       const struct tok_object_list *l, time_t now,
                       bool logged_in)
{
    char what[400], date[40], id[80];
    long days = expiry_days(it->not_after, now);

    cert_what(it->cert, what, sizeof(what));
    util_time_rfc3339(it->not_after, date, sizeof(date));
    switch (it->state) {
    case EXPIRY_VALID:
        doctor_add(
            r, "certificate", DOCTOR_OK, PE_OK,
            "Certificate %s is valid until %s (%ld days)%s.", what, date, days,
            it->cert->matched || !logged_in ? ""
                                            : ", but its key is not on the "
                                              "token");
        break;
    case EXPIRY_DUE:
        doctor_add(
            r, "certificate", DOCTOR_WARN, PE_OK,
            "Certificate %s expires in %ld days (%s): p11enroll renew replaces "
            "it.",
            what, days, date);
        break;
    case EXPIRY_EXPIRED:
        doctor_add(r, "certificate", DOCTOR_FAIL, PE_E_VERIFY,
                   "Certificate %s expired on %s; p11enroll renew replaces it.",
                   what, date);
        break;
    case EXPIRY_NOT_YET_VALID:
        util_time_rfc3339(it->not_before, date, sizeof(date));
        doctor_add(r, "certificate", DOCTOR_FAIL, PE_E_VERIFY,
                   "Certificate %s is not valid before %s: is the clock right?",
                   what, date);
        break;
    case EXPIRY_SUPERSEDED:
        util_hex_encode(it->newer->id, it->newer->idlen, id, sizeof(id));
        doctor_add(
            r, "certificate", DOCTOR_WARN, PE_OK,
            "Certificate %s (ends %s) was renewed as ID %s; p11enroll renew "
            "--retire-old removes it.",
            what, date, id);
        return;
    }
    check_chain(r, ctx, what, it->cert, l);
}

static void check_certs(struct doctor_report *r, struct tok_ctx *ctx,
                        long window, bool logged_in)
{
    struct tok_object_list *l = NULL;
    struct expiry_plan plan = {0};
    time_t now = time(NULL);
    size_t i;
    enum pe_rc rc;

    rc = tok_list_objects(ctx, &l);
    if (rc == PE_OK)
        rc = expiry_plan_make(l, now, window, &plan);
    if (rc != PE_OK) {
        doctor_add(r, "certificate", DOCTOR_FAIL, rc, "%s", pe_sentence(rc));
        goto out;
    }
    if (plan.n == 0)
        doctor_add(r, "certificate", DOCTOR_OK, PE_OK,
                   "No certificate on the token yet: nothing to check or "
                   "renew.");
    for (i = 0; i < plan.n; i++)
        check_cert(r, ctx, &plan.v[i], l, now, logged_in);
out:
    expiry_plan_clear(&plan);
    tok_object_list_free(l);
}

void doctor_token(struct doctor_report *r, const struct tokopt *to, long window,
                  bool probe)
{
    struct tok_ctx *ctx = NULL;
    unsigned long f;
    bool logged_in;
    enum pe_rc rc;

    rc = tokopt_open(to, &ctx);
    if (!check_open(r, to, ctx, rc))
        goto out;
    f = tok_token_flags(ctx);
    check_state(r, f);
    check_pin_tries(r, f);
    logged_in = check_login(r, to, ctx, f);
    check_key_types(r, ctx);
    if (probe)
        check_probe(r, ctx, logged_in);
    check_free_space(r, ctx);
    check_certs(r, ctx, window, logged_in);
out:
    tok_close(ctx);
}

/* ---- the report ---------------------------------------------------------- */

void doctor_print(const struct doctor_report *r, FILE *f)
{
    size_t i, n[4] = {0, 0, 0, 0};

    for (i = 0; i < r->n; i++) {
        const struct doctor_check *c = &r->v[i];

        n[c->status]++;
        fprintf(f, "%-4s  %-12s %s\n",
                c->status == DOCTOR_FAIL ? "FAIL"
                                         : doctor_status_name(c->status),
                c->name, c->msg);
    }
    fprintf(f, "%zu ok, %zu warning%s, %zu failed, %zu not checked.\n",
            n[DOCTOR_OK], n[DOCTOR_WARN], n[DOCTOR_WARN] == 1 ? "" : "s",
            n[DOCTOR_FAIL], n[DOCTOR_SKIP]);
}

json_t *doctor_json(const struct doctor_report *r)
{
    json_t *checks = json_array(), *c;
    size_t i, n[4] = {0, 0, 0, 0};

    if (checks == NULL)
        return NULL;
    for (i = 0; i < r->n; i++) {
        const struct doctor_check *k = &r->v[i];

        n[k->status]++;
        c = json_pack("{s:s, s:s, s:s}", "name", k->name, "status",
                      doctor_status_name(k->status), "message", k->msg);
        if (c != NULL && k->status == DOCTOR_FAIL)
            json_object_set_new(c, "error",
                                json_pack("{s:i, s:s}", "code",
                                          pe_rc_exit(k->rc), "name",
                                          pe_rc_name(k->rc)));
        if (c == NULL || json_array_append_new(checks, c) != 0) {
            json_decref(checks);
            return NULL;
        }
    }
    return json_pack("{s:o, s:I, s:I, s:I, s:I}", "checks", checks, "ok",
                     (json_int_t)n[DOCTOR_OK], "warnings",
                     (json_int_t)n[DOCTOR_WARN], "failed",
                     (json_int_t)n[DOCTOR_FAIL], "skipped",
                     (json_int_t)n[DOCTOR_SKIP]);
}

enum pe_rc doctor_outcome(const struct doctor_report *r)
{
    size_t i, nfail = 0, first = 0;

    for (i = 0; i < r->n; i++)
        if (r->v[i].status == DOCTOR_FAIL && nfail++ == 0)
            first = i;
    if (nfail == 0) {
        pe_clear();
        return PE_OK;
    }
    if (nfail == 1)
        return pe_failf(r->v[first].rc, "%s", r->v[first].msg);
    return pe_failf(r->v[first].rc, "%s  (%zu more problem%s listed above.)",
                    r->v[first].msg, nfail - 1, nfail == 2 ? "" : "s");
}
