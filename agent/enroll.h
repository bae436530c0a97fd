/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll.h - the enrollment flow shared by `enroll` and `resume`.
 *
 * The journal record is the truth: enroll_run() continues a record from
 * whatever step it reached (key, CSR, submit, wait, download, install), and
 * writes it after each step, so a crash at any point is finished by a
 * rerun or `resume` with one key, one order and one certificate.
 */
#ifndef P11E_ENROLL_H
#define P11E_ENROLL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ca.h"
#include "install.h"
#include "journal.h"
#include "rc.h"
#include "tok.h"
#include "tokopt.h"

enum enroll_verb { ENROLL_VERB_ENROLL, ENROLL_VERB_RESUME, ENROLL_VERB_FORGET };

/* Everything the command line and the config files may say. */
struct enroll_opts {
    struct tokopt tok;
    const char *key_type, *label, *key_id;
    const char *slot; /* ykcs11: PIV slot 9a|9c|9d|9e|82..95 */
    const char *subject, *cn, *o, *ou, *c, *l, *st;
    const char *endpoint, *form, *client_id, *token_url;
    const char *email, *first_name, *last_name, *title, *san_email;
    long term;
    const char *hsm_type, *attestation_file, *attestation_cmd;
    const char *ca_file, *trust, *format;
    const char *secret_spec; /* "file:P", "fd:N" or "env:V" */
    const char *otp_file;
    const char *otp_cmd; /* its first line of output is the code */
    long otp_timeout;    /* seconds for either; 0: UI_OTP_WAIT */
    const char *out_cert, *out_chain;
    const char *state_dir;
    long wait_s; /* -1: not given */
    long poll_first, poll_max, http_timeout;
    long attestation_timeout; /* seconds; 0: ATTEST_CMD_TIMEOUT */
    bool accept_eula, no_wait, json, remove_key, fresh, force;
    bool yes, dry_run;      /* forget: consent, and only say what would go */
    bool trust_bundle_root; /* accept the bundle's own root and pin it */
    enum enroll_verb verb;  /* the command that parsed these options */
    /* private: storage for specs built from options */
    char secret_buf[4200];
    bool secret_from_conf, trust_from_conf, parsing_conf;
    char **merged; /* config options + argv, what getopt saw */
    char **owned;  /* strings made from config lines */
    size_t nowned;
};

/*
 * Parse argv of verb (config files first, then the options; the options
 * win).  Positional arguments are left at argv[*pfirst..argc-1].  *phelp is
 * set for --help (usage already printed).  enroll_opts_free() after.
 */
enum pe_rc enroll_parse_args(enum enroll_verb verb, int argc, char **argv,
                             struct enroll_opts *o, int *pfirst, bool *phelp);

/* Free what enroll_parse_args allocated. */
void enroll_opts_free(struct enroll_opts *o);

/* ---- enroll_settings.c: options and records --------------------------- */

/* Fill a new record from the options (token, key, CA, request fields). */
enum pe_rc enroll_fill_record(const struct enroll_opts *o,
                              struct journal_rec *rec);

/*
 * The one place where settings are resolved for an existing record: what
 * the command line and the config files give now replaces what rec holds
 * (and is saved with the next step), where rec's state still allows it:
 * the CA's URL only before anything was submitted, the key only before
 * one was made, the request's names only before it was submitted (a CSR
 * built already is built again).  PE_E_USAGE names what cannot change.
 */
enum pe_rc enroll_apply_options(const struct enroll_opts *o,
                                struct journal_rec *rec);

/* The settings of an earlier enrollment old (CA, identity, names, files,
 * trust and pinned root, secret and PIN sources, module, key label and
 * type) into the new rec,
 * for a renewal; the command line then goes over them
 * (enroll_apply_options). */
enum pe_rc enroll_inherit(const struct journal_rec *old,
                          struct journal_rec *rec);

/* rec takes the key key_id_hex already on its token (as --key-id does),
 * where its state still allows it. */
enum pe_rc enroll_use_key(struct journal_rec *rec, const char *key_id_hex);

/* An unfinished record of dir for the same token, CA and identity as o
 * (its id into id), for a rerun of `enroll` to continue; false if none. */
bool enroll_find_unfinished(const char *dir, const struct enroll_opts *o,
                            char *id, size_t idsz);

/* An installed record of dir for the same token, CA and identity as o
 * whose certificate has not expired (its id into id); false if none. */
bool enroll_find_installed(const char *dir, const struct enroll_opts *o,
                           char *id, size_t idsz);

/* ---- enroll.c: the driver --------------------------------------------- */

/* Run rec from its state to the end (or to pending); the outcome is in
 * rec and printed (summary or --json). */
enum pe_rc enroll_run(struct journal_rec *rec, const struct enroll_opts *o);

/* The same without printing the outcome (renew reports its own). */
enum pe_rc enroll_drive(struct journal_rec *rec, const struct enroll_opts *o);

