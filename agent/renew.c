/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew.c - find what is due on a token and enroll it again through the
 * enrollment engineer's flow (enroll_fill_record + enroll_run), with the
 * settings of the journal record that made the old certificate.
 */
#include "renew.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>

#include "bundle.h"
#include "fileio.h"
#include "journal.h"
#include "jsonout.h"
#include "log.h"
#include "tokopt.h"
#include "util.h"

#define SIDECAR         ".renews"
#define SIDECAR_MAX     (64 * 1024)
#define TARGETS_MAX     16
#define RENEW_ITEMS_MAX 256

const char *renew_outcome_name(enum renew_outcome o)
{
    switch (o) {
    case RENEW_NOT_DUE:
        return "not-due";
    case RENEW_RENEWED:
        return "renewed";
    case RENEW_PENDING:
        return "pending";
    case RENEW_FAILED:
        return "failed";
    case RENEW_SUPERSEDED:
        return "superseded";
    case RENEW_UNMANAGED:
        return "unmanaged";
    case RENEW_RETIRED:
        return "retired";
    }
    return "?";
}

static struct renew_item *item_add(struct renew_result *res,
                                   const struct renew_item *from)
{
    struct renew_item *v;

    if (res->n >= RENEW_ITEMS_MAX)
        return NULL;
    v = realloc(res->v, (res->n + 1) * sizeof(*v));
    if (v == NULL)
        return NULL;
    res->v = v;
    v = &res->v[res->n++];
    if (from != NULL)
        *v = *from;
    else
        memset(v, 0, sizeof(*v));
    return v;
}

static void item_fail(struct renew_item *it, enum pe_rc rc)
{
    it->outcome = rc == PE_PENDING ? RENEW_PENDING : RENEW_FAILED;
    it->rc = rc;
    snprintf(it->message, sizeof(it->message), "%s", pe_sentence(rc));
}

/* ---- the "<id>.renews" file beside a renewal's record ------------------ */

static enum pe_rc sidecar_write(const struct journal_rec *rec,
                                const struct renew_item *old)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "token", old->token, "key_id",
                  old->key_id, "serial", old->serial, "subject", old->subject,
                  "not_after", (json_int_t)old->not_after);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL, *path = NULL;
    enum pe_rc rc = text != NULL ? PE_OK : PE_E_NOMEM;

    if (rc == PE_OK)
        rc = journal_path(rec, SIDECAR, &path);
    if (rc == PE_OK)
        rc = fileio_write_atomic(path, text, strlen(text), 0600);
    free(path);
    free(text);
    json_decref(j);
    return rc;
}

/* The old certificate a renewal record replaces; false if it is none. */
static bool sidecar_read(const char *dir, const char *id,
                         struct renew_item *old)
{
    unsigned char *text = NULL;
    char path[4200];
    size_t len = 0;
    json_t *j;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s%s", dir, id, SIDECAR);
    if (fileio_read(path, SIDECAR_MAX, &text, &len) != PE_OK) {
        pe_clear();
        return false;
    }
    j = json_loadb((const char *)text, len, 0, NULL);
    free(text);
    memset(old, 0, sizeof(*old));
    ok = json_is_string(json_object_get(j, "token")) &&
         json_is_string(json_object_get(j, "key_id")) &&
         json_is_string(json_object_get(j, "serial"));
    if (ok) {
#define STR(k) json_string_value(json_object_get(j, k))
        snprintf(old->token, sizeof(old->token), "%s", STR("token"));
        snprintf(old->key_id, sizeof(old->key_id), "%s", STR("key_id"));
        snprintf(old->serial, sizeof(old->serial), "%s", STR("serial"));
        if (STR("subject") != NULL)
            snprintf(old->subject, sizeof(old->subject), "%s", STR("subject"));
#undef STR
        old->not_after =
            (time_t)json_integer_value(json_object_get(j, "not_after"));
    }
    json_decref(j);
    return ok;
}

/* ---- what is on a token ------------------------------------------------- */

struct leaf {
    struct renew_item it; /* token, key_id, subject, serial, not_after */
    enum expiry_state state;
    char newer[80];
};

struct survey {
    char uri[512];
    struct leaf *v;
    size_t n;
    time_t next_due;
};

