/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew.c - find what is due on a token and enroll it again through the
 * enrollment flow (enroll_inherit + enroll_apply_options + enroll_drive):
 * the settings of the journal record that made the old certificate, the
 * command line over them; the new record names the old certificate as its
 * predecessor (the lineage renew_survey.c reads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "journal.h"
#include "log.h"
#include "util.h"
#include "notify.h"
#include "renew_int.h"

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
    case RENEW_DUE:
        return "due";
    case RENEW_WOULD_RETIRE:
        return "would-retire";
    }
    return "?";
}

struct renew_item *renew_item_add(struct renew_result *res,
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

void renew_item_fail(struct renew_item *it, enum pe_rc rc)
{
    it->outcome = rc == PE_PENDING ? RENEW_PENDING : RENEW_FAILED;
    it->rc = rc;
    snprintf(it->message, sizeof(it->message), "%s", pe_sentence(rc));
}

void renew_notify(const struct renew_opts *ro, const char *event,
                  const struct renew_item *it)
{
    json_t *j;

    if (ro->notify_cmd == NULL || ro->dry_run)
        return; /* a dry run changes nothing and tells no one */
    j = renew_item_json(it);
    if (j != NULL)
        (void)notify_run(ro->notify_cmd, event, j);
    json_decref(j);
}

/* The lineage link of a renewal: the certificate it replaces. */
static enum pe_rc link_predecessor(struct journal_rec *rec,
                                   const struct journal_rec *old,
                                   const struct leaf *lf)
{
    char date[40];
    enum pe_rc rc;

    util_time_rfc3339(lf->it.not_after, date, sizeof(date));
    rc = journal_set(&rec->pred_id, old != NULL ? old->id : NULL);
    if (rc == PE_OK)
        rc = journal_set(&rec->pred_cert_sha256, lf->it.sha256);
    if (rc == PE_OK)
        rc = journal_set(&rec->pred_key_id, lf->it.key_id);
    if (rc == PE_OK)
        rc = journal_set(&rec->pred_serial, lf->it.serial);
    if (rc == PE_OK)
        rc = journal_set(&rec->pred_subject, lf->it.subject);
    if (rc == PE_OK)
        rc = journal_set(&rec->pred_expires, date);
    return rc;
}

/* The old certificate an unfinished renewal record replaces; false if the
 * record is no renewal. */
static bool predecessor_of(const struct journal_rec *r, struct renew_item *old)
{
    memset(old, 0, sizeof(*old));
    if (r->pred_cert_sha256 == NULL || r->pred_key_id == NULL)
        return false;
#define CP(dst, src) snprintf(dst, sizeof(dst), "%s", (src) ? (src) : "")
    CP(old->token, r->token_uri);
    CP(old->key_id, r->pred_key_id);
    CP(old->serial, r->pred_serial);
    CP(old->subject, r->pred_subject);
    CP(old->sha256, r->pred_cert_sha256);
#undef CP
    old->not_after = survey_journal_time(r->pred_expires);
    return true;
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

/*
 * The new renewal record rec: the settings of the enrollment that made the
 * certificate (old), the command line over them (enroll_apply_options, as
 * for any enrollment), the token and, with --reuse-key, the old key.
 */
static enum pe_rc renewal_record(const struct renew_opts *ro,
                                 const struct tokopt *to, const struct leaf *lf,
                                 const struct journal_rec *old,
                                 struct journal_rec *rec)
{
    enum pe_rc rc = PE_OK;

    if (old != NULL)
        rc = enroll_inherit(old, rec);
    if (rc == PE_OK)
        rc = journal_set(&rec->token_uri, lf->it.token);
    if (rc == PE_OK && rec->module == NULL)
        rc = journal_set(&rec->module, to->module);
    if (rc == PE_OK)
        rc = journal_set(&rec->key_origin, "generated");
    if (rc == PE_OK)
        rc = enroll_apply_options(ro->eo, rec);
    if (rc == PE_OK && ro->reuse_key)
        rc = enroll_use_key(rec, lf->it.key_id);
    if (rc != PE_OK)
        return rc;
    if (rec->url == NULL)
        return pe_failf(PE_E_USAGE,
                        "Certificate \"%s\" (ID %s) has no enrollment "
                        "record in %s; give --endpoint or --form (and the "
                        "names) to renew it.",
                        lf->it.subject, lf->it.key_id, ro->dir);
    if (strcmp(rec->protocol ? rec->protocol : "", "rest") == 0 &&
        (rec->client_id == NULL ||
         (rec->secret_source == NULL && ro->eo->secret_spec == NULL)))
        return pe_failf(PE_E_USAGE,
                        "Renewing at the REST endpoint needs --client-id and "
                        "the client secret (--client-secret-file, -fd or "
                        "-env).");
    if (rec->email == NULL)
        return pe_failf(PE_E_USAGE, "Renewing needs the e-mail address "
                                    "(--email).");
    return PE_OK;
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
    it->new_not_after = survey_journal_time(rec->cert_expires);
    if (rc == PE_PENDING) {
        renew_item_fail(it, rc);
        return;
    }
    if (rc != PE_OK) {
        renew_item_fail(it, rc);
        if (rec->status != JOURNAL_REJECTED)
            snprintf(it->fix, sizeof(it->fix),
                     "p11enroll resume %s (the next renew does too), or "
                     "p11enroll forget %s",
                     rec->id, rec->id);
        else
            snprintf(it->fix, sizeof(it->fix),
                     "p11enroll forget %s --remove-key, then p11enroll renew",
                     rec->id);
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s, ends %s) was not renewed: %s; "
                 "fix: %s",
                 it->subject, it->key_id,
                 util_time_rfc3339(it->not_after, date, sizeof(date)),
                 pe_sentence(rc), it->fix);
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
    struct renew_item *it = renew_item_add(res, &lf->it);
    char date[40];
    enum pe_rc rc;

    if (it == NULL)
        return;
    util_time_rfc3339(lf->it.not_after, date, sizeof(date));
    if (ro->dry_run) {
        it->outcome = RENEW_DUE;
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s, ends %s) would be renewed%s "
                 "(dry run).",
                 lf->it.subject, lf->it.key_id, date,
                 ro->reuse_key ? " with the same key" : " with a new key");
        return;
    }
    rc = journal_create(ro->dir, &rec);
    if (rc == PE_OK)
        rc = renewal_record(ro, to, lf, old, rec);
    if (rc == PE_OK)
        rc = link_predecessor(rec, old, lf);
    if (rc == PE_OK)
        rc = journal_save(rec);
    if (rc != PE_OK) {
        renew_item_fail(it, rc);
        journal_remove(rec); /* nothing was started */
        rec = NULL;
        goto out;
    }
    renew_notify(ro, "due", it);
    say("Renewing certificate \"%s\" (ID %s, ends %s) as enrollment %s%s.",
        lf->it.subject, lf->it.key_id, date, rec->id,
        ro->reuse_key ? " with the same key" : " with a new key");
    rc = enroll_drive(rec, ro->eo);
    item_from_record(it, rec, rc);
