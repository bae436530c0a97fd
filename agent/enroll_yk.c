/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_yk.c - what enrolling a YubiKey (ykcs11) adds to the flow: the
 * PIV slot of the new key and the key's attestation for the request.
 */
#include "enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "log.h"

/* ykcs11's CKA_ID of a PIV slot (tok_piv_slot_id) as hex into *phex. */
enum pe_rc enroll_slot_key_id(const char *slot, char **phex)
{
    unsigned char id;
    char hex[3];
    enum pe_rc rc;

    rc = tok_piv_slot_id(slot, &id);
    if (rc != PE_OK)
        return rc;
    snprintf(hex, sizeof(hex), "%02x", id);
    return journal_set(phex, hex);
}

/*
 * A YubiKey's attestation of the key: the slot's attestation certificate
 * and the f9 intermediate, PEM, base64 (docs/PROTOCOL.md §4), after checking
 * that it certifies this very key.
 */
enum pe_rc enroll_yk_attestation(struct tok_ctx *ctx, struct tok_key *key,
                                 char **pb64)
{
    X509 *att = NULL, *f9 = NULL;
    EVP_PKEY *pub = NULL;
    char *a = NULL, *b = NULL, *both = NULL;
    size_t len;
    enum pe_rc rc;

    rc = tok_attestation_read(ctx, key, &att, &f9);
    if (rc == PE_OK)
        rc = tok_key_public(key, &pub);
    if (rc != PE_OK)
        goto out;
    if (EVP_PKEY_eq(X509_get0_pubkey(att), pub) != 1) {
        rc = pe_failf(PE_E_KEY, "The token's attestation is for another key "
                                "than the one in the slot.");
        goto out;
    }
    rc = bundle_cert_pem(att, &a);
    if (rc == PE_OK)
        rc = bundle_cert_pem(f9, &b);
    if (rc != PE_OK)
        goto out;
    len = strlen(a) + strlen(b) + 1;
    both = malloc(len);
    if (both == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    snprintf(both, len, "%s%s", a, b);
    rc = ca_b64((const unsigned char *)both, strlen(both), pb64);
    if (rc == PE_OK)
        say("Sending the key's attestation (slot certificate and f9).");
out:
    free(both);
    free(a);
    free(b);
    EVP_PKEY_free(pub);
    X509_free(att);
    X509_free(f9);
    return rc;
}