static void leaf_fill(struct leaf *lf, const char *uri,
                      const struct expiry_item *e)
{
    BIGNUM *bn =
        ASN1_INTEGER_to_BN(X509_get0_serialNumber(e->cert->cert), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;

    snprintf(lf->it.token, sizeof(lf->it.token), "%s", uri);
    util_hex_encode(e->cert->id, e->cert->idlen, lf->it.key_id,
                    sizeof(lf->it.key_id));
    bundle_name_str(X509_get_subject_name(e->cert->cert), lf->it.subject,
                    sizeof(lf->it.subject));
    snprintf(lf->it.serial, sizeof(lf->it.serial), "%s",
             serial != NULL ? serial : "?");
    lf->it.not_after = e->not_after;
    lf->state = e->state;
    if (e->newer != NULL)
        util_hex_encode(e->newer->id, e->newer->idlen, lf->newer,
                        sizeof(lf->newer));
    OPENSSL_free(serial);
    BN_free(bn);
}

/* Look at the token's leaves; no login (certificates are public). */
static enum pe_rc survey_token(const struct tokopt *to, long window,
                               struct survey *sv)
{
    struct tok_ctx *ctx = NULL;
    struct tok_object_list *l = NULL;
    struct expiry_plan plan = {0};
    size_t i;
    enum pe_rc rc;

    free(sv->v);
    memset(sv, 0, sizeof(*sv));
    rc = tokopt_open(to, &ctx);
    if (rc == PE_OK)
        rc = tok_list_objects(ctx, &l);
    if (rc == PE_OK)
        rc = expiry_plan_make(l, time(NULL), window, &plan);
    if (rc != PE_OK)
        goto out;
    snprintf(sv->uri, sizeof(sv->uri), "%s", tok_token_uri(ctx));
    sv->next_due = plan.next_due;
    sv->v = calloc(plan.n + 1, sizeof(*sv->v));
    if (sv->v == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    for (i = 0; i < plan.n; i++)
        leaf_fill(&sv->v[sv->n++], sv->uri, &plan.v[i]);
out:
    expiry_plan_clear(&plan);
    tok_object_list_free(l);
    tok_close(ctx);
    return rc;
}

/* ---- one renewal ------------------------------------------------------- */

/* The newest installed record of the key, or NULL. */
static const struct journal_rec *record_of(const struct journal_list *jl,
                                           const char *key_id)
{
    size_t i;

    for (i = jl->n; i-- > 0;) {
        const struct journal_rec *r = jl->v[i];

        if (r->status == JOURNAL_INSTALLED && r->key_id_hex != NULL &&
            strcmp(r->key_id_hex, key_id) == 0)
            return r;
    }
    return NULL;
}

static bool subject_given(const struct enroll_opts *o)
{
    return o->subject != NULL || o->cn != NULL || o->o != NULL ||
           o->ou != NULL || o->c != NULL || o->l != NULL || o->st != NULL;
}

/* Options for the renewal: the command line first, then the record. */
static enum pe_rc renewal_opts(const struct renew_opts *ro,
                               const struct tokopt *to, const struct leaf *lf,
                               const struct journal_rec *old,
                               struct enroll_opts *o)
{
    struct secret_source pin;

    *o = *ro->eo; /* shallow: strings stay owned by ro->eo and old */
    o->json = false;
    o->tok.token = lf->it.token;
    o->tok.module = to->module;
    o->tok.pin = to->pin;
    if (old != NULL) {
#define FILL(f, v)                                                             \
    if (o->f == NULL)                                                          \
    o->f = (v)
        if (o->endpoint == NULL && o->form == NULL) {
            if (old->protocol != NULL && strcmp(old->protocol, "form") == 0)
                o->form = old->url;
            else
                o->endpoint = old->url;
        }
        FILL(client_id, old->client_id);
        FILL(email, old->email);
        FILL(first_name, old->first_name);
        FILL(last_name, old->last_name);
        FILL(title, old->title);
        FILL(san_email, old->san_email);
        FILL(format, old->format);
        FILL(ca_file, old->ca_file);
        FILL(trust, old->trust);
        FILL(out_cert, old->out_cert);
        FILL(out_chain, old->out_chain);
        FILL(secret_spec, old->secret_source);
        FILL(label, old->key_label);
        if (!ro->reuse_key)
            FILL(key_type, old->key_type);
        if (!subject_given(o))
            o->subject = old->subject;
        if (o->term == 0)
            o->term = old->term;
        if (o->tok.pin.kind == SECRET_NONE && old->pin_source != NULL &&
            secret_source_parse(old->pin_source, &pin) == PE_OK)
            o->tok.pin = pin;
#undef FILL
    }
    o->key_id = ro->reuse_key ? lf->it.key_id : NULL;
    if (ro->reuse_key)
        o->key_type = NULL;
    if (o->endpoint == NULL && o->form == NULL)
        return pe_failf(PE_E_USAGE,
                        "Certificate \"%s\" (ID %s) has no enrollment "
                        "record in %s; give --endpoint or --form (and the "
                        "names) to renew it.",
                        lf->it.subject, lf->it.key_id, ro->dir);
    if (o->endpoint != NULL && (o->client_id == NULL || o->secret_spec == NULL))
        return pe_failf(PE_E_USAGE,
                        "Renewing at the REST endpoint needs --client-id and "
                        "the client secret (--client-secret-file, -fd or "
                        "-env).");
    if (o->email == NULL)
        return pe_failf(PE_E_USAGE, "Renewing needs the e-mail address "
                                    "(--email).");
    return PE_OK;
}

/* The journal's time (util_time_parse) as time_t; 0 if it is not one. */
static time_t journal_time(const char *s)
{
    time_t t = 0;

    return util_time_parse(s, &t) ? t : 0;
}

/* What a finished (or stopped) renewal record says, into it. */
static void item_from_record(struct renew_item *it,
                             const struct journal_rec *rec, enum pe_rc rc)
{
    char date[40];

    snprintf(it->enrollment, sizeof(it->enrollment), "%s", rec->id);
#define CP(dst, src) snprintf(dst, sizeof(dst), "%s", (src) ? (src) : "")
    CP(it->new_key_id, rec->key_id_hex);
    CP(it->new_serial, rec->cert_serial);
    CP(it->new_expires, rec->cert_expires);
    CP(it->new_cert_uri, rec->cert_uri);
#undef CP
    it->new_not_after = journal_time(rec->cert_expires);
    if (rc != PE_OK) {
        item_fail(it, rc);
        return;
    }
    it->outcome = RENEW_RENEWED;
    it->rc = PE_OK;
    snprintf(it->message, sizeof(it->message),
             "Certificate \"%s\" (ID %s, ends %s) was renewed: serial %s "
             "with key %s, valid until %s (enrollment %s).  The old key and "
             "certificate stay on the token.",
             it->subject, it->key_id,
             util_time_rfc3339(it->not_after, date, sizeof(date)),
             it->new_serial, it->new_key_id, it->new_expires, rec->id);
}

static void renew_one(const struct renew_opts *ro, const struct tokopt *to,
                      const struct journal_list *jl, const struct leaf *lf,
                      struct renew_result *res)
{
    const struct journal_rec *old = record_of(jl, lf->it.key_id);
    struct journal_rec *rec = NULL;
    struct renew_item *it = item_add(res, &lf->it);
    struct enroll_opts o;
    char date[40];
    enum pe_rc rc;

    if (it == NULL)
        return;
    rc = renewal_opts(ro, to, lf, old, &o);
    if (rc == PE_OK)
        rc = journal_create(ro->dir, &rec);
    if (rc == PE_OK)
        rc = enroll_fill_record(&o, rec);
    if (rc == PE_OK)
        rc = journal_save(rec);
    if (rc == PE_OK)
        rc = sidecar_write(rec, &lf->it);
    if (rc != PE_OK) {
        item_fail(it, rc);
        journal_remove(rec); /* nothing was started */
        rec = NULL;
        goto out;
    }
    say("Renewing certificate \"%s\" (ID %s, ends %s) as enrollment %s%s.",
        lf->it.subject, lf->it.key_id,
        util_time_rfc3339(lf->it.not_after, date, sizeof(date)), rec->id,
        ro->reuse_key ? " with the same key" : " with a new key");
    rc = enroll_run(rec, &o);
    item_from_record(it, rec, rc);
out:
    journal_rec_free(rec);
}

/* ---- renewals cut short, and the last renewal of a certificate --------- */

/* Finish every unfinished renewal of the token; how many were run. */
static size_t resume_unfinished(const struct renew_opts *ro,
                                const struct tokopt *to, const char *uri,
                                struct renew_result *res)
{
    struct journal_list *jl = NULL;
    struct journal_rec *rec = NULL;
    struct renew_item old, *it;
    struct enroll_opts o;
    size_t i, n = 0;
    enum pe_rc rc;

    if (journal_list(ro->dir, &jl) != PE_OK)
        return 0;
    for (i = 0; i < jl->n; i++) {
        if (journal_status_final(jl->v[i]->status) ||
            !sidecar_read(ro->dir, jl->v[i]->id, &old) ||
            strcmp(old.token, uri) != 0)
            continue;
        it = item_add(res, &old);
        if (it == NULL)
            break;
        n++;
        rc = journal_open(ro->dir, jl->v[i]->id, &rec);
        if (rc != PE_OK) {
            item_fail(it, rc);
            continue;
        }
        say("Finishing renewal %s of certificate \"%s\" (ID %s), stopped at "
            "\"%s\".",
            rec->id, old.subject, old.key_id, journal_status_name(rec->status));
        o = *ro->eo;
        o.json = false;
        if (o.tok.module == NULL)
            o.tok.module = to->module;
        rc = enroll_run(rec, &o);
        item_from_record(it, rec, rc);
        journal_rec_free(rec);
        rec = NULL;
    }
    journal_list_free(jl);
    return n;
}

/* The newest renewal record of exactly this certificate, or NULL. */
static const struct journal_rec *last_renewal(const struct renew_opts *ro,
                                              const struct journal_list *jl,
                                              const struct leaf *lf)
{
    struct renew_item old;
    size_t i;

    for (i = jl->n; i-- > 0;)
        if (sidecar_read(ro->dir, jl->v[i]->id, &old) &&
            strcmp(old.token, lf->it.token) == 0 &&
            strcmp(old.key_id, lf->it.key_id) == 0 &&
            strcmp(old.serial, lf->it.serial) == 0)
            return jl->v[i];
    return NULL;
}

/* true when this run dealt with the leaf already, or made it: a
 * certificate renewed a moment ago is never renewed again in the same
 * run, however short its term. */
static bool handled(const struct renew_result *res, const struct leaf *lf)
{
    size_t i;

    for (i = 0; i < res->n; i++) {
        const struct renew_item *it = &res->v[i];

        if (strcmp(it->token, lf->it.token) != 0)
            continue;
        if (strcmp(it->key_id, lf->it.key_id) == 0 &&
            strcmp(it->serial, lf->it.serial) == 0)
            return true;
        if (strcasecmp(it->new_serial, lf->it.serial) == 0)
            return true;
    }
    return false;
}

/* One leaf: not due, superseded, or renew it (unless its last renewal
 * was rejected: that needs a person). */
static void renew_leaf(const struct renew_opts *ro, const struct tokopt *to,
                       const struct journal_list *jl, const struct leaf *lf,
                       struct renew_result *res)
{
    const struct journal_rec *last;
    struct renew_item *it;
    char date[40];

    if (handled(res, lf))
        return;
    if ((lf->state == EXPIRY_DUE || lf->state == EXPIRY_EXPIRED) &&
        record_of(jl, lf->it.key_id) == NULL && ro->eo->endpoint == NULL &&
        ro->eo->form == NULL) {
        it = item_add(res, &lf->it);
        if (it == NULL)
            return;
        it->outcome = RENEW_UNMANAGED;
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s) ends %s but was not enrolled by "
                 "p11enroll here (no record in %s); give --endpoint or --form "
                 "(and the names) to renew it.",
                 lf->it.subject, lf->it.key_id,
                 util_time_rfc3339(lf->it.not_after, date, sizeof(date)),
                 ro->dir);
        return;
    }
    if (lf->state == EXPIRY_DUE || lf->state == EXPIRY_EXPIRED) {
        last = last_renewal(ro, jl, lf);
        if (last == NULL || last->status != JOURNAL_REJECTED) {
            renew_one(ro, to, jl, lf, res);
            return;
        }
        it = item_add(res, &lf->it);
        if (it == NULL)
            return;
        it->outcome = RENEW_FAILED;
        it->rc = pe_failf(PE_E_REJECTED,
                          "The renewal %s of certificate \"%s\" (ID %s) was "
                          "rejected%s%s; renew it by hand (p11enroll enroll), "
                          "and remove the unused key with p11enroll resume %s "
                          "--remove-key.",
                          last->id, lf->it.subject, lf->it.key_id,
                          last->last_error ? ": " : "",
                          last->last_error ? last->last_error : "", last->id);
        snprintf(it->message, sizeof(it->message), "%s", pe_detail());
        snprintf(it->enrollment, sizeof(it->enrollment), "%s", last->id);
        return;
    }
    it = item_add(res, &lf->it);
    if (it == NULL)
        return;
    if (lf->state == EXPIRY_SUPERSEDED) {
        it->outcome = RENEW_SUPERSEDED;
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s, ends %s) was renewed as ID %s; "
                 "it and its key stay on the token until removed.",
                 lf->it.subject, lf->it.key_id,
                 util_time_rfc3339(lf->it.not_after, date, sizeof(date)),
                 lf->newer);
        return;
    }
    it->outcome = RENEW_NOT_DUE;
    snprintf(it->message, sizeof(it->message),
             "Certificate \"%s\" (ID %s) is valid until %s%s.", lf->it.subject,
             lf->it.key_id,
             util_time_rfc3339(lf->it.not_after, date, sizeof(date)),
             lf->state == EXPIRY_NOT_YET_VALID ? " (not valid yet)" : "");
}

