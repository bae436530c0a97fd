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

/*
 * The anchors of the chain (docs/PROTOCOL.md section 3): the trust roots
 * given (--trust) and nothing else when there are any; otherwise the
 * system's trust store (system_store) and the roots pinned by earlier
 * enrollments.  A root the bundle carries is only a candidate that must
 * be one of these, unless the person accepted it (bundle_root, from
 * --trust-bundle-root); expect_root then names the one accepted.
 */
struct bundle_check {
    EVP_PKEY *key;           /* the token key's public key (required) */
    STACK_OF(X509) * trust;  /* --trust roots; NULL or empty: none */
    STACK_OF(X509) * pinned; /* roots pinned by earlier enrollments */
    bool system_store;       /* also the system's trusted roots */
    bool bundle_root;        /* also the bundle's own self-signed root */
    const char *expect_root; /* with bundle_root: only the root of this
                                SHA-256 (bundle_cert_sha256); NULL: any */
    bool pins;               /* the caller pins an accepted root: the
                                refusal says so */
    bool any_eku;            /* do not require the codeSigning EKU */
    time_t at;               /* check validity at this time; 0 = now */
};

#define BUNDLE_SHA256_HEX 65 /* 64 hex digits and the NUL */
#define BUNDLE_SHA256_FP  96 /* 32 colon-separated pairs and the NUL */

/* The root at the top of the chain, as bundle_verify saw it. */
struct bundle_root {
    bool refused; /* PE_E_VERIFY because nothing trusted anchors the
                     chain: --trust FILE (or --trust-bundle-root, when
                     sha256 is set) is the way on */
    char sha256[BUNDLE_SHA256_HEX]; /* verified: the chain's root; refused:
                                       the bundle's root, "" if it carries
                                       none */
    bool by_bundle_root; /* verified: anchored by the bundle's own root,
                            accepted through chk->bundle_root */
};

/*
 * Find the leaf for chk->key among certs and check it: exactly one
 * end-entity certificate, public key equal to the token key, within its
 * validity, keyUsage digitalSignature, EKU codeSigning (unless any_eku),
 * and a chain that X509_verify_cert()s to one of chk's anchors.  On
 * success *pleaf is the leaf (new reference, X509_free) and *pchain its
 * verified chain in order, issuer first, root last (new stack,
 * bundle_certs_free).  PE_E_VERIFY with one sentence otherwise (a missing
 * intermediate is named by the issuer it needs; a root nothing anchors by
 * its subject and SHA-256 with the two ways on); PE_E_NOMEM.  proot (may
 * be NULL) tells which root it was.
 */
enum pe_rc bundle_verify(STACK_OF(X509) * certs, const struct bundle_check *chk,
                         X509 **pleaf, STACK_OF(X509) * *pchain,
                         struct bundle_root *proot);

/* The SHA-256 of cert's DER as 64 lowercase hex digits (as the journal
 * keeps it) into buf[BUNDLE_SHA256_HEX]; "" if it cannot be computed. */
const char *bundle_cert_sha256(X509 *cert, char *buf);

/* The same as the person compares it with `openssl x509 -fingerprint
 * -sha256`: uppercase pairs with colons, into buf[BUNDLE_SHA256_FP]. */
const char *bundle_sha256_fp(const char *hex, char *buf);

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
