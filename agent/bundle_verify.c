/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle_verify.c - find the leaf for the token key among a bundle's
 * certificates, check it, order its chain ourselves, and verify that
 * chain to an anchor: --trust, else the system store and the roots pinned
 * by earlier enrollments.  A root that only the bundle carries is never
 * an anchor unless the person accepted it (--trust-bundle-root).
 */
#include "bundle.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"

#define NAME_MAX_STR 256

static const char *subj_str(X509 *x, char *buf)
{
    return bundle_name_str(X509_get_subject_name(x), buf, NAME_MAX_STR);
}

/* The one leaf for key: PE_E_VERIFY when there are two end-entity
 * certificates, none for the key, or several for it. */
static enum pe_rc bundle_find_leaf(STACK_OF(X509) * certs, EVP_PKEY *key,
                                   X509 **pleaf)
{
    X509 *x, *ee = NULL, *match = NULL;
    char a[NAME_MAX_STR], b[NAME_MAX_STR];
    int i;

    for (i = 0; i < sk_X509_num(certs); i++) {
        x = sk_X509_value(certs, i);
        if (X509_check_ca(x) == 0) {
            if (ee != NULL)
                return pe_failf(PE_E_VERIFY,
                                "The bundle holds two end-entity "
                                "certificates, \"%s\" and \"%s\"; expected "
                                "exactly one leaf.",
                                subj_str(ee, a), subj_str(x, b));
            ee = x;
        }
        if (X509_get0_pubkey(x) != NULL &&
            EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1) {
            if (match != NULL)
                return pe_failf(PE_E_VERIFY,
                                "The bundle holds two certificates for the "
                                "token key, \"%s\" and \"%s\".",
                                subj_str(match, a), subj_str(x, b));
            match = x;
        }
    }
    ERR_clear_error();
    if (match == NULL && ee != NULL)
        return pe_failf(PE_E_VERIFY,
                        "The certificate \"%s\" is for another key, not "
                        "the token's key.",
                        subj_str(ee, a));
    if (match == NULL)
        return pe_failf(PE_E_VERIFY,
                        "The bundle holds only CA certificates (%d); the "
                        "certificate for the token key is missing.",
                        sk_X509_num(certs));
    if (match != ee)
        return pe_failf(PE_E_VERIFY,
                        "The certificate for the token key, \"%s\", is a "
                        "CA certificate, not a signing certificate.",
                        subj_str(match, a));
    *pleaf = match;
    return PE_OK;
}

/* Validity, keyUsage and EKU of the leaf. */
static enum pe_rc bundle_check_leaf(X509 *leaf, const struct bundle_check *c)
{
    char s[NAME_MAX_STR], t[64];
    time_t at = c->at != 0 ? c->at : time(NULL);
    uint32_t flags = X509_get_extension_flags(leaf);
    const ASN1_TIME *nb = X509_get0_notBefore(leaf);
    const ASN1_TIME *na = X509_get0_notAfter(leaf);
    int cmp;

    if (flags & EXFLAG_INVALID)
        return pe_failf(PE_E_VERIFY,
                        "The certificate \"%s\" has malformed extensions.",
                        subj_str(leaf, s));
    cmp = X509_cmp_time(nb, &at);
    if (cmp == 0 || X509_cmp_time(na, &at) == 0)
        return pe_failf(PE_E_VERIFY,
                        "The certificate \"%s\" has an unreadable validity "
                        "period.",
                        subj_str(leaf, s));
    if (cmp > 0)
        return pe_failf(PE_E_VERIFY,
                        "The certificate \"%s\" is not valid yet: valid "
                        "from %s.",
                        subj_str(leaf, s), bundle_time_str(nb, t, sizeof(t)));
    if (X509_cmp_time(na, &at) < 0)
        return pe_failf(PE_E_VERIFY, "The certificate \"%s\" expired on %s.",
                        subj_str(leaf, s), bundle_time_str(na, t, sizeof(t)));
    if (!(flags & EXFLAG_KUSAGE) ||
        !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
        return pe_failf(PE_E_VERIFY,
                        "The certificate \"%s\" lacks the digitalSignature "
                        "key usage.",
                        subj_str(leaf, s));
    if (!c->any_eku && (!(flags & EXFLAG_XKUSAGE) ||
                        !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN)))
        return pe_failf(PE_E_VERIFY,
                        "The certificate \"%s\" lacks the codeSigning "
                        "extended key usage (--any-eku accepts it for other "
                        "uses).",
                        subj_str(leaf, s));
    return PE_OK;
}

