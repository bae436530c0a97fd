/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal.h - one record per enrollment, so a crash never costs a second
 * key, a second order or a certificate.
 *
 * A record is a small JSON file <dir>/<id>.json, rewritten atomically
 * (fileio_write_atomic) at each step.  While a process works on a record it
 * holds an exclusive flock on <dir>/<id>.lock, so two runs never work the
 * same order.  Records hold no secrets: client ids and e-mail addresses,
 * never client secrets, PINs, codes or tokens.
 */
#ifndef P11E_JOURNAL_H
#define P11E_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rc.h"

/*
 * The states of an enrollment, in order (docs/state-machine.md draws the
 * table and what a crash in each leaves).  Installed, rejected and
 * abandoned are final; the others move only forward along the table in
 * agent/enroll.c, except where that table names a way back.
 */
enum journal_status {
    JOURNAL_NEW = 0,       /* key id chosen, key not made yet */
    JOURNAL_KEY_GENERATED, /* the key is on the token */
    JOURNAL_CSR_BUILT,     /* csr holds the signed request */
    JOURNAL_SUBMITTING,    /* the request may have reached the CA */
    JOURNAL_SUBMITTED,     /* request_id known */
    JOURNAL_ISSUED,        /* the CA says issued */
    JOURNAL_DOWNLOADED,    /* bundle saved beside the record */
    JOURNAL_INSTALLED,     /* certificate and chain on the token, checked */
    JOURNAL_REJECTED,      /* the CA declined it (final) */
    JOURNAL_ABANDONED,     /* being forgotten (`forget`); final */
    JOURNAL_STATUS_COUNT
};

struct journal_rec {
    char id[40]; /* e.g. "20261124T093000Z-1a2b3c4d" */
    time_t created, updated;
    enum journal_status status;
    /* the token and key */
    char *token_uri, *module, *key_id_hex, *key_uri, *key_type, *key_label;
    /* the CA */
    char *key_origin; /* "generated" (by us) or "reused" (--key-id) */
    char *keygen;     /* "started" once key generation was attempted */
    char *protocol, *url, *client_id, *email, *format, *token_url;
    /* how the key's origin is proven at submission */
    char *hsm_type, *attestation_file, *attestation_cmd;
    /* where to find things again on resume (paths and source specs such
     * as "file:/etc/p11enroll/secret", never the secrets) */
    char *ca_file, *trust, *pin_source, *so_pin_source, *secret_source,
        *out_cert, *out_chain;
    /* the request */
    char *first_name, *last_name, *title, *san_email, *subject;
    long term;
    char *csr_b64;
    char *request_id;
    /* outcome */
    char *ca_status, *last_error, *cert_uri, *cert_subject, *cert_issuer,
        *cert_serial, *cert_expires;
    /* lineage: the certificate a renewal replaces (its record, if any, the
     * SHA-256 of its DER, CKA_ID, serial and end), and once `renew
     * --retire-old` removed it: when, the removed certificate (PEM, so it
     * can be put back), and what became of its key */
    char *pred_id, *pred_cert_sha256, *pred_key_id, *pred_serial, *pred_subject,
        *pred_expires;
    char *retired_at, *retired_cert, *retired_key;
    /* trust of the issued chain (docs/PROTOCOL.md section 3): the root
     * the person accepted with --trust-bundle-root (PEM and the SHA-256 of
     * its DER, lowercase hex), an anchor for renewals and for later
     * enrollments at the same URL; "yes" while that acceptance waits for
     * the bundle; the SHA-256 of the root the last check refused
     * ("missing" when the bundle carried none), until one verifies */
    char *pinned_root, *pinned_root_sha256, *accept_bundle_root,
        *untrusted_root;
    /* private */
    char *dir;
    int lock_fd;
    bool saved; /* written at least once (journal_create does not write) */
};

/* "new", "key-generated", ..., "rejected". */
const char *journal_status_name(enum journal_status s);

/* Parse a status name; PE_E_STATE if unknown. */
enum pe_rc journal_status_parse(const char *name, enum journal_status *ps);

/* true for installed, rejected and abandoned. */
bool journal_status_final(enum journal_status s);

/*
 * The default folder (*pdir, free()): /var/lib/p11enroll for root (the
 * folder of the systemd unit, so a run by hand and the timer share one
 * journal); for other users $XDG_STATE_HOME/p11enroll, else
 * ~/.local/state/p11enroll.
 */
enum pe_rc journal_default_dir(char **pdir);

/*
 * A new record in dir (created 0700 if missing), locked, with status new;
 * allocates *prec (journal_rec_free unlocks).  Not saved yet: the caller
 * fills it in and saves it once (journal_remove if that fails).
 */
enum pe_rc journal_create(const char *dir, struct journal_rec **prec);

/*
 * Open record id of dir and lock it.  Locked by another process:
 * PE_E_STATE naming it; missing: PE_E_STATE.  Allocates *prec.
 */
enum pe_rc journal_open(const char *dir, const char *id,
                        struct journal_rec **prec);

/* Write rec atomically and durably (updated = now): once this returns,
 * a crash or power cut finds the record as saved. */
enum pe_rc journal_save(struct journal_rec *rec);

/* Set status and last_error (NULL clears it), then save. */
enum pe_rc journal_step(struct journal_rec *rec, enum journal_status status,
                        const char *last_error);

/* Replace the string *field with a copy of value (NULL clears it). */
enum pe_rc journal_set(char **field, const char *value);

/* Delete rec's files (record, bundle, lock), then free it. */
void journal_remove(struct journal_rec *rec);

/* Unlock and free; NULL is a no-op. */
void journal_rec_free(struct journal_rec *rec);

/* The path of a file beside the record, "<dir>/<id><suffix>" (free()). */
enum pe_rc journal_path(const struct journal_rec *rec, const char *suffix,
                        char **ppath);

struct journal_list {
    struct journal_rec **v; /* not locked; oldest first */
    size_t n;
};

/* Every readable record of dir (a missing dir is an empty list); damaged
 * files are skipped with a warning.  Allocates *plist. */
enum pe_rc journal_list(const char *dir, struct journal_list **plist);

/* Free a list; NULL is a no-op. */
void journal_list_free(struct journal_list *list);

/* Parse a record from JSON text (for tests and journal_open); the result
 * is not locked and has no dir. */
enum pe_rc journal_parse(const char *text, size_t len,
                         struct journal_rec **prec);

/* The record as JSON text (free()). */
enum pe_rc journal_dump(const struct journal_rec *rec, char **ptext);

#endif
