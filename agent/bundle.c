/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.c - parse issued material in every SCM format; find, order and
 * verify the leaf and its chain.
 */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "fileio.h"
#include "log.h"
#include "util.h"

/* ---- parsing ----------------------------------------------------------- */

/* Append cert (taking it) unless an equal one is there; over the limit:
 * PE_E_INPUT. */
static enum pe_rc bundle_add(STACK_OF(X509) * certs, X509 *cert,
                             const char *what)
{
    int i;

    for (i = 0; i < sk_X509_num(certs); i++) {
        if (X509_cmp(sk_X509_value(certs, i), cert) == 0) {
            X509_free(cert);
            return PE_OK;
        }
    }
    if (sk_X509_num(certs) >= BUNDLE_MAX_CERTS) {
        X509_free(cert);
        return pe_failf(PE_E_INPUT,
                        "\"%s\" holds more than %d certificates; a "
                        "certificate and its chain never need that many.",
                        what, BUNDLE_MAX_CERTS);
    }
    if (sk_X509_push(certs, cert) <= 0) {
        X509_free(cert);
        return PE_E_NOMEM;
    }
    return PE_OK;
}

/* A DER certificate that is exactly len bytes. */
static X509 *bundle_d2i_cert(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;

    if (len > BUNDLE_MAX_BYTES)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* A DER PKCS#7 SignedData that is exactly len bytes: append its certs. */
static enum pe_rc bundle_add_pkcs7(const unsigned char *der, size_t len,
                                   const char *what, STACK_OF(X509) * certs,
                                   bool *pfound)
{
    const unsigned char *p = der;
    PKCS7 *p7 = NULL;
    STACK_OF(X509) *in = NULL;
    X509 *x;
    enum pe_rc rc = PE_E_INPUT;
    int i;

    *pfound = false;
    p7 = d2i_PKCS7(NULL, &p, (long)len);
    if (p7 == NULL || p != der + len) {
        rc = PE_OK; /* not a PKCS#7: the caller says what it is not */
        goto out;
    }
    *pfound = true;
    if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
        rc = pe_failf(PE_E_INPUT,
                      "\"%s\" holds a PKCS#7 that is not a certificate "
                      "bundle (SignedData).",
                      what);
        goto out;
    }
    in = p7->d.sign->cert;
    if (sk_X509_num(in) <= 0) {
        rc = pe_failf(PE_E_INPUT, "\"%s\" holds a PKCS#7 without certificates.",
                      what);
        goto out;
    }
    for (i = 0; i < sk_X509_num(in); i++) {
        x = sk_X509_value(in, i);
        if (!X509_up_ref(x)) {
            rc = PE_E_NOMEM;
            goto out;
        }
        rc = bundle_add(certs, x, what);
        if (rc != PE_OK)
            goto out;
    }
    rc = PE_OK;
out:
    PKCS7_free(p7);
    ERR_clear_error();
    return rc;
}

static enum pe_rc bundle_parse_der(const unsigned char *data, size_t len,
                                   const char *what, STACK_OF(X509) * certs)
{
    X509 *x;
    bool found = false;
    enum pe_rc rc;

    x = bundle_d2i_cert(data, len);
    if (x != NULL)
        return bundle_add(certs, x, what);
    rc = bundle_add_pkcs7(data, len, what, certs, &found);
    if (rc != PE_OK || found)
        return rc;
    ERR_clear_error();
    return pe_failf(PE_E_INPUT,
                    "\"%s\" is neither PEM nor a complete DER certificate "
                    "or PKCS#7 (damaged or truncated?).",
                    what);
}

/* One PEM block of type name with its decoded bytes. */
static enum pe_rc bundle_pem_block(const char *name, const unsigned char *der,
                                   long len, const char *what, int n,
                                   STACK_OF(X509) * certs)
{
    X509 *x;
    bool found = false;
    enum pe_rc rc;

    if (strcmp(name, PEM_STRING_X509) == 0 ||
        strcmp(name, PEM_STRING_X509_OLD) == 0) {
        x = bundle_d2i_cert(der, (size_t)len);
        if (x == NULL) {
            ERR_clear_error();
            return pe_failf(PE_E_INPUT,
                            "PEM block %d of \"%s\" is not a valid "
                            "certificate.",
                            n, what);
        }
        return bundle_add(certs, x, what);
    }
    if (strcmp(name, PEM_STRING_PKCS7) == 0 ||
        strcmp(name, PEM_STRING_PKCS7_SIGNED) == 0) {
        rc = bundle_add_pkcs7(der, (size_t)len, what, certs, &found);
        if (rc == PE_OK && !found)
            rc = pe_failf(PE_E_INPUT,
                          "PEM block %d of \"%s\" is not a valid PKCS#7 "
                          "(truncated?).",
                          n, what);
        return rc;
    }
    return pe_failf(PE_E_INPUT,
                    "\"%s\" holds a \"%s\" PEM block; expected only "
                    "certificates or PKCS#7.",
                    what, name);
}