out:
    journal_rec_free(rec);
}

/* ---- renewals cut short ------------------------------------------------ */

/* Finish every unfinished renewal of the token; how many were run. */
static size_t resume_unfinished(const struct renew_opts *ro, const char *uri,
                                struct renew_result *res)
{
    struct journal_list *jl = NULL;
    struct journal_rec *rec = NULL;
    struct renew_item old, *it;
    size_t i, n = 0;
    enum pe_rc rc;

    if (journal_list(ro->dir, &jl) != PE_OK)
        return 0;
    for (i = 0; i < jl->n; i++) {
        if (journal_status_final(jl->v[i]->status) ||
            !predecessor_of(jl->v[i], &old) || strcmp(old.token, uri) != 0)
            continue;
        it = renew_item_add(res, &old);
        if (it == NULL)
            break;
        if (ro->dry_run) {
            it->outcome = RENEW_DUE;
            snprintf(it->message, sizeof(it->message),
                     "Renewal %s of certificate \"%s\" (ID %s), stopped at "
                     "\"%s\", would be finished (dry run).",
                     jl->v[i]->id, old.subject, old.key_id,
                     journal_status_name(jl->v[i]->status));
            snprintf(it->enrollment, sizeof(it->enrollment), "%s",
                     jl->v[i]->id);
            continue;
        }
        n++;
        rc = journal_open(ro->dir, jl->v[i]->id, &rec);
        if (rc != PE_OK) {
            renew_item_fail(it, rc);
            continue;
        }
        say("Finishing renewal %s of certificate \"%s\" (ID %s), stopped at "
            "\"%s\".",
            rec->id, old.subject, old.key_id, journal_status_name(rec->status));
        /* --reuse-key now: the renewal takes the predecessor's key, where
         * it has made none of its own */
        rc = ro->reuse_key ? enroll_use_key(rec, old.key_id) : PE_OK;
        if (rc == PE_OK)
            rc = enroll_drive(rec, ro->eo);
        item_from_record(it, rec, rc);
        journal_rec_free(rec);
        rec = NULL;
    }
    journal_list_free(jl);
    return n;
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
            strcasecmp(it->serial, lf->it.serial) == 0)
            return true;
        if (strcasecmp(it->new_serial, lf->it.serial) == 0)
            return true;
    }
    return false;
}

