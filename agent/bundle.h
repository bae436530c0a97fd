/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.h - what a CA sends back: parse it, find our leaf, order and
 * verify the chain, before anything is written to a token.
 *
 * Accepted (docs/PROTOCOL.md section 3, all of SCM's download formats): PEM
 * certificates in any order and number, PEM PKCS#7 ("PKCS7" or "PKCS #7
 * SIGNED DATA"), a DER certificate, DER PKCS#7.  In PEM, text outside the
 * BEGIN/END blocks (CAs prepend "subject=" dumps) is ignored, as OpenSSL
 * does; a damaged or unterminated block, a block of another type (a key, a
 * request) or DER with trailing bytes is an error.  CRLF line ends are fine.
 * Limits: BUNDLE_MAX_BYTES of input, BUNDLE_MAX_CERTS certificates; the
 * same certificate twice counts once.
 *
 * The server's order is never trusted: the leaf is the one certificate
 * whose public key equals the token key, and the chain is built from
 * issuer/subject names and key identifiers.
 */
#ifndef P11E_BUNDLE_H
#define P11E_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rc.h"

#define BUNDLE_MAX_BYTES (1024 * 1024)
#define BUNDLE_MAX_CERTS 16

/*
 * Parse len bytes of data (what: its name for messages, e.g. the file
 * name) and append its certificates to certs, skipping ones already there.
 * PE_E_INPUT with one sentence when it cannot be parsed or is over a
 * limit; certs then holds what it held before.
 */
enum pe_rc bundle_parse(const unsigned char *data, size_t len, const char *what,
                        STACK_OF(X509) * certs);

/* Read path ("-" = stdin) with a bounded read of BUNDLE_MAX_BYTES (a
 * larger file is refused before it is read whole) and bundle_parse it. */
enum pe_rc bundle_read_file(const char *path, STACK_OF(X509) * certs);

/* sk_X509_pop_free(certs, X509_free); NULL is a no-op. */
void bundle_certs_free(STACK_OF(X509) * certs);

/* What bundle_verify checks against. */
struct bundle_check {
    EVP_PKEY *key;          /* the token key's public key (required) */
    STACK_OF(X509) * trust; /* trusted roots (--trust); NULL or empty: a
                               self-signed root in the bundle, and without
                               one the system trust store */
    bool any_eku;           /* do not require the codeSigning EKU */
    time_t at;              /* check validity at this time; 0 = now */
};

/*
 * Find the leaf for chk->key among certs and check it: exactly one
 * end-entity certificate, public key equal to the token key, within its
 * validity, keyUsage digitalSignature, EKU codeSigning (unless any_eku),
 * and a chain that X509_verify_cert()s to a trusted root.  On success
 * *pleaf is the leaf (new reference, X509_free) and *pchain its verified
 * chain in order, issuer first, root last (new stack, bundle_certs_free).
 * PE_E_VERIFY with one sentence otherwise (a missing intermediate is named
 * by the issuer it needs); PE_E_NOMEM.
 */
enum pe_rc bundle_verify(STACK_OF(X509) * certs, const struct bundle_check *chk,
                         X509 **pleaf, STACK_OF(X509) * *pchain);

/* One certificate as PEM: a new NUL-terminated string (free()). */
enum pe_rc bundle_cert_pem(X509 *cert, char **ppem);

/* Certificates as concatenated PEM in the stack's order: a new
 * NUL-terminated string (free()); "" for an empty stack. */
enum pe_rc bundle_certs_pem(STACK_OF(X509) * certs, char **ppem);

/* The name as one RFC 2253 line, UTF-8 ("CN=x,O=y"), into buf. */
const char *bundle_name_str(const X509_NAME *name, char *buf, size_t size);

/* The time as "2026-11-24T09:00:00Z" (util_time_rfc3339) into buf;
 * "(unreadable time)" if it cannot be read. */
const char *bundle_time_str(const ASN1_TIME *t, char *buf, size_t size);

#endif