/* ---- --retire-old ------------------------------------------------------ */

/* true when this run's renewal of the subject failed or waits at the CA:
 * then nothing of it is removed. */
static bool subject_unsettled(const struct renew_result *res, const char *token,
                              const char *subject)
{
    size_t i;

    for (i = 0; i < res->n; i++)
        if ((res->v[i].outcome == RENEW_FAILED ||
             res->v[i].outcome == RENEW_PENDING) &&
            strcmp(res->v[i].token, token) == 0 &&
            strcmp(res->v[i].subject, subject) == 0)
            return true;
    return false;
}

/* The "superseded" item of the leaf, or a new one (renewed in this run). */
static struct renew_item *retire_item(struct renew_result *res,
                                      const struct leaf *lf)
{
    size_t i;

    for (i = 0; i < res->n; i++)
        if (res->v[i].outcome == RENEW_SUPERSEDED &&
            strcmp(res->v[i].token, lf->it.token) == 0 &&
            strcmp(res->v[i].key_id, lf->it.key_id) == 0 &&
            strcmp(res->v[i].serial, lf->it.serial) == 0)
            return &res->v[i];
    return item_add(res, &lf->it);
}

/* Whether another certificate on the token has c's CKA_ID (then c cannot
 * be removed alone) or c's public key (then the key stays). */
