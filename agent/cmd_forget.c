/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_forget.c - `p11enroll forget ID [--remove-key]`: the way out of any
 * enrollment.  The record goes; the key goes only when asked, only when
 * p11enroll made it and no certificate was issued for it, and only with
 * consent (--yes or a yes on the terminal).  The record is first marked
 * abandoned, so a crash half-way is finished by forgetting it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "enroll.h"
#include "jsonout.h"
#include "log.h"
#include "ui.h"

/* Why rec's key must stay, or NULL when forget may remove it. */
static const char *key_must_stay(const struct journal_rec *rec)
{
    if (rec->key_id_hex == NULL || rec->keygen == NULL)
        return "no key was made for it";
    if (strcmp(rec->key_origin ? rec->key_origin : "", "generated") != 0)
        return "p11enroll did not make it";
    if (rec->status >= JOURNAL_ISSUED && rec->status != JOURNAL_REJECTED &&
        rec->status != JOURNAL_ABANDONED)
        return "a certificate was issued for it";
    if (rec->status == JOURNAL_ABANDONED && rec->request_id != NULL &&
        rec->cert_serial != NULL)
        return "a certificate was issued for it";
    return NULL;
}

/* What the CA may still hold for rec, said once. */
static void say_ca_side(const struct journal_rec *rec)
{
    if (rec->request_id != NULL && rec->status != JOURNAL_REJECTED)
        say("The CA (%s) still holds request %s; cancel or revoke it there "
            "if it is not wanted.",
            rec->url ? rec->url : "?", rec->request_id);
    else if (rec->status == JOURNAL_SUBMITTING)
        say("Enrollment %s stopped while submitting: the CA (%s) may hold "
            "a request that p11enroll never learned the ID of.",
            rec->id, rec->url ? rec->url : "?");
}

/* Remove rec's key pair from its token; *premoved: it was there. */
static enum pe_rc remove_key(struct journal_rec *rec,
                             const struct enroll_opts *o, bool *premoved)
{
    struct tokopt to = o->tok;
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;
    unsigned char id[64];
    size_t idlen = 0;
    unsigned removed = 0;
    struct secret_source src;
    enum pe_rc rc;

    if (to.token == NULL)
        to.token = rec->token_uri;
    if (to.module == NULL)
        to.module = rec->module;
    if (to.pin.kind == SECRET_NONE && rec->pin_source != NULL &&
        secret_source_parse(rec->pin_source, &src) == PE_OK)
        to.pin = src;
    rc = tokopt_parse_hex(rec->key_id_hex, id, sizeof(id), &idlen);
    if (rc == PE_OK)
        rc = tokopt_open(&to, &ctx);
    if (rc == PE_OK)
        rc = tokopt_login(&to, ctx, TOK_USER);
    if (rc != PE_OK)
        goto out;
    if (tok_key_find_by_id(ctx, id, idlen, &key) == PE_OK) {
        rc = tok_key_destroy(key);
        *premoved = rc == PE_OK;
        if (rc == PE_OK)
            say("Removed key %s of enrollment %s from token \"%s\".",
                rec->key_id_hex, rec->id, tok_token_label(ctx));
    } else {
        pe_clear();
        rc = tok_key_remove_half(ctx, id, idlen, &removed);
        if (rc == PE_OK)
            say("Key %s of enrollment %s is not on token \"%s\"%s.",
                rec->key_id_hex, rec->id, tok_token_label(ctx),
                removed > 0 ? "; its lone public half was removed" : "");
    }
out:
    tok_close(ctx);
    return rc;
}

/* The --json result (docs/json-schema.md): the record as it was, and
 * what this run did to it. */
static json_t *forget_json(const struct journal_rec *rec,
                           enum journal_status was, const struct enroll_opts *o,
                           bool forgotten, bool key_removed)
{
    json_t *j;

    j = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "id", rec->id, "status",
                  journal_status_name(was), "dry_run", o->dry_run, "forgotten",
                  forgotten, "remove_key", o->remove_key, "key_removed",
                  key_removed);
#define PUT(name, val)                                                         \
    if (j != NULL && (val) != NULL)                                            \
    json_object_set_new(j, name, json_string(val))
    PUT("key_id", rec->key_id_hex);
    PUT("token_uri", rec->token_uri);
    PUT("request_id", rec->request_id);
    PUT("url", rec->url);
#undef PUT
    return j;
}

enum pe_rc cmd_forget(int argc, char **argv)
{
    struct enroll_opts o;
    struct journal_rec *rec = NULL;
    const char *why;
    char *dir = NULL, question[300];
    bool help = false, forgotten = false, key_removed = false;
    enum journal_status was = JOURNAL_NEW;
    int first = 0;
    enum pe_rc rc;

    rc = enroll_parse_args(ENROLL_VERB_FORGET, argc, argv, &o, &first, &help);
    if (rc != PE_OK || help)
        goto out;
    rc = enroll_state_dir(&o, &dir);
    if (rc == PE_OK)
        rc = journal_open(dir, o.merged[first], &rec);
    if (rc != PE_OK)
        goto out;
    was = rec->status;
    why = o.remove_key ? key_must_stay(rec) : NULL;
    if (o.remove_key && why != NULL) {
        rc = pe_failf(PE_E_USAGE,
                      "Key %s of enrollment %s is not removed: %s.  Forget "
                      "the enrollment without --remove-key.",
                      rec->key_id_hex ? rec->key_id_hex : "(none)", rec->id,
                      why);
        goto out;
    }
    if (o.dry_run) {
        say("Would forget enrollment %s (%s)%s%s.", rec->id,
            journal_status_name(rec->status),
            o.remove_key ? " and remove key " : "",
            o.remove_key ? rec->key_id_hex : "");
        say_ca_side(rec);
        rc = PE_OK;
        goto out;
    }
    if (o.remove_key && !o.yes) {
        snprintf(question, sizeof(question),
                 "Remove key %s of enrollment %s from its token? It cannot "
                 "be brought back.",
                 rec->key_id_hex, rec->id);
        if (!ui_ask_yes(question)) {
            rc = pe_failf(PE_E_USAGE,
                          "Nothing was removed: removing key %s needs "
                          "--yes (or a yes on a terminal).",
                          rec->key_id_hex);
            goto out;
        }
    }
    rc = journal_step(rec, JOURNAL_ABANDONED, "being forgotten");
    if (rc == PE_OK)
        enroll_crash_point("abandoned");
    if (rc == PE_OK && o.remove_key)
        rc = remove_key(rec, &o, &key_removed);
    if (rc != PE_OK)
        goto out;
    say_ca_side(rec);
    say("Forgot enrollment %s.", rec->id);
    forgotten = true;
out:
    if (o.json && !help)
        jsonout_print("forget",
                      rec != NULL
                          ? forget_json(rec, was, &o, forgotten, key_removed)
                          : NULL,
                      rc);
    if (forgotten)
        journal_remove(rec);
    else
        journal_rec_free(rec);
    free(dir);
    enroll_opts_free(&o);
    return rc;
}
