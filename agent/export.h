/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export.h - the certificate of a key on the token and its chain, read
 * back from the token, for `export` and `sign-setup`:
 *
 *   export_find(ctx, &sel, &item);          which certificate, its chain
 *   export_write(path, cert, chain, fmt);   as PEM, DER or PKCS#7
 *   export_item_clear(&item);
 *
 * The chain is built by issuer links (name, key identifiers, signature)
 * among the token's certificates; where the token does not hold it all
 * (ykcs11 keeps only the leaf), the bundle that `enroll` saved beside its
 * journal record (<state-dir>/<id>.bundle) supplies the rest.
 */
#ifndef P11E_EXPORT_H
#define P11E_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "rc.h"
#include "tok.h"

/* Which certificate: by CKA_ID, by label, or (both NULL) the only one. */
struct export_select {
    const char *key_id;    /* hex, as tokopt_parse_hex reads it */
    const char *label;     /* CKA_LABEL of the certificate or its key */
    const char *state_dir; /* journal folder; NULL: the default one */
};

struct export_item {
    X509 *leaf;
    STACK_OF(X509) * chain; /* issuer first, up to the root if found */
    bool chain_complete;    /* the chain ends with a self-signed root */
    const char *chain_from; /* "token", "token+journal" or "none" */
    char *journal_id;       /* the record whose bundle helped, or NULL */
    char *id_hex;           /* CKA_ID, lower-case hex */
    char *label;            /* the certificate's CKA_LABEL ("" if none) */
    char *cert_uri;         /* pkcs11: URI of the certificate */
    char *key_uri;          /* pkcs11: URI of the private key */
    bool key_seen;          /* a key object with this CKA_ID was listed */
    bool always_auth;       /* the private key wants the PIN per signature */
    bool label_unique;      /* no other certificate has this label */
};

enum export_format { EXPORT_PEM, EXPORT_DER, EXPORT_PKCS7 };

/* "pem", "der", "pkcs7"; PE_E_USAGE naming the value otherwise. */
enum pe_rc export_format_parse(const char *s, enum export_format *pformat);

/*
 * Find the leaf certificate sel names among ctx's objects (a login first
 * shows private keys too; certificates need none) and build its chain.
 * None: PE_E_KEY; several and no choice made: PE_E_USAGE listing them.
 * Fills *item (export_item_clear), also partly on failure.
 */
enum pe_rc export_find(struct tok_ctx *ctx, const struct export_select *sel,
                       struct export_item *item);

/*
 * Encode cert (may be NULL) followed by chain (may be NULL) in format:
 * PEM blocks; DER certificates one after another; or one DER PKCS#7
 * SignedData holding only certificates (as `openssl crl2pkcs7 -nocrl`).
 * *pbuf is malloc'ed (free()).
 */
enum pe_rc export_encode(X509 *cert, STACK_OF(X509) * chain,
                         enum export_format format, unsigned char **pbuf,
                         size_t *plen);

/* export_encode into path, written atomically with mode 0644. */
enum pe_rc export_write(const char *path, X509 *cert, STACK_OF(X509) * chain,
                        enum export_format format);

/* Tell the person (say()) the command that prints signing recipes for the
 * key id_hex on the token token_uri: what install and enroll end with. */
void export_hint(const char *token_uri, const char *id_hex);

/* Free what item holds and zero it; safe to call twice. */
void export_item_clear(struct export_item *item);

#endif
