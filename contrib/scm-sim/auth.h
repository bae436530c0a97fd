/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.h - OAuth access tokens, form sessions and one-time codes.
 *
 * All three live in memory only: a restart voids them, as a client must be
 * ready for (it gets a 401 and starts over).
 */
#ifndef SCM_SIM_AUTH_H
#define SCM_SIM_AUTH_H

#include <stddef.h>

struct sim_auth;

enum auth_result {
    AUTH_OK = 0,
    AUTH_UNKNOWN, /* never issued, or for another realm */
    AUTH_EXPIRED,
    AUTH_WRONG, /* a wrong one-time code, tries remain */
    AUTH_VOID,  /* the code is void: too many tries, expired or none */
};

/* A new empty store, or NULL when out of memory. */
struct sim_auth *auth_new(void);

/* Free a; NULL is a no-op.  Wipes every secret. */
void auth_free(struct sim_auth *a);

/* Issue a bearer token for realm (a client id, or "form:<uri>:<email>")
 * valid for lifetime seconds.  Returns the token (borrowed until the next
 * call), NULL when out of memory or full. */
const char *auth_issue(struct sim_auth *a, const char *realm_kind,
                       const char *realm, long lifetime, char *out,
                       size_t outlen);

/* Check the Authorization header value hdr ("Bearer X") for realm_kind;
 * on AUTH_OK *prealm points at the realm (borrowed). */
enum auth_result auth_check(struct sim_auth *a, const char *realm_kind,
                            const char *hdr, const char **prealm);

/*
 * Make a new 6-digit one-time code for (form, email), replacing an old one
 * but keeping its wrong tries (at most `tries`); the code is written to out
 * (7 bytes).  0; -1 when out of memory; -2 when the address has no tries
 * left or was sent per_hour codes in the last hour (0: no limit), with the
 * seconds to wait in *pretry_after.
 */
int auth_otp_new(struct sim_auth *a, const char *form, const char *email,
                 long lifetime, long tries, long per_hour, char out[7],
                 long *pretry_after);

/* Check code for (form, email); *pleft: tries left after a wrong one.  A
 * right code is used up. */
enum auth_result auth_otp_verify(struct sim_auth *a, const char *form,
                                 const char *email, const char *code,
                                 long *pleft);

#endif
