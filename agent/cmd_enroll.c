/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_enroll.c - `p11enroll enroll`: a new enrollment, or the unfinished
 * one for the same token and CA (a rerun after a crash finishes it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "enroll.h"
#include "log.h"

/* The options an enrollment needs, before anything is touched. */
static enum pe_rc check_opts(const struct enroll_opts *o)
{
    enum tok_keytype t;

    if (o->endpoint == NULL && o->form == NULL)
        return pe_failf(PE_E_USAGE, "Give --endpoint URL (REST) or --form "
                                    "URL (invitation form).");
    if (o->endpoint != NULL && (o->client_id == NULL || o->secret_spec == NULL))
        return pe_failf(PE_E_USAGE,
                        "The REST endpoint needs --client-id and the client "
                        "secret (--client-secret-file, -fd or -env).");
    if (o->email == NULL)
        return pe_failf(PE_E_USAGE, o->form != NULL
                                        ? "The form needs your invited "
                                          "e-mail address (--email)."
                                        : "The REST endpoint needs the "
                                          "applicant's e-mail (--email).");
    if (o->key_type != NULL && tok_keytype_parse(o->key_type, &t) != PE_OK)
        return PE_E_USAGE;
    if (o->slot != NULL && o->key_id != NULL)
        return pe_failf(PE_E_USAGE, "--slot names where a new key goes; "
                                    "--key-id reuses one.  Give one of "
                                    "them.");
    if (o->key_id != NULL && o->key_type != NULL)
        return pe_failf(PE_E_USAGE, "--key-id reuses a key; --key-type makes "
                                    "one.  Give one of them.");
    return PE_OK;
}

enum pe_rc cmd_enroll(int argc, char **argv)
{
    struct enroll_opts o;
    struct journal_rec *rec = NULL;
    char *dir = NULL, id[64];
    bool help = false;
    int first = 0;
    enum pe_rc rc;

    rc = enroll_parse_args(ENROLL_VERB_ENROLL, argc, argv, &o, &first, &help);
    if (rc != PE_OK || help)
        goto out;
    rc = check_opts(&o);
    if (rc == PE_OK)
        rc = enroll_state_dir(&o, &dir);
    if (rc != PE_OK)
        goto out;
    if (!o.fresh && enroll_find_installed(dir, &o, id, sizeof(id))) {
        rc = journal_open(dir, id, &rec);
        if (rc == PE_OK)
            rc = pe_failf(PE_E_USAGE,
                          "Enrollment %s put certificate \"%s\" (valid until "
                          "%s) on this token for this CA and identity "
                          "already; give --new to order another.",
                          rec->id, rec->cert_subject ? rec->cert_subject : "?",
                          rec->cert_expires ? rec->cert_expires : "?");
        goto out;
    }
    if (!o.fresh && enroll_find_unfinished(dir, &o, id, sizeof(id))) {
        rc = journal_open(dir, id, &rec);
        if (rc != PE_OK)
            goto out;
        say("Continuing enrollment %s (%s) for this token and CA; --new "
            "starts another.",
            rec->id, journal_status_name(rec->status));
    } else {
        rc = journal_create(dir, &rec);
        if (rc != PE_OK)
            goto out;
        /* saved by enroll_run once the token and the CA let us in */
        rc = enroll_fill_record(&o, rec);
        if (rc != PE_OK) {
            journal_remove(rec);
            rec = NULL;
            goto out;
        }
    }
    rc = enroll_run(rec, &o);
    /* stopped before a key could be made (CA login, terms, token, PIN, an
     * interruption): nothing to continue, so no record is kept */
    if (rc != PE_OK && rec->status == JOURNAL_NEW && rec->keygen == NULL) {
        journal_remove(rec);
        rec = NULL;
    }
out:
    journal_rec_free(rec);
    free(dir);
    enroll_opts_free(&o);
    return rc;
}
