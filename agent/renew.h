/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew.h - `p11enroll renew`: certificates on a token that end within a
 * window are enrolled again, through enroll_run(), with the endpoint,
 * names and subject of the enrollment that made them (the journal), and a
 * new key unless --reuse-key.
 *
 * The old key and certificate stay on the token: a new key has its own
 * CKA_ID, and with --reuse-key tok_cert_write_leaf() removes the old
 * certificate only after the new one was written and read back.  Each
 * renewal is a normal journal record that names its predecessor (record,
 * certificate SHA-256, CKA_ID): that link, and nothing else (never a shared
 * subject), makes a certificate "superseded".  A renewal killed at any step
 * is finished by the next `renew` (or `resume`), never started twice.
 */
#ifndef P11E_RENEW_H
#define P11E_RENEW_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "enroll.h"
#include "expiry.h"
#include "rc.h"

struct renew_opts {
    const struct enroll_opts *eo; /* every enroll option (borrowed) */
    const char *dir;              /* the journal folder */
    long window;            /* seconds: --within; EXPIRY_WINDOW_AUTO: default */
    bool reuse_key;         /* --reuse-key (else a new key) */
    bool retire_old;        /* --retire-old: remove superseded leaves */
    bool dry_run;           /* --dry-run: say what would be done, do nothing */
    bool yes;               /* --yes: remove without asking */
    const char *notify_cmd; /* --notify-cmd (notify.h), or NULL */
};

enum renew_outcome {
    RENEW_NOT_DUE,      /* valid beyond the window */
    RENEW_RENEWED,      /* the new certificate is on the token, verified */
    RENEW_PENDING,      /* submitted, waiting for the CA */
    RENEW_FAILED,       /* rc and message say why */
    RENEW_SUPERSEDED,   /* renewed before; kept until retired */
    RENEW_UNMANAGED,    /* due, but no record says where it came from */
    RENEW_RETIRED,      /* superseded, removed with --retire-old */
    RENEW_DUE,          /* --dry-run: would be renewed */
    RENEW_WOULD_RETIRE, /* --dry-run: would be removed */
};

struct renew_item {
    char token[512];   /* the token's URI */
    char key_id[80];   /* CKA_ID of the old certificate and key (hex) */
    char subject[512]; /* of the old certificate */
    char serial[80];
    time_t not_after;
    enum renew_outcome outcome;
    enum pe_rc rc;
    char message[2048];
    char fix[1024];      /* the command that moves a stuck one on, or "" */
    char sha256[72];     /* of the old certificate's DER (hex) */
    char enrollment[40]; /* journal id of the renewal, "" if none */
    char new_key_id[80], new_serial[80], new_expires[64], new_cert_uri[512];
    time_t new_not_after; /* 0: not known */
    size_t removed_certs; /* retired: certificate objects removed */
    bool removed_key;     /* retired: its key pair was removed too */
};

struct renew_result {
    struct renew_item *v;
    size_t n;
    time_t next_due; /* when the next valid certificate falls due; 0 */
};

/* "not-due", "renewed", "pending", "failed", "superseded", "unmanaged",
 * "retired", "due", "would-retire". */
const char *renew_outcome_name(enum renew_outcome o);

/*
 * Finish renewals that were cut short, then renew what is due on the
 * token of the options (or on every token the journal has installed
 * certificates on).  A due certificate without a journal record is renewed
 * only when --endpoint or --form is given; otherwise it is "unmanaged", and
 * so is one whose last renewal was rejected: the run then fails with
 * PE_E_NOT_RENEWED, each such item naming the command that fixes it.  Fills
 * *res (renew_result_clear).  PE_OK when nothing failed (also when nothing
 * was due), PE_PENDING when a renewal waits at the CA, else the first
 * failure.  With retire_old, the guarded removal of renew_retire.c follows.
 */
enum pe_rc renew_run(const struct renew_opts *ro, struct renew_result *res);

/* Free what res holds and zero it. */
void renew_result_clear(struct renew_result *res);

/* res as the "result" of the --json envelope (new reference). */
json_t *renew_result_json(const struct renew_result *res, long window);

/* One item as JSON, as in renew_result_json and --notify-cmd's file (new
 * reference, NULL when out of memory). */
json_t *renew_item_json(const struct renew_item *it);

#endif