static void leaf_users(const struct tok_object_list *l,
                       const struct tok_object *c, bool *pshared_id,
                       bool *pkey_used)
{
    EVP_PKEY *pub = c->cert != NULL ? X509_get0_pubkey(c->cert) : NULL;
    EVP_PKEY *opub;
    size_t i;

    *pshared_id = false;
    *pkey_used = false;
    for (i = 0; i < l->n; i++) {
        const struct tok_object *o = &l->v[i];

        if (o == c || o->cls != TOK_OBJ_CERT)
            continue;
        if (o->idlen == c->idlen && memcmp(o->id, c->id, c->idlen) == 0)
            *pshared_id = true;
        opub = o->cert != NULL ? X509_get0_pubkey(o->cert) : NULL;
        if (pub != NULL && opub != NULL && EVP_PKEY_eq(pub, opub) == 1)
            *pkey_used = true;
    }
}

/* Remove the certificate, then its key pair unless key_used. */
static void retire_leaf(struct tok_ctx *ctx, const struct tok_object *c,
                        bool key_used, const struct leaf *lf,
                        struct renew_item *it)
{
    struct tok_key *key = NULL;
    const char *keynote = "";
    char date[40];
    size_t n = 0;
    enum pe_rc rc;

    rc = tok_cert_destroy(ctx, c->id, c->idlen, &n);
    it->removed_certs = n;
    if (rc == PE_OK && key_used) {
        keynote = "; its key stays: another certificate uses it";
    } else if (rc == PE_OK) {
        rc = tok_key_find_by_id(ctx, c->id, c->idlen, &key);
        if (rc == PE_OK) {
            rc = tok_key_destroy(key);
            it->removed_key = rc == PE_OK;
            keynote = " with its key pair";
        } else if (rc == PE_E_KEY) {
            pe_clear();
            rc = PE_OK;
            keynote = "; no single key with its ID was on the token";
        }
    }
    if (rc != PE_OK) {
        item_fail(it, rc);
        return;
    }
    it->outcome = RENEW_RETIRED;
    it->rc = PE_OK;
    snprintf(it->message, sizeof(it->message),
             "Certificate \"%s\" (ID %s, serial %s, ends %s), superseded by "
             "ID %s, was removed%s.",
             lf->it.subject, lf->it.key_id, lf->it.serial,
             util_time_rfc3339(lf->it.not_after, date, sizeof(date)), lf->newer,
             keynote);
}