const char *bundle_cert_sha256(X509 *cert, char *buf)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    buf[0] = '\0';
    if (cert != NULL && X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == 32)
        util_hex_encode(md, n, buf, BUNDLE_SHA256_HEX);
    ERR_clear_error();
    return buf;
}

const char *bundle_sha256_fp(const char *hex, char *buf)
{
    size_t i, n = 0;

    buf[0] = '\0';
    for (i = 0;
         hex[i] != '\0' && hex[i + 1] != '\0' && n + 3 <= BUNDLE_SHA256_FP;
         i += 2) {
        if (n > 0)
            buf[n++] = ':';
        buf[n++] = (char)toupper((unsigned char)hex[i]);
        buf[n++] = (char)toupper((unsigned char)hex[i + 1]);
        buf[n] = '\0';
    }
    return buf;
}

/* Add every certificate of certs to store. */
static enum pe_rc add_all(X509_STORE *store, STACK_OF(X509) * certs)
{
    int i;

    for (i = 0; i < sk_X509_num(certs); i++)
        if (X509_STORE_add_cert(store, sk_X509_value(certs, i)) != 1)
            return pe_fail_ossl(PE_E_INTERNAL, "Adding a trusted root");
    return PE_OK;
}

/* The anchors of chk into store; root is the bundle's own self-signed
 * root or NULL.  *pmismatch: the person accepted another root than this;
 * *padded: root is one of the anchors. */