/* A due leaf that renew cannot renew: the run fails with
 * PE_E_NOT_RENEWED, and the item says how to move it on. */
static void not_renewed(const struct leaf *lf, enum renew_outcome outcome,
                        const char *why, const char *fix,
                        struct renew_result *res)
{
    struct renew_item *it = renew_item_add(res, &lf->it);
    char date[40];

    if (it == NULL)
        return;
    it->outcome = outcome;
    it->rc = PE_E_NOT_RENEWED;
    snprintf(it->fix, sizeof(it->fix), "%s", fix);
    snprintf(it->message, sizeof(it->message),
             "Certificate \"%s\" (ID %s) ends %s and is not renewed: %s; "
             "fix: %s",
             lf->it.subject, lf->it.key_id,
             util_time_rfc3339(lf->it.not_after, date, sizeof(date)), why, fix);
}

/* A due leaf without a record (and without --endpoint/--form), or whose
 * renewal was rejected or left unfinished: true when reported so. */
static bool stuck(const struct renew_opts *ro, const struct journal_list *jl,
                  const struct leaf *lf, struct renew_result *res)
{
    char why[1024], fix[1024];

    if (lf->succ_id[0] == '\0') {
        if (record_of(jl, lf->it.key_id) != NULL || ro->eo->endpoint != NULL ||
            ro->eo->form != NULL)
            return false;
        snprintf(why, sizeof(why),
                 "p11enroll did not enroll it (no record in %s)", ro->dir);
        snprintf(fix, sizeof(fix),
                 "p11enroll adopt --token '%s' --key-id %s --state-dir '%s' "
                 "--endpoint URL --client-id ID --email ADDRESS (or --form "
                 "URL), then p11enroll renew",
                 lf->it.token, lf->it.key_id, ro->dir);
        not_renewed(lf, RENEW_UNMANAGED, why, fix, res);
        return true;
    }
    if (lf->succ_status == JOURNAL_REJECTED) {
        snprintf(why, sizeof(why), "its renewal %s was rejected by the CA",
                 lf->succ_id);
        snprintf(fix, sizeof(fix),
                 "p11enroll forget %s --remove-key, then p11enroll renew "
                 "(or enroll it by hand)",
                 lf->succ_id);
        not_renewed(lf, RENEW_FAILED, why, fix, res);
        return true;
    }
    if (!journal_status_final(lf->succ_status)) {
        /* resume_unfinished did not reach it (another token URI) */
        snprintf(why, sizeof(why), "its renewal %s stopped at \"%s\"",
                 lf->succ_id, journal_status_name(lf->succ_status));
        snprintf(fix, sizeof(fix),
                 "p11enroll resume %s, or p11enroll forget %s", lf->succ_id,
                 lf->succ_id);
        not_renewed(lf, RENEW_FAILED, why, fix, res);
        return true;
    }
    return false;
}