/* --retire-old on one token, after its renewals: log in, look again. */
static void retire_target(const struct renew_opts *ro, const struct tokopt *to,
                          struct renew_result *res)
{
    struct tok_ctx *ctx = NULL;
    struct tok_object_list *l = NULL;
    struct expiry_plan plan = {0};
    struct renew_item *it;
    struct leaf lf;
    bool shared, used;
    size_t i;
    enum pe_rc rc;

    rc = tokopt_open(to, &ctx);
    if (rc == PE_OK)
        rc = tokopt_login_auto(to, ctx);
    if (rc == PE_OK)
        rc = tok_list_objects(ctx, &l);
    if (rc == PE_OK)
        rc = expiry_plan_make(l, time(NULL), ro->window, &plan);
    if (rc != PE_OK) {
        it = item_add(res, NULL);
        if (it != NULL) {
            snprintf(it->token, sizeof(it->token), "%s",
                     to->token != NULL ? to->token : "");
            item_fail(it, rc);
        }
        goto out;
    }
    for (i = 0; i < plan.n; i++) {
        if (plan.v[i].state != EXPIRY_SUPERSEDED)
            continue;
        memset(&lf, 0, sizeof(lf));
        leaf_fill(&lf, tok_token_uri(ctx), &plan.v[i]);
        if (subject_unsettled(res, lf.it.token, lf.it.subject))
            continue;
        leaf_users(l, plan.v[i].cert, &shared, &used);
        if (shared)
            continue; /* stays "superseded" */
        it = retire_item(res, &lf);
        if (it == NULL)
            break;
        retire_leaf(ctx, plan.v[i].cert, used, &lf, it);
    }
out:
    expiry_plan_clear(&plan);
    tok_object_list_free(l);
    tok_close(ctx);
}

