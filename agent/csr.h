/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csr.h - PKCS#10 certificate requests signed by a key we cannot touch.
 *
 * csr_build() makes the request with OpenSSL, hashes the to-be-signed bytes
 * and hands only the digest to a sign callback (the token layer's
 * tok_sign_digest, or a software key in tests), so nothing here knows about
 * PKCS#11.  The result is checked with the public key before it is returned.
 *
 * Hash by key (one table, csr_md_nid): the hash matches the key's strength
 * as CAs expect it (CA/B Forum code-signing BR 6.1.5/7.1.3, NIST SP 800-57):
 *   EC P-256 -> SHA-256    EC P-384 -> SHA-384
 *   RSA up to 3072 bits -> SHA-256    RSA above 3072 (4096) -> SHA-384
 */
#ifndef P11E_CSR_H
#define P11E_CSR_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rc.h"

/*
 * The subject asked for.  Either dn, an OpenSSL-style "/CN=x/O=y/C=DE"
 * (a '/' or '\' inside a value is escaped with '\'), or the single fields;
 * not both.  email (either way) goes into the subjectAltName as an
 * rfc822Name.  Every string is UTF-8, borrowed, NULL when absent.
 */
struct csr_subject {
    const char *dn;
    const char *cn, *o, *ou, *c, *l, *st;
    const char *email;
};

/*
 * Sign dlen bytes of digest (made with md_nid, NID_sha256 or NID_sha384)
 * with the key behind ctx.  EC: a DER ECDSA-Sig-Value.  RSA: PKCS#1 v1.5
 * over the DigestInfo.  *psig is OPENSSL_malloc'ed; the caller frees it.
 * The same shape as tok_sign_digest() with ctx = the struct tok_key.
 */
typedef enum pe_rc (*csr_sign_fn)(void *ctx, int md_nid,
                                  const unsigned char *digest, size_t dlen,
                                  unsigned char **psig, size_t *psiglen);

/*
 * The digest for a key: NID_sha256 or NID_sha384 (table above).  Keys we
 * do not sign requests with (other curves, RSA under 2048, Ed25519): 0.
 */
int csr_md_nid(EVP_PKEY *pub);

/*
 * Check subj without building anything: PE_E_USAGE with one sentence
 * naming the bad part (unknown attribute, empty value, too long, country
 * not two letters, malformed email...).
 */
enum pe_rc csr_subject_check(const struct csr_subject *subj);

/*
 * Build the request for pub with subject subj, sign it through sign(ctx,
 * ...), and verify the signature with pub after a DER round trip; *preq is
 * the request decoded from that DER.  Allocates *preq (X509_REQ_free).
 * PE_E_USAGE: bad subject; PE_E_KEY: a key type we do not sign with;
 * PE_E_VERIFY: the signature does not verify (wrong key behind ctx); sign's own
 * result is passed through.
 */
enum pe_rc csr_build(const struct csr_subject *subj, EVP_PKEY *pub,
                     csr_sign_fn sign, void *ctx, X509_REQ **preq);

/* The request as PEM ("-----BEGIN CERTIFICATE REQUEST-----"), a new
 * NUL-terminated string (free()). */
enum pe_rc csr_to_pem(X509_REQ *req, char **ppem);

/* The DER as one line of base64, no armour, no newline (what SCM's REST
 * API takes); a new NUL-terminated string (free()). */
enum pe_rc csr_to_der_b64(X509_REQ *req, char **pb64);

#endif