static enum pe_rc bundle_anchors(X509_STORE *store,
                                 const struct bundle_check *chk, X509 *root,
                                 bool *pmismatch, bool *padded)
{
    char sha[BUNDLE_SHA256_HEX];
    enum pe_rc rc;

    *pmismatch = false;
    *padded = false;
    if (chk->trust != NULL && sk_X509_num(chk->trust) > 0) {
        /* a trust file may name an intermediate: anchor there */
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
        return add_all(store, chk->trust);
    }
    rc = add_all(store, chk->pinned);
    if (rc == PE_OK && chk->system_store &&
        X509_STORE_set_default_paths(store) != 1)
        rc = pe_fail_ossl(PE_E_INTERNAL, "Reading the system's trusted roots");
    if (rc != PE_OK || !chk->bundle_root || root == NULL)
        return rc;
    bundle_cert_sha256(root, sha);
    if (chk->expect_root != NULL && strcasecmp(chk->expect_root, sha) != 0) {
        *pmismatch = true;
        return PE_OK;
    }
    if (X509_STORE_add_cert(store, root) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Adding the bundle's root");
    *padded = true;
    return PE_OK;
}

/* The fingerprint of a pinned root with root's subject (another root
 * under the same name) into fp[BUNDLE_SHA256_FP]; "" if none. */
static void pinned_as(STACK_OF(X509) * pinned, X509 *root, char *fp)
{
    char hex[BUNDLE_SHA256_HEX];
    X509 *p;
    int i;

    fp[0] = '\0';
    for (i = 0; i < sk_X509_num(pinned) && fp[0] == '\0'; i++) {
        p = sk_X509_value(pinned, i);
        if (X509_NAME_cmp(X509_get_subject_name(p),
                          X509_get_subject_name(root)) == 0)
            bundle_sha256_fp(bundle_cert_sha256(p, hex), fp);
    }
}

/* The sentence for a chain that no anchor vouches for (docs/PROTOCOL.md
 * section 3): the bundle's root with its fingerprint, or its absence, and
 * the ways on. */
static enum pe_rc bundle_refused(const struct bundle_check *chk, X509 *root,
                                 X509 *top, bool mismatch,
                                 struct bundle_root *out)
{
    char s[NAME_MAX_STR], i[NAME_MAX_STR], fp[BUNDLE_SHA256_FP],
        was[BUNDLE_SHA256_FP];

    out->refused = true;
    if (root == NULL)
        return pe_failf(
            PE_E_VERIFY,
            "The bundle carries no root: \"%s\", the issuer of "
            "\"%s\", is neither in the bundle nor in the "
            "system's trust store nor pinned by an earlier "
            "enrollment; give --trust FILE with the CA's root "
            "certificate.",
            bundle_name_str(X509_get_issuer_name(top), i, sizeof(i)),
            subj_str(top, s));
    bundle_sha256_fp(bundle_cert_sha256(root, out->sha256), fp);
    if (mismatch)
        return pe_failf(PE_E_VERIFY,
                        "The bundle's root \"%s\" (SHA-256 %s) is not the "
                        "root accepted before (SHA-256 %s); give --trust "
                        "FILE with the CA's root, or --trust-bundle-root "
                        "again to accept this one.",
                        subj_str(root, s), fp,
                        bundle_sha256_fp(chk->expect_root, was));
    pinned_as(chk->pinned, root, was);
    return pe_failf(PE_E_VERIFY,
                    "The chain ends at the root \"%s\" (SHA-256 %s), which "
                    "only the bundle vouches for: it is neither in the "
                    "system's trust store nor pinned by an earlier "
                    "enrollment%s%s%s; give --trust FILE with the CA's root, "
                    "or --trust-bundle-root to accept this root %s.",
                    subj_str(root, s), fp,
                    was[0] != '\0' ? " (the root pinned under that name is "
                                     "SHA-256 "
                                   : "",
                    was,
                    was[0] != '\0' ? ": has the CA changed its root, or is "
                                     "this one forged?)"
                                   : "",
                    chk->pins ? "once and pin it for renewals"
                              : "for this run");
}

/* One sentence for a failed X509_verify_cert against --trust, or for any
 * failure that is not about the anchor. */
static enum pe_rc bundle_chain_error(X509_STORE_CTX *ctx, X509 *root,
                                     struct bundle_root *out)
{
    int err = X509_STORE_CTX_get_error(ctx);
    X509 *x = X509_STORE_CTX_get_current_cert(ctx);
    char s[NAME_MAX_STR], i[NAME_MAX_STR], t[64], fp[BUNDLE_SHA256_FP];

    if (x == NULL)
        return pe_failf(PE_E_VERIFY, "The chain does not verify: %s.",
                        X509_verify_cert_error_string(err));
    subj_str(x, s);
    bundle_name_str(X509_get_issuer_name(x), i, sizeof(i));
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        return pe_failf(PE_E_VERIFY,
                        "The chain is incomplete: the certificate of \"%s\", "
                        "which issued \"%s\", is neither in the bundle nor "
                        "trusted (a missing intermediate?).",
                        i, s);
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        out->refused = root != NULL;
        bundle_sha256_fp(
            bundle_cert_sha256(root != NULL ? root : x, out->sha256), fp);
        return pe_failf(PE_E_VERIFY,
                        "The chain ends at the root \"%s\" (SHA-256 %s), "
                        "which is not the trusted root given.",
                        s, fp);
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return pe_failf(PE_E_VERIFY,
                        "The chain does not verify: the signature on \"%s\" "
                        "is not by the key of its issuer \"%s\".",
                        s, i);
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return pe_failf(PE_E_VERIFY,
                        "The chain does not verify: \"%s\" expired on %s.", s,
                        bundle_time_str(X509_get0_notAfter(x), t, sizeof(t)));
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return pe_failf(
            PE_E_VERIFY,
            "The chain does not verify: \"%s\" is not valid before %s.", s,
            bundle_time_str(X509_get0_notBefore(x), t, sizeof(t)));
    default:
        return pe_failf(PE_E_VERIFY, "The chain does not verify at \"%s\": %s.",
                        s, X509_verify_cert_error_string(err));
    }
}

/* A self-signed CA certificate among certs (a root, wherever it is). */
static bool bundle_has_root(STACK_OF(X509) * certs)
{
    X509 *x;
    int i;

    for (i = 0; i < sk_X509_num(certs); i++) {
        x = sk_X509_value(certs, i);
        if (X509_check_ca(x) != 0 && X509_self_signed(x, 0) == 1)
            return true;
    }
    return false;
}

/* The failure of X509_verify_cert: about the anchor when no --trust was
 * given and the chain ends at a root nothing vouches for, or at an issuer
 * the bundle does not carry while it carries no root at all. */
