/* SPDX-License-Identifier: Apache-2.0 */
/*
 * install.c - verified material onto the token, then proven there.
 * Nothing reaches the token unless bundle_verify() passed.
 */
#include "install.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "csr.h"
#include "fileio.h"
#include "log.h"

enum pe_rc install_find_key(struct tok_ctx *ctx, STACK_OF(X509) * certs,
                            const char *what, struct tok_key **pkey)
{
    X509 *x, *ee = NULL;
    char name[256];
    enum pe_rc rc;
    int pass, i;

    *pkey = NULL;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < sk_X509_num(certs); i++) {
            x = sk_X509_value(certs, i);
            if ((X509_check_ca(x) == 0) != (pass == 0))
                continue;
            if (pass == 0 && ee == NULL)
                ee = x;
            if (X509_get0_pubkey(x) == NULL)
                continue;
            rc = tok_key_find_by_public(ctx, X509_get0_pubkey(x), pkey);
            if (rc != PE_E_KEY) /* found, or the token failed */
                return rc;
        }
    }
    if (ee == NULL)
        return pe_failf(PE_E_VERIFY,
                        "\"%s\" holds only CA certificates; the certificate "
                        "for a key on the token is missing.",
                        what);
    return pe_failf(
        PE_E_VERIFY,
        "The certificate \"%s\" is for another key: no key on "
        "token \"%s\" matches it.",
        bundle_name_str(X509_get_subject_name(ee), name, sizeof(name)),
        tok_token_label(ctx));
}

/* Sign a random challenge with the token key; check it with cert. */
static enum pe_rc install_prove_key(struct tok_key *key, X509 *cert)
{
    unsigned char challenge[32], dig[EVP_MAX_MD_SIZE], *sig = NULL;
    unsigned int dlen = 0;
    size_t siglen = 0;
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    EVP_MD_CTX *md = NULL;
    int md_nid = csr_md_nid(pub);
    enum pe_rc rc = PE_E_VERIFY;

