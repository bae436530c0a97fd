/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll.c - the enrollment driver: one switch over the record's state,
 * one step per state (enroll_steps.c), one durable save per transition.
 *
 *   state          step            next on success   on failure
 *   new            step_key        key-generated     stays
 *   key-generated  step_csr        csr-built         stays
 *   csr-built      step_attest     submitting        stays
 *   submitting     step_submit     submitted         csr-built when the CA
 *                                                    said no (nothing made
 *                                                    there), else stays
 *   submitted      step_wait       issued            rejected, or stays
 *                                                    (pending)
 *   issued         step_download   downloaded        stays (pending)
 *   downloaded     step_install    installed         issued when the bundle
 *                                                    does not check out
 *   installed, rejected, abandoned: final
 *
 * docs/state-machine.md draws the table and says what a crash in each
 * state leaves and what `resume` then does.
 */
#include "enroll_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "interrupt.h"
#include "log.h"
#include "secret.h"

#define DEFAULT_WAIT 600

void enroll_crash_point(const char *where)
{
    const char *at = getenv("P11ENROLL_TEST_CRASH");

    if (at != NULL && strcmp(at, where) == 0)
        raise(SIGKILL);
}

/* The step of a state that is not final. */
static enum pe_rc run_step(struct run *r, enum journal_status s)
{
    switch (s) {
    case JOURNAL_NEW:
        return step_key(r);
    case JOURNAL_KEY_GENERATED:
        return step_csr(r);
    case JOURNAL_CSR_BUILT:
        return step_attest(r);
    case JOURNAL_SUBMITTING:
        return step_submit(r);
    case JOURNAL_SUBMITTED:
        return step_wait(r);
    case JOURNAL_ISSUED:
        return step_download(r);
    case JOURNAL_DOWNLOADED:
        return step_install(r);
    default:
        return pe_failf(PE_E_INTERNAL, "No step for state %s.",
                        journal_status_name(s));
    }
}

/* Where a state goes when its step failed with rc: forward to rejected,
 * back where the table says so, else nowhere. */
static enum journal_status after_failure(enum journal_status s, enum pe_rc rc)
{
    if (s == JOURNAL_SUBMITTED && rc == PE_E_REJECTED)
        return JOURNAL_REJECTED;
    /* the CA answered, and made no request: fix and submit again */
    if (s == JOURNAL_SUBMITTING && (rc == PE_E_REJECTED || rc == PE_E_CA_AUTH ||
                                    rc == PE_E_USAGE || rc == PE_E_CONFIG))
        return JOURNAL_CSR_BUILT;
    /* what came is unusable and nothing was written: download again */
    if (s == JOURNAL_DOWNLOADED && (rc == PE_E_VERIFY || rc == PE_E_INPUT))
        return JOURNAL_ISSUED;
    return s;
}

const char *enroll_next_command(const struct journal_rec *rec, char *buf,
                                size_t size)
{
    switch (rec->status) {
    case JOURNAL_INSTALLED:
        snprintf(buf, size, "none: finished");
        break;
    case JOURNAL_REJECTED:
    case JOURNAL_ABANDONED:
        snprintf(buf, size, "p11enroll forget %s%s", rec->id,
                 rec->status == JOURNAL_REJECTED &&
                         strcmp(rec->key_origin ? rec->key_origin : "",
                                "generated") == 0 &&
                         rec->key_uri != NULL
                     ? " --remove-key"
                     : "");
        break;
    default:
        /* the bundle's root was refused: resume alone would refuse it
         * again (docs/PROTOCOL.md section 3) */
        snprintf(buf, size, "p11enroll resume %s%s", rec->id,
                 rec->untrusted_root == NULL ? ""
                 : strcmp(rec->untrusted_root, "missing") == 0
                     ? " --trust ROOT.pem"
                     : " --trust ROOT.pem (or --trust-bundle-root)");
        break;
    }
    return buf;
}

/* The one sentence for a run that stopped in rec's state with rc. */
static enum pe_rc stopped(const struct journal_rec *rec, enum pe_rc rc)
{
    char next[160];

    enroll_next_command(rec, next, sizeof(next));
    /* a record never saved is not kept: there is nothing to continue */
    if (rc == PE_E_INTERRUPTED && !rec->saved)
        return pe_failf(rc, "Interrupted before anything was made; nothing "
                            "is recorded.");
    if (rc == PE_E_INTERRUPTED)
        return pe_failf(rc, "Interrupted; continue with: %s", next);
    if (rc == PE_PENDING && rec->status == JOURNAL_ISSUED)
        return pe_failf(rc,
                        "Request %s is issued but cannot be downloaded yet; "
                        "continue with: %s",
                        rec->request_id ? rec->request_id : "?", next);
    if (rc == PE_PENDING)
        return pe_failf(rc,
                        "Request %s is still pending at the CA; continue "
                        "with: %s",
                        rec->request_id ? rec->request_id : "?", next);
    if (rc == PE_E_REJECTED)
        return pe_failf(rc,
                        "%s  The key stays on the token; %s removes "
                        "the enrollment%s.",
                        pe_sentence(rc), next,
                        strstr(next, "--remove-key") ? " and its key" : "");
    return rc;
}