static enum pe_rc bundle_verify_error(X509_STORE_CTX *ctx,
                                      const struct bundle_check *chk,
                                      STACK_OF(X509) * certs, X509 *top,
                                      bool mismatch, struct bundle_root *out)
{
    int err = X509_STORE_CTX_get_error(ctx);
    X509 *root = X509_self_signed(top, 0) == 1 ? top : NULL;

    ERR_clear_error();
    if (chk->trust != NULL && sk_X509_num(chk->trust) > 0)
        return bundle_chain_error(ctx, root, out);
    if (root != NULL && err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
        return bundle_refused(chk, root, top, mismatch, out);
    if (root == NULL && !bundle_has_root(certs) &&
        (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))
        return bundle_refused(chk, NULL, top, false, out);
    return bundle_chain_error(ctx, root, out);
}

/*
 * Our own order, issuer after subject (names, AKI/SKI and keyUsage through
 * X509_check_issued), from the leaf up: the untrusted list handed to
 * X509_verify_cert.  Certificates off the path are left out, and said so.
 */
static enum pe_rc bundle_order(STACK_OF(X509) * certs, X509 *leaf,
                               STACK_OF(X509) * *pout)
{
    STACK_OF(X509) *out = sk_X509_new_null();
    X509 *cur = leaf, *x, *next;
    char s[NAME_MAX_STR];
    int i;

    if (out == NULL)
        return PE_E_NOMEM;
    while (X509_self_signed(cur, 0) != 1) {
        next = NULL;
        for (i = 0; i < sk_X509_num(certs) && next == NULL; i++) {
            x = sk_X509_value(certs, i);
            if (x != leaf && sk_X509_find(out, x) < 0 &&
                X509_check_issued(x, cur) == X509_V_OK)
                next = x;
        }
        if (next == NULL)
            break;
        if (sk_X509_push(out, next) <= 0) {
            sk_X509_free(out);
            return PE_E_NOMEM;
        }
        cur = next;
    }
    for (i = 0; i < sk_X509_num(certs); i++) {
        x = sk_X509_value(certs, i);
        if (x != leaf && sk_X509_find(out, x) < 0)
            log_info("The bundle's certificate \"%s\" is not part of the "
                     "chain; it is left out.",
                     subj_str(x, s));
    }
    ERR_clear_error();
    *pout = out;
    return PE_OK;
}

enum pe_rc bundle_verify(STACK_OF(X509) * certs, const struct bundle_check *chk,
                         X509 **pleaf, STACK_OF(X509) * *pchain,
                         struct bundle_root *proot)
{
    struct bundle_root own = {0}, *out = proot != NULL ? proot : &own;
    X509 *leaf = NULL, *top, *root;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL, *chain = NULL;
    bool mismatch = false, added = false;
    enum pe_rc rc;

    *pleaf = NULL;
    *pchain = NULL;
    memset(out, 0, sizeof(*out));
    if (chk->key == NULL || certs == NULL)
        return PE_E_INTERNAL;
    rc = bundle_find_leaf(certs, chk->key, &leaf);
    if (rc != PE_OK)
        goto out;
    rc = bundle_check_leaf(leaf, chk);
    if (rc != PE_OK)
        goto out;
    if (X509_self_signed(leaf, 0) == 1) {
        rc = pe_failf(PE_E_VERIFY, "The certificate is self-signed, not "
                                   "issued by a CA.");
        goto out;
    }
    rc = bundle_order(certs, leaf, &untrusted);
    if (rc != PE_OK)
        goto out;
    top = sk_X509_num(untrusted) > 0
              ? sk_X509_value(untrusted, sk_X509_num(untrusted) - 1)
              : leaf;
    root = X509_self_signed(top, 0) == 1 ? top : NULL;
    rc = PE_E_NOMEM;
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL)
        goto out;
    rc = bundle_anchors(store, chk, root, &mismatch, &added);
    if (rc != PE_OK)
        goto out;
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Setting up chain verification");
        goto out;
    }
    if (chk->at != 0)
        X509_STORE_CTX_set_time(ctx, 0, chk->at);
    if (X509_verify_cert(ctx) != 1) {
        rc = bundle_verify_error(ctx, chk, certs, top, mismatch, out);
        goto out;
    }
    chain = X509_STORE_CTX_get1_chain(ctx);
    if (chain == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    X509_free(sk_X509_shift(chain)); /* the leaf itself */
    bundle_cert_sha256(sk_X509_value(chain, sk_X509_num(chain) - 1),
                       out->sha256);
    /* a store may hold the same root twice; what counts is that the
     * chain ends at the very root the person accepted */
    out->by_bundle_root =
        added &&
        X509_cmp(sk_X509_value(chain, sk_X509_num(chain) - 1), root) == 0;
    if (!X509_up_ref(leaf)) {
        rc = PE_E_NOMEM;
        goto out;
    }
    *pleaf = leaf;
    *pchain = chain;
    chain = NULL;
    rc = PE_OK;
out:
    ERR_clear_error();
    bundle_certs_free(chain);
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}