static enum pe_rc bundle_parse_pem(const unsigned char *data, size_t len,
                                   const char *what, STACK_OF(X509) * certs)
{
    BIO *bio = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long dlen = 0;
    unsigned long err;
    enum pe_rc rc = PE_E_NOMEM;
    int n = 0;

    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL)
        goto out;
    for (;;) {
        ERR_clear_error();
        if (PEM_read_bio(bio, &name, &header, &der, &dlen) != 1) {
            err = ERR_peek_last_error();
            if (ERR_GET_LIB(err) == ERR_LIB_PEM &&
                ERR_GET_REASON(err) == PEM_R_NO_START_LINE && n > 0)
                break; /* only text after the last block */
            if (n == 0 && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)
                rc = pe_failf(PE_E_INPUT,
                              "\"%s\" holds no certificate: it is neither "
                              "PEM nor DER.",
                              what);
            else
                rc = pe_failf(PE_E_INPUT,
                              "PEM block %d of \"%s\" is damaged or not "
                              "terminated: %s.",
                              n + 1, what,
                              ERR_reason_error_string(err) != NULL
                                  ? ERR_reason_error_string(err)
                                  : "unknown error");
            goto out;
        }
        n++;
        if (header != NULL && header[0] != '\0') {
            rc = pe_failf(PE_E_INPUT,
                          "PEM block %d of \"%s\" has headers (encrypted?); "
                          "certificates have none.",
                          n, what);
            goto out;
        }
        rc = bundle_pem_block(name, der, dlen, what, n, certs);
        if (rc != PE_OK)
            goto out;
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        name = header = NULL;
        der = NULL;
    }
    rc = PE_OK;
out:
    ERR_clear_error();
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    return rc;
}

/* data holds a PEM BEGIN line somewhere. */
static bool bundle_has_begin(const unsigned char *data, size_t len)
{
    static const char begin[] = "-----BEGIN ";
    size_t i, n = sizeof(begin) - 1;

    for (i = 0; i + n <= len; i++)
        if (data[i] == '-' && memcmp(data + i, begin, n) == 0)
            return true;
    return false;
}

enum pe_rc bundle_parse(const unsigned char *data, size_t len, const char *what,
                        STACK_OF(X509) * certs)
{
    int before = sk_X509_num(certs);
    enum pe_rc rc;

    if (certs == NULL)
        return PE_E_INTERNAL;
    if (len == 0)
        return pe_failf(PE_E_INPUT, "\"%s\" is empty.", what);
    if (len > BUNDLE_MAX_BYTES)
        return pe_failf(PE_E_INPUT,
                        "\"%s\" is larger than the %d bytes accepted.", what,
                        BUNDLE_MAX_BYTES);
    /* DER starts with a SEQUENCE; PEM is text with a BEGIN line (and
     * may start with '0', which is 0x30 too: then DER is tried first). */
    if (data[0] == 0x30) {
        rc = bundle_parse_der(data, len, what, certs);
        if (rc != PE_OK && bundle_has_begin(data, len)) {
            while (sk_X509_num(certs) > before)
                X509_free(sk_X509_pop(certs));
            rc = bundle_parse_pem(data, len, what, certs);
        }
    } else {
        rc = bundle_parse_pem(data, len, what, certs);
    }
    if (rc != PE_OK) {
        while (sk_X509_num(certs) > before)
            X509_free(sk_X509_pop(certs));
        return rc;
    }
    log_debug(LOG_CAT_CSR, "bundle: %s: %d new certificates", what,
              sk_X509_num(certs) - before);
    return PE_OK;
}

enum pe_rc bundle_read_file(const char *path, STACK_OF(X509) * certs)
{
    unsigned char *data = NULL;
    size_t len = 0;
    enum pe_rc rc;

    rc = fileio_read(path, BUNDLE_MAX_BYTES, &data, &len);
    if (rc == PE_OK)
        rc = bundle_parse(data, len, path, certs);
    free(data);
    return rc;
}

void bundle_certs_free(STACK_OF(X509) * certs)
{
    sk_X509_pop_free(certs, X509_free);
}

/* ---- names, times, PEM out --------------------------------------------- */

