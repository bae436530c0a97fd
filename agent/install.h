/* SPDX-License-Identifier: Apache-2.0 */
/*
 * install.h - issued material onto the token, the way `p11enroll install`
 * does it, for every command that gets a certificate back (install,
 * enroll, resume, renew):
 *
 *   bundle_parse(...) / bundle_read_file(...)   certificates in
 *   install_find_key(ctx, certs, what, &key)     unless the key is known
 *   install_material(ctx, key, certs, &opts, &res)
 *   install_write_files(out_cert, out_chain, &res)
 *   install_summary(&res); install_result_clear(&res);
 *
 * install_material() verifies first (bundle_verify: key, validity, usage,
 * chain) and writes nothing unless all of it passed; then it writes the
 * leaf and the chain, reads them back and has the key sign a random
 * challenge that the certificate must verify.
 */
#ifndef P11E_INSTALL_H
#define P11E_INSTALL_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "bundle.h"
#include "rc.h"
#include "tok.h"

struct install_result {
    X509 *leaf;                  /* the certificate installed */
    STACK_OF(X509) * chain;      /* its verified chain, issuer first */
    struct tok_cert_result cert; /* where the leaf is on the token */
    size_t written, skipped;     /* chain certificates */
    bool chain_on_token;         /* false: the token holds only the leaf */
    struct bundle_root root;     /* the chain's root, or the one refused */
};

/*
 * The token key that one of certs (end-entity ones first) is for.
 * None: PE_E_VERIFY naming the certificate ("is for another key") or,
 * with only CA certificates, saying the leaf is missing (what names the
 * input).  Needs a logged-in ctx.  Allocates *pkey (tok_key_free).
 */
enum pe_rc install_find_key(struct tok_ctx *ctx, STACK_OF(X509) * certs,
                            const char *what, struct tok_key **pkey);

/*
 * The two halves of install_material.  install_check verifies certs for
 * the key whose public key is pub (bundle_verify) into res->leaf and
 * res->chain, and touches no token.  Of opts (NULL: none) it takes the
 * anchors and any_eku; the key is pub's, and the system's trust store is
 * always an anchor when opts gives no trust roots.  install_checked writes what
 * install_check passed and proves it (read back, sign and verify a challenge).
 */
enum pe_rc install_check(EVP_PKEY *pub, STACK_OF(X509) * certs,
                         const struct bundle_check *opts,
                         struct install_result *res);
enum pe_rc install_checked(struct tok_ctx *ctx, struct tok_key *key,
                           struct install_result *res);

/*
 * Verify certs for key and, only when that passed, write leaf and chain
 * to the token and prove them (read back, sign and verify a challenge).
 * Fills *res (install_result_clear), also partly on failure.
 * PE_E_VERIFY/PE_E_INPUT: nothing was written.
 */
enum pe_rc install_material(struct tok_ctx *ctx, struct tok_key *key,
                            STACK_OF(X509) * certs,
                            const struct bundle_check *opts,
                            struct install_result *res);

/* Write res's leaf and chain as PEM files (atomically, 0644); a NULL
 * path is skipped.  Says what was written. */
enum pe_rc install_write_files(const char *out_cert, const char *out_chain,
                               const struct install_result *res);

/* Tell the person what is on the token now (subject, issuer, serial,
 * expiry, URI, chain). */
void install_summary(const struct install_result *res);

/* Free what res holds and zero it; safe to call twice. */
void install_result_clear(struct install_result *res);

#endif