/* ---- the tokens -------------------------------------------------------- */

struct target {
    const char *token, *module, *pin_source;
};

/* The token of the options, else every token with installed records. */
static size_t targets_of(const struct renew_opts *ro,
                         const struct journal_list *jl, struct target *t)
{
    const struct tokopt *to = &ro->eo->tok;
    size_t i, k, n = 0;

    for (i = jl->n; i-- > 0 && n < TARGETS_MAX;) {
        const struct journal_rec *r = jl->v[i];

        if (r->status != JOURNAL_INSTALLED || r->token_uri == NULL)
            continue;
        if (to->token != NULL && strcmp(to->token, r->token_uri) != 0)
            continue;
        for (k = 0; k < n; k++)
            if (strcmp(t[k].token, r->token_uri) == 0)
                break;
        if (k == n)
            t[n++] = (struct target){r->token_uri, r->module, r->pin_source};
    }
    if (to->token != NULL && n == 0)
        t[n++] = (struct target){to->token, to->module, NULL};
    if (n == 0)
        t[n++] = (struct target){NULL, to->module, NULL};
    return n;
}

static void renew_target(const struct renew_opts *ro, const struct target *t,
                         char (*seen)[512], size_t *nseen,
                         struct renew_result *res)
{
    struct tokopt to = ro->eo->tok;
    struct survey sv = {0};
    struct journal_list *jl = NULL;
    struct secret_source pin;
    struct renew_item *it;
    size_t i;
    enum pe_rc rc;