const char *bundle_name_str(const X509_NAME *name, char *buf, size_t size)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int n;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (bio == NULL)
        return buf;
    if (X509_NAME_print_ex(bio, name, 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_read(bio, buf, (int)size - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
    return buf;
}

const char *bundle_time_str(const ASN1_TIME *t, char *buf, size_t size)
{
    time_t when;

    if (size == 0)
        return buf;
    if (util_time_asn1(t, &when) == PE_OK)
        util_time_rfc3339(when, buf, size);
    else
        snprintf(buf, size, "(unreadable time)");
    return buf;
}

/* Write certs to a new string. */
static enum pe_rc bundle_pem_out(X509 *one, STACK_OF(X509) * certs, char **ppem)
{
    BIO *bio = NULL;
    char *data, *pem = NULL;
    long len;
    enum pe_rc rc = PE_E_NOMEM;
    int i;

    *ppem = NULL;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        goto out;
    if (one != NULL && PEM_write_bio_X509(bio, one) != 1)
        goto fail;
    for (i = 0; i < sk_X509_num(certs); i++)
        if (PEM_write_bio_X509(bio, sk_X509_value(certs, i)) != 1)
            goto fail;
    len = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)(len > 0 ? len : 0) + 1);
    if (pem == NULL)
        goto out;
    if (len > 0)
        memcpy(pem, data, (size_t)len);
    pem[len > 0 ? len : 0] = '\0';
    *ppem = pem;
    rc = PE_OK;
    goto out;
fail:
    rc = pe_fail_ossl(PE_E_INTERNAL, "Writing PEM");
out:
    BIO_free(bio);
    return rc;
}

enum pe_rc bundle_cert_pem(X509 *cert, char **ppem)
{
    return bundle_pem_out(cert, NULL, ppem);
}

enum pe_rc bundle_certs_pem(STACK_OF(X509) * certs, char **ppem)
{
    return bundle_pem_out(NULL, certs, ppem);
}

/* ---- verification ------------------------------------------------------ */

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

/* Self-signed CA certificates of certs, to trust when no root is given. */
static enum pe_rc bundle_add_roots(X509_STORE *store, STACK_OF(X509) * certs,
                                   int *pn)
{
    X509 *x;
    int i;

    *pn = 0;
    for (i = 0; i < sk_X509_num(certs); i++) {
        x = sk_X509_value(certs, i);
        if (X509_check_ca(x) == 0 || X509_self_signed(x, 0) != 1)
            continue;
        if (X509_STORE_add_cert(store, x) != 1)
            return pe_fail_ossl(PE_E_INTERNAL, "Adding a trusted root");
        (*pn)++;
    }
    ERR_clear_error();
    return PE_OK;
}

/* One sentence for a failed X509_verify_cert. */
static enum pe_rc bundle_chain_error(X509_STORE_CTX *ctx, bool own_trust)
{
    int err = X509_STORE_CTX_get_error(ctx);
    X509 *x = X509_STORE_CTX_get_current_cert(ctx);
    char s[NAME_MAX_STR], i[NAME_MAX_STR], t[64];

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
        return pe_failf(
            PE_E_VERIFY, "The chain ends at the root \"%s\", which is not %s.",
            s, own_trust ? "the trusted root given" : "a trusted root");
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
                         X509 **pleaf, STACK_OF(X509) * *pchain)
{
    X509 *leaf = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL, *chain = NULL;
    bool own_trust = chk->trust != NULL && sk_X509_num(chk->trust) > 0;
    enum pe_rc rc;
    int i, nroots = 0;

    *pleaf = NULL;
    *pchain = NULL;
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
    rc = PE_E_NOMEM;
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL)
        goto out;
    if (own_trust) {
        for (i = 0; i < sk_X509_num(chk->trust); i++)
            if (X509_STORE_add_cert(store, sk_X509_value(chk->trust, i)) != 1) {
                rc = pe_fail_ossl(PE_E_INTERNAL, "Adding a trusted root");
                goto out;
            }
        /* a trust file may name an intermediate: anchor there */
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    } else {
        rc = bundle_add_roots(store, untrusted, &nroots);
        if (rc != PE_OK)
            goto out;
        if (nroots == 0) {
            log_info("No root in the bundle and none given: verifying "
                     "against the system's trusted roots.");
            X509_STORE_set_default_paths(store);
        }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Setting up chain verification");
        goto out;
    }
    if (chk->at != 0)
        X509_STORE_CTX_set_time(ctx, 0, chk->at);
    if (X509_verify_cert(ctx) != 1) {
        rc = bundle_chain_error(ctx, own_trust);
        goto out;
    }
    chain = X509_STORE_CTX_get1_chain(ctx);
    if (chain == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    X509_free(sk_X509_shift(chain)); /* the leaf itself */
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
