/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fixture.h - a private SoftHSM per test.
 *
 * fx_softhsm_begin() makes a fresh directory with its own softhsm2.conf
 * and token directory, points SOFTHSM2_CONF at it (before any PKCS#11
 * module is loaded), and initialises one token with the known PINs.
 * Tests find the token by label (FX_LABEL) or by the serial returned,
 * never by slot number.  fx_softhsm_end() removes everything.
 * Without SoftHSM on the machine the test is skipped (exit 77), which
 * CI forbids through P11E_NO_SKIP.
 */
#ifndef P11E_FIXTURE_H
#define P11E_FIXTURE_H

#include <limits.h>

#define FX_LABEL    "p11e-test"
#define FX_USER_PIN "1234"
#define FX_SO_PIN   "12345678"

struct fx_softhsm {
    char dir[PATH_MAX];    /* private scratch directory */
    char conf[PATH_MAX];   /* its softhsm2.conf */
    char module[PATH_MAX]; /* path of libsofthsm2.so */
    char uri[256];         /* "pkcs11:token=p11e-test" */
};

/* Set up (or SKIP); the fixture lives until fx_softhsm_end. */
void fx_softhsm_begin(struct fx_softhsm *fx);

/* Initialise one more token with the same PINs in the same directory. */
void fx_softhsm_add_token(struct fx_softhsm *fx, const char *label);

/* Remove the directory; safe to call twice. */
void fx_softhsm_end(struct fx_softhsm *fx);

/* Run a shell command line; returns its exit status (or -1). */
int fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