    to.token = t->token;
    if (to.module == NULL)
        to.module = t->module;
    if (to.pin.kind == SECRET_NONE && t->pin_source != NULL &&
        secret_source_parse(t->pin_source, &pin) == PE_OK)
        to.pin = pin;
    rc = survey_token(&to, ro->window, &sv);
    if (rc != PE_OK) {
        it = item_add(res, NULL);
        if (it != NULL) {
            snprintf(it->token, sizeof(it->token), "%s",
                     t->token != NULL ? t->token : "");
            item_fail(it, rc);
        }
        goto out;
    }
    for (i = 0; i < *nseen; i++)
        if (strcmp(seen[i], sv.uri) == 0)
            goto out; /* the same token under another URI */
    if (*nseen < TARGETS_MAX)
        snprintf(seen[(*nseen)++], 512, "%s", sv.uri);
    if (resume_unfinished(ro, &to, sv.uri, res) > 0) {
        rc = survey_token(&to, ro->window, &sv);
        if (rc != PE_OK)
            goto out;
    }
    rc = journal_list(ro->dir, &jl);
    if (rc != PE_OK) {
        it = item_add(res, NULL);
        if (it != NULL)
            item_fail(it, rc);
        goto out;
    }
    for (i = 0; i < sv.n; i++)
        renew_leaf(ro, &to, jl, &sv.v[i], res);
    if (ro->retire_old)
        retire_target(ro, &to, res);
    if (sv.next_due != 0 && (res->next_due == 0 || sv.next_due < res->next_due))
        res->next_due = sv.next_due;
out:
    journal_list_free(jl);
    free(sv.v);
}

enum pe_rc renew_run(const struct renew_opts *ro, struct renew_result *res)
{
    struct journal_list *jl = NULL;
    struct target t[TARGETS_MAX];
    char seen[TARGETS_MAX][512];
    size_t i, n, nseen = 0;
    enum pe_rc rc;

    memset(res, 0, sizeof(*res));
    rc = journal_list(ro->dir, &jl);
    if (rc != PE_OK)
        return rc;
    n = targets_of(ro, jl, t);
    for (i = 0; i < n; i++)
        renew_target(ro, &t[i], seen, &nseen, res);
    journal_list_free(jl);
    rc = PE_OK;
    for (i = 0; i < res->n; i++) {
        if (res->v[i].outcome == RENEW_FAILED)
            return pe_failf(res->v[i].rc, "%s", res->v[i].message);
        if (res->v[i].outcome == RENEW_PENDING && rc == PE_OK)
            rc = PE_PENDING;
    }
    if (rc == PE_PENDING)
        for (i = 0; i < res->n; i++)
            if (res->v[i].outcome == RENEW_PENDING)
                return pe_failf(PE_PENDING, "%s", res->v[i].message);
    pe_clear();
    return PE_OK;
}

void renew_result_clear(struct renew_result *res)
{
    free(res->v);
    memset(res, 0, sizeof(*res));
}

json_t *renew_result_json(const struct renew_result *res, long window)
{
    json_t *items = json_array(), *j;
    char t1[32], t2[32];
    size_t i;

    if (items == NULL)
        return NULL;
    for (i = 0; i < res->n; i++) {
        const struct renew_item *it = &res->v[i];

        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "outcome",
                      renew_outcome_name(it->outcome), "token", it->token,
                      "key_id", it->key_id, "subject", it->subject, "serial",
                      it->serial, "not_after",
                      it->not_after
                          ? util_time_rfc3339(it->not_after, t1, sizeof(t1))
                          : "",
                      "message", it->message);
        if (j != NULL && it->enrollment[0] != '\0')
            json_object_set_new(
                j, "renewal",
                json_pack(
                    "{s:s, s:s, s:s, s:s, s:s}", "enrollment", it->enrollment,
                    "key_id", it->new_key_id, "serial", it->new_serial,
                    "not_after",
                    it->new_not_after != 0
                        ? util_time_rfc3339(it->new_not_after, t2, sizeof(t2))
                        : "",
                    "certificate_uri", it->new_cert_uri));
        if (j != NULL &&
            (it->outcome == RENEW_RETIRED || it->removed_certs != 0))
            json_object_set_new(j, "removed",
                                json_pack("{s:I, s:b}", "certificates",
                                          (json_int_t)it->removed_certs, "key",
                                          it->removed_key));
        if (j != NULL &&
            (it->outcome == RENEW_FAILED || it->outcome == RENEW_PENDING))
            json_object_set_new(j, "error",
                                json_pack("{s:i, s:s}", "code",
                                          pe_rc_exit(it->rc), "name",
                                          pe_rc_name(it->rc)));
        if (j == NULL || json_array_append_new(items, j) != 0) {
            json_decref(items);
            return NULL;
        }
    }
    return json_pack("{s:I, s:o, s:o}", "window_seconds", (json_int_t)window,
                     "certificates", items, "next_due",
                     res->next_due != 0 ? json_string(util_time_rfc3339(
                                              res->next_due, t2, sizeof(t2)))
                                        : json_null());
}
