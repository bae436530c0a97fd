/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rc.h - the one program-wide result type, its messages and exit codes.
 *
 * Every function that can fail returns an enum pe_rc.  The detail of the
 * last failure (which call, which object, what the peer said) travels beside
 * it in a thread-local buffer set by pe_failf(); the user sees one sentence:
 * the detail if one was set, else the generic message of the code.
 */
#ifndef P11E_RC_H
#define P11E_RC_H

#include <stddef.h>

enum pe_rc {
    PE_OK = 0,

    /* enrollment outcomes that are not errors of ours */
    PE_PENDING,    /* submitted, not issued yet */
    PE_E_REJECTED, /* the CA declined, rejected or revoked it */

    /* the CA side */
    PE_E_CA_UNREACHABLE, /* connect, TLS, timeout, 429/5xx after retries */
    PE_E_CA_TLS,         /* the server's certificate is not trusted */
    PE_E_CA_AUTH,        /* credentials, one-time code or session refused */
    PE_E_CA_PROTOCOL,    /* malformed or oversized answer */

    /* configuration and usage */
    PE_E_USAGE,  /* bad command line */
    PE_E_CONFIG, /* bad configuration file or value */

    /* the token */
    PE_E_MODULE,          /* the PKCS#11 module does not load or initialise */
    PE_E_TOKEN_NOT_FOUND, /* no token, or several, match the URI */
    PE_E_TOKEN,           /* any other token or device failure */
    PE_E_PIN_INCORRECT,   /* the PIN (or management key) was refused */
    PE_E_PIN_LOCKED,      /* locked, or final try in an unattended run */
    PE_E_PIN_SOURCE,      /* no PIN could be read from the source given */
    PE_E_KEY,             /* key missing, wrong type or unsafe attributes */

    /* what came back does not check out */
    PE_E_VERIFY, /* wrong key, bad chain, validity, usage */
    PE_E_INPUT,  /* a file or bundle that cannot be parsed */

    /* local state */
    PE_E_IO,    /* reading or writing a local file */
    PE_E_STATE, /* the journal is damaged or an order conflicts */

    /* renewal */
    PE_E_NOT_RENEWED, /* a certificate within the window that renew cannot
                         renew: no record, no endpoint, a rejected renewal */
    /* the person stopped the run (Ctrl-C, SIGTERM) */
    PE_E_INTERRUPTED,

    PE_E_NOMEM,
    PE_E_INTERNAL,

    PE_RC_COUNT
};

/* Documented process exit codes; see README.md "Exit codes". */
enum pe_exit {
    PE_EXIT_OK = 0,
    PE_EXIT_INTERNAL = 1,
    PE_EXIT_USAGE = 2,
    PE_EXIT_PENDING = 3,
    PE_EXIT_REJECTED = 4,
    PE_EXIT_CA_UNREACHABLE = 5,
    PE_EXIT_CA_ERROR = 6,
    PE_EXIT_TOKEN = 7,
    PE_EXIT_PIN = 8,
    PE_EXIT_VERIFY = 9,
    PE_EXIT_IO = 10,
    PE_EXIT_NOT_RENEWED = 11,
    PE_EXIT_INTERRUPTED = 130, /* as a shell reports a Ctrl-C */
};

/* Static, generic one-sentence message for rc (never NULL). */
const char *pe_rc_message(enum pe_rc rc);

/* Short stable name, e.g. "PE_E_VERIFY" (for --json and logs). */
const char *pe_rc_name(enum pe_rc rc);

/* The process exit code for rc. */
int pe_rc_exit(enum pe_rc rc);

/*
 * Record the detail of the failure about to be returned and return rc,
 * so call sites read: return pe_failf(PE_E_TOKEN, "C_Login: %s", name);
 * The text replaces any earlier detail.
 */
enum pe_rc pe_failf(enum pe_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last detail recorded, or "" if none. */
const char *pe_detail(void);

/* Forget the last detail. */
void pe_clear(void);

/* The sentence for the user: the detail if one is set, else the message. */
const char *pe_sentence(enum pe_rc rc);

/*
 * Append OpenSSL's error queue (drained) to the detail, as ": reason".
 * Call right where an OpenSSL call failed; returns rc.
 */
enum pe_rc pe_fail_ossl(enum pe_rc rc, const char *what);

#endif