/* Open what the states ahead need, checking every local thing first so a
 * mistake costs nothing at the CA: the client secret, the token and its
 * PIN, the --trust roots and the pinned ones; then the CA, logged in and
 * its terms accepted, before a key is made. */
static enum pe_rc open_all(struct run *r)
{
    enum tok_keytype type;
    enum pe_rc rc;

    rc = step_open_ca(r);
    if (rc == PE_OK)
        rc = step_open_token(r);
    /* a key type the token cannot make is refused before the CA is asked */
    if (rc == PE_OK && r->rec->status == JOURNAL_NEW &&
        r->rec->key_type != NULL &&
        tok_keytype_parse(r->rec->key_type, &type) == PE_OK)
        rc = tok_keytype_check(r->ctx, type);
    if (rc == PE_OK)
        rc = enroll_anchors_load(r->rec, &r->anchors);
    if (rc == PE_OK && r->rec->status < JOURNAL_SUBMITTED &&
        r->ca->ops->prepare != NULL)
        rc = r->ca->ops->prepare(r->ca);
    return rc;
}

static void run_free(struct run *r)
{
    free(r->attestation_b64);
    enroll_anchors_clear(&r->anchors);
    ca_free(r->ca);
    secret_free(r->client_secret);
    tok_key_free(r->key);
    tok_close(r->ctx);
}

static time_t deadline_of(const struct enroll_opts *o)
{
    struct timespec ts;
    long wait = o->no_wait ? 0 : o->wait_s >= 0 ? o->wait_s : DEFAULT_WAIT;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + wait;
}

/* The states from rec's to a final one, or to the first that stops. */
static enum pe_rc drive(struct run *r)
{
    struct journal_rec *rec = r->rec;
    enum journal_status from, to;
    enum pe_rc rc;

    if (rec->status == JOURNAL_SUBMITTING)
        log_warn("Enrollment %s stopped while submitting; submitting again "
                 "(the CA may hold an abandoned request from then).",
                 rec->id);
    while (!journal_status_final(rec->status)) {
        if (interrupt_pending())
            return PE_E_INTERRUPTED;
        from = rec->status;
        rc = run_step(r, from);
        if (rc != PE_OK) {
            to = after_failure(from, rc);
            if (rc != PE_PENDING && rc != PE_E_INTERRUPTED)
                journal_step(rec, to, pe_sentence(rc));
            else if (to != from)
                journal_step(rec, to, NULL);
            return rc;
        }
        rec->status = (enum journal_status)(from + 1);
        rc = journal_set(&rec->last_error, NULL);
        if (rc == PE_OK)
            rc = journal_save(rec);
        if (rc != PE_OK)
            return rc;
        /* said once the record holds a key: one that stops before is not
         * kept (cmd_enroll.c), so it was never worth naming */
        if (r->made_here && from == JOURNAL_NEW)
            say("Enrollment %s recorded in %s.", rec->id, rec->dir);
        enroll_crash_point(journal_status_name(rec->status));
    }
    return PE_OK;
}

enum pe_rc enroll_drive(struct journal_rec *rec, const struct enroll_opts *o)
{
    struct run r;
    enum pe_rc rc;

    memset(&r, 0, sizeof(r));
    r.rec = rec;
    r.o = o;
    r.made_here = !rec->saved;
    r.deadline = deadline_of(o);
    interrupt_catch();
    if (rec->status == JOURNAL_INSTALLED) {
        say("Enrollment %s is finished already.", rec->id);
        rc = PE_OK;
        goto out;
    }
    if (journal_status_final(rec->status)) {
        rc = rec->status == JOURNAL_REJECTED
                 ? pe_failf(PE_E_REJECTED, "Enrollment %s was rejected: %s",
                            rec->id,
                            rec->last_error ? rec->last_error : "by the CA.")
                 : pe_failf(PE_E_STATE, "Enrollment %s is being forgotten.",
                            rec->id);
        goto out;
    }
    rc = enroll_apply_options(o, rec);
    if (rc == PE_OK)
        rc = open_all(&r);
    /* a new record is saved first by its first step (step_key saves the
     * key's ID before the key is made), so one refused before then leaves
     * nothing; an existing one keeps what the options changed */
    if (rc == PE_OK && rec->saved)
        rc = journal_save(rec);
    if (rc == PE_OK)
        rc = drive(&r);
    else if (rec->saved && rc != PE_E_INTERRUPTED)
        journal_step(rec, rec->status, pe_sentence(rc));
out:
    if (rc != PE_OK)
        rc = stopped(rec, rc);
    run_free(&r);
    return rc;
}

enum pe_rc enroll_run(struct journal_rec *rec, const struct enroll_opts *o)
{
    enum pe_rc rc = enroll_drive(rec, o);

    enroll_report(rec, o, rc);
    return rc;
}