    if (md_nid == 0)
        return pe_failf(PE_E_KEY, "The key type cannot be checked.");
    if (RAND_bytes(challenge, sizeof(challenge)) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Making a random challenge");
    if (EVP_Digest(challenge, sizeof(challenge), dig, &dlen,
                   EVP_get_digestbynid(md_nid), NULL) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Hashing the challenge");
    rc = tok_sign_digest(key, md_nid, dig, dlen, &sig, &siglen);
    if (rc != PE_OK)
        return rc;
    rc = PE_E_NOMEM;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        goto out;
    if (EVP_DigestVerifyInit(md, NULL, EVP_get_digestbynid(md_nid), NULL,
                             pub) != 1 ||
        EVP_DigestVerify(md, sig, siglen, challenge, sizeof(challenge)) != 1) {
        rc = pe_fail_ossl(PE_E_VERIFY,
                          "A signature by the token key does not verify "
                          "with the installed certificate");
        goto out;
    }
    rc = PE_OK;
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(sig);
    return rc;
}

/* After writing: the leaf is found next to its key and reads back equal,
 * and the key signs for the certificate.  Each chain certificate was read
 * back by its handle as it was written (tok_cert_write_all): listing
 * the whole token again would cost three more searches, each of which
 * makes SoftHSM re-read its object files. */
static enum pe_rc install_post_check(struct tok_ctx *ctx, struct tok_key *key,
                                     X509 *leaf)
{
    bool found = false;
    enum pe_rc rc;

    rc = tok_cert_find_same(ctx, key, leaf, &found);
    if (rc != PE_OK)
        return rc;
    if (!found)
        return pe_failf(PE_E_TOKEN, "The certificate read back from the "
                                    "token is not the one written.");
    /* the same bytes: the leaf's public key is the stored one's */
    return install_prove_key(key, leaf);
}

enum pe_rc install_write_files(const char *out_cert, const char *out_chain,
                               const struct install_result *res)
{
    char *pem = NULL;
    enum pe_rc rc = PE_OK;

    if (out_cert != NULL) {
        rc = bundle_cert_pem(res->leaf, &pem);
        if (rc == PE_OK)
            rc = fileio_write_atomic(out_cert, pem, strlen(pem), 0644);
        free(pem);
        pem = NULL;
        if (rc != PE_OK)
            return rc;
        say("Wrote the certificate to %s.", out_cert);
    }
    if (out_chain != NULL) {
        rc = bundle_certs_pem(res->chain, &pem);
        if (rc == PE_OK)
            rc = fileio_write_atomic(out_chain, pem, strlen(pem), 0644);
        free(pem);
        if (rc != PE_OK)
            return rc;
        say("Wrote the chain (%d certificates) to %s.", sk_X509_num(res->chain),
            out_chain);
    }
    return rc;
}

void install_summary(const struct install_result *res)
{
    char s[256], i[256], t[64];
    X509 *leaf = res->leaf;
    BIGNUM *bn;
    char *serial;

    if (leaf == NULL)
        return;
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    serial = bn != NULL ? BN_bn2hex(bn) : NULL;
    say("Installed \"%s\"",
        bundle_name_str(X509_get_subject_name(leaf), s, sizeof(s)));
    say("  issuer   %s",
        bundle_name_str(X509_get_issuer_name(leaf), i, sizeof(i)));
    say("  serial   %s", serial != NULL ? serial : "?");
    say("  expires  %s",
        bundle_time_str(X509_get0_notAfter(leaf), t, sizeof(t)));
    say("  on token %s%s", res->cert.uri != NULL ? res->cert.uri : "?",
        res->cert.unchanged  ? " (already there)"
        : res->cert.replaced ? " (replaced the old one)"
                             : "");
    if (res->chain_on_token)
        say("  chain    %zu written, %zu already on the token", res->written,
            res->skipped);
    else
        say("  chain    not stored: this token holds only the leaf "
            "(use --out-chain)");
    OPENSSL_free(serial);
    BN_free(bn);
}

enum pe_rc install_check(EVP_PKEY *pub, STACK_OF(X509) * certs,
                         const struct bundle_check *opts,
                         struct install_result *res)
{
    struct bundle_check chk = {0};

    install_result_clear(res);
    if (opts != NULL)
        chk = *opts;
    chk.key = pub;
    chk.system_store = true;
    chk.at = 0;
    return bundle_verify(certs, &chk, &res->leaf, &res->chain, &res->root);
}

enum pe_rc install_checked(struct tok_ctx *ctx, struct tok_key *key,
                           struct install_result *res)
{
    char why[768];
    enum pe_rc rc;

    /* Checked: now, and only now, the token is written. */
    res->chain_on_token = tok_can_store_chain(ctx);
    rc = tok_cert_write_all(ctx, key, res->leaf, res->chain, &res->cert,
                            &res->written, &res->skipped);
    if (rc != PE_OK)
        return rc;
    rc = install_post_check(ctx, key, res->leaf);
    if (rc != PE_OK) {
        snprintf(why, sizeof(why), "%s", pe_sentence(rc));
        pe_failf(rc,
                 "The certificate was written to the token, but the check "
                 "after writing failed: %s",
                 why);
    }
    return rc;
}

enum pe_rc install_material(struct tok_ctx *ctx, struct tok_key *key,
                            STACK_OF(X509) * certs,
                            const struct bundle_check *opts,
                            struct install_result *res)
{
    EVP_PKEY *pub = NULL;
    enum pe_rc rc;

    install_result_clear(res);
    rc = tok_key_public(key, &pub);
    if (rc == PE_OK)
        rc = install_check(pub, certs, opts, res);
    if (rc == PE_OK)
        rc = install_checked(ctx, key, res);
    EVP_PKEY_free(pub);
    return rc;
}

void install_result_clear(struct install_result *res)
{
    X509_free(res->leaf);
    bundle_certs_free(res->chain);
    tok_cert_result_clear(&res->cert);
    memset(res, 0, sizeof(*res));
}
