/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_bundle.c - the bundle parser, and verification of whatever parsed
 * (with the first certificate's own key as "the token key", so the leaf
 * search, the leaf checks and chain building all run).
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STACK_OF(X509) *certs = sk_X509_new_null(), *chain = NULL;
    struct bundle_check chk = {0};
    X509 *leaf = NULL;
    static int once;

    if (!once) {
        log_init(true, false); /* no warnings on every input */
        once = 1;
    }
    if (certs == NULL)
        return 0;
    if (bundle_parse(data, size, "fuzz", certs) == PE_OK &&
        sk_X509_num(certs) > 0) {
        chk.key = X509_get0_pubkey(sk_X509_value(certs, 0));
        chk.at = 1767225600;    /* a fixed time: the same result every run */
        chk.bundle_root = true; /* verify as far as a chain can go */
        if (chk.key != NULL &&
            bundle_verify(certs, &chk, &leaf, &chain, NULL) == PE_OK) {
            X509_free(leaf);
            bundle_certs_free(chain);
        }
    }
    bundle_certs_free(certs);
    ERR_clear_error();
    return 0;
}