/* One leaf: not due, superseded, stuck, or renew it. */
static void renew_leaf(const struct renew_opts *ro, const struct tokopt *to,
                       const struct journal_list *jl, const struct leaf *lf,
                       struct renew_result *res)
{
    struct renew_item *it;
    char date[40];

    if (handled(res, lf))
        return;
    if (lf->state == EXPIRY_DUE || lf->state == EXPIRY_EXPIRED) {
        if (!stuck(ro, jl, lf, res))
            renew_one(ro, to, jl, lf, res);
        return;
    }
    it = renew_item_add(res, &lf->it);
    if (it == NULL)
        return;
    util_time_rfc3339(lf->it.not_after, date, sizeof(date));
    if (lf->state == EXPIRY_SUPERSEDED) {
        it->outcome = RENEW_SUPERSEDED;
        snprintf(it->enrollment, sizeof(it->enrollment), "%s", lf->succ_id);
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s, ends %s) was renewed as ID %s "
                 "(enrollment %s); it and its key stay on the token until "
                 "renew --retire-old removes them.",
                 lf->it.subject, lf->it.key_id, date, lf->succ_key_id,
                 lf->succ_id);
        return;
    }
    it->outcome = RENEW_NOT_DUE;
    snprintf(it->message, sizeof(it->message),
             "Certificate \"%s\" (ID %s) is valid until %s%s.", lf->it.subject,
             lf->it.key_id, date,
             lf->state == EXPIRY_NOT_YET_VALID ? " (not valid yet)" : "");
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
    rc = survey_token(&to, ro->dir, ro->window, &sv);
    if (rc != PE_OK) {
        it = renew_item_add(res, NULL);
        if (it != NULL) {
            snprintf(it->token, sizeof(it->token), "%s",
                     t->token != NULL ? t->token : "");
            renew_item_fail(it, rc);
        }
        goto out;
    }
    for (i = 0; i < *nseen; i++)
        if (strcmp(seen[i], sv.uri) == 0)
            goto out; /* the same token under another URI */
    if (*nseen < TARGETS_MAX)
        snprintf(seen[(*nseen)++], 512, "%s", sv.uri);
    if (resume_unfinished(ro, sv.uri, res) > 0) {
        rc = survey_token(&to, ro->dir, ro->window, &sv);
        if (rc != PE_OK)
            goto out;
    }
    rc = journal_list(ro->dir, &jl);
    if (rc != PE_OK) {
        it = renew_item_add(res, NULL);
        if (it != NULL)
            renew_item_fail(it, rc);
        goto out;
    }
    for (i = 0; i < sv.n; i++)
        renew_leaf(ro, &to, jl, &sv.v[i], res);
    if (ro->retire_old)
        renew_retire_target(ro, &to, res);
    if (sv.next_due != 0 && (res->next_due == 0 || sv.next_due < res->next_due))
        res->next_due = sv.next_due;
out:
    journal_list_free(jl);
    survey_clear(&sv);
}

/* --notify-cmd for what this run did (a renewal started said "due"). */
static void notify_outcomes(const struct renew_opts *ro,
                            const struct renew_result *res)
{
    size_t i;

    for (i = 0; i < res->n; i++) {
        const struct renew_item *it = &res->v[i];

        if (it->outcome == RENEW_RENEWED)
            renew_notify(ro, "done", it);
        else if (it->outcome == RENEW_PENDING)
            renew_notify(ro, "pending", it);
        else if (it->outcome == RENEW_FAILED || it->outcome == RENEW_UNMANAGED)
            renew_notify(ro, "failed", it);
        else if (it->outcome == RENEW_DUE)
            renew_notify(ro, "due", it);
    }
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
    notify_outcomes(ro, res);
    rc = PE_OK;
    for (i = 0; i < res->n; i++) {
        if (res->v[i].outcome == RENEW_FAILED ||
            res->v[i].outcome == RENEW_UNMANAGED)
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