/* Test hook: P11ENROLL_TEST_CRASH=where kills the process (SIGKILL, as
 * kill -9 would) here; where is a state's name (right after the record
 * reached it) or "keygen" (the ID saved, the key not made yet). */
void enroll_crash_point(const char *where);

/* The command that moves an unfinished or stopped rec on, e.g.
 * "p11enroll resume ID" (into buf). */
const char *enroll_next_command(const struct journal_rec *rec, char *buf,
                                size_t size);

/* The state folder: --state-dir or the default (*pdir, free()). */
enum pe_rc enroll_state_dir(const struct enroll_opts *o, char **pdir);

/* ---- enroll_yk.c: YubiKeys -------------------------------------------- */

/* ykcs11's CKA_ID of a PIV slot ("9a" 1, "9c" 2, "9d" 3, "9e" 4, "82".."95"
 * 5..24) as a new hex string in *phex (free()); PE_E_USAGE otherwise. */
enum pe_rc enroll_slot_key_id(const char *slot, char **phex);

/* The attestation of key (slot certificate and f9 intermediate, PEM) as
 * one line of base64 (*pb64, free()), checked to certify this very key. */
enum pe_rc enroll_yk_attestation(struct tok_ctx *ctx, struct tok_key *key,
                                 char **pb64);

/* ---- enroll_trust.c: the anchors of the issued chain ------------------ */

/* What rec's chain may verify to (docs/PROTOCOL.md section 3). */
struct enroll_anchors {
    STACK_OF(X509) * trust;  /* rec's --trust roots; NULL when none */
    STACK_OF(X509) * pinned; /* roots pinned in rec and, for its URL, by
                                the other records of its state folder */
};

/* Read rec's --trust file (a file that cannot be read is an error) and
 * gather the pinned roots (a damaged pin is skipped with a warning).
 * Fills *pa (enroll_anchors_clear). */
enum pe_rc enroll_anchors_load(const struct journal_rec *rec,
                               struct enroll_anchors *pa);

/* Free what *pa holds and zero it; safe twice. */
void enroll_anchors_clear(struct enroll_anchors *pa);

/* The install options of rec: its anchors, and the bundle's own root when
 * rec holds the person's --trust-bundle-root (only the root refused and
 * shown before, when one was). */
void enroll_trust_opts(const struct journal_rec *rec,
                       const struct enroll_anchors *a,
                       struct bundle_check *popts);

/* After the check of the bundle (install_check) failed with rc: a
 * refused root into rec (untrustedRoot, for `status` and the next
 * --trust-bundle-root), and any earlier acceptance void, since it was
 * for another root.  Returns rc, or PE_E_NOMEM.  Not saved. */
enum pe_rc enroll_trust_refused(struct journal_rec *rec, enum pe_rc rc,
                                const struct install_result *res);

/* The root pin of an accepted bundle root, made before the token is
 * written so that nothing can fail once it is. */
struct enroll_pin {
    char *pem;    /* NULL: nothing to pin */
    char *sha256; /* its SHA-256, hex */
    char name[256];
};

/* After install_check passed with res: the pin rec's --trust-bundle-root
 * asks for, only when the bundle's own root anchored the chain (res->root.
 * by_bundle_root).  PE_E_NOMEM; *pin is enroll_pin_clear'ed by the caller. */
enum pe_rc enroll_pin_prepare(const struct journal_rec *rec,
                              const struct install_result *res,
                              struct enroll_pin *pin);

/* Once the certificate is on the token: pin moved into rec, the refusal
 * and the acceptance cleared.  Cannot fail.  Not saved. */
void enroll_pin_commit(struct journal_rec *rec, struct enroll_pin *pin);
void enroll_pin_clear(struct enroll_pin *pin);

/* ---- enroll_install.c ------------------------------------------------- */

/*
 * The downloaded bundle of rec (saved beside the record): parse, find the
 * leaf for key, verify as `install` does (against anchors, from
 * enroll_anchors_load), write leaf and chain, read back and prove the key
 * signs for it, write --out-cert and --out-chain.  Records the
 * certificate, a refused or pinned root in rec (not saved).
 * PE_E_VERIFY/PE_E_INPUT: nothing was written.
 */
enum pe_rc enroll_install(struct tok_ctx *ctx, struct tok_key *key,
                          struct journal_rec *rec,
                          const struct enroll_anchors *anchors,
                          const struct enroll_opts *o);

/* The human summary (stderr) or, with o->json, the JSON result of o's
 * command (stdout) of a record. */
void enroll_report(const struct journal_rec *rec, const struct enroll_opts *o,
                   enum pe_rc rc);

/* The record's outcome as the "result" of enroll, resume and adopt
 * --json (docs/json-schema.md).  New reference, NULL when out of
 * memory. */
json_t *enroll_result_json(const struct journal_rec *rec);

#endif
