/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest.c - check a key attestation package against manufacturer roots.
 *
 * The package is parsed into certificates; the one whose public key equals
 * the CSR's is the attestation certificate.  From it, issuers are looked up
 * by name among the package's other certificates and the configured roots,
 * each signature is verified, and the walk must end at a configured root.
 * Basic constraints are not required of the intermediates: YubiKey's f9
 * attestation certificates are checked the same way by Yubico's own tools.
 */
#include "attest.h"
#include "config.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <string.h>

#define ATTEST_DEPTH 5

static void free_certs(STACK_OF(X509) * sk)
{
    sk_X509_pop_free(sk, X509_free);
}

/* Append every certificate of PEM text to sk; the count read. */
static int read_pem_certs(const char *data, size_t len, STACK_OF(X509) * sk)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x;
    int n = 0;

    while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        if (sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            break;
        }
        n++;
    }
    BIO_free(bio);
    ERR_clear_error();
    return n;
}

int attest_load_roots(const json_t *list, bool lenient,
                      struct stack_st_X509 **proots, char *err, size_t errlen)
{
    STACK_OF(X509) *roots = sk_X509_new_null();
    const json_t *el;
    const char *s;
    char *text;
    size_t i, len = 0;
    int n;

    if (roots == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_array_foreach(list, i, el)
    {
        s = json_string_value(el);
        if (s == NULL) {
            snprintf(err, errlen, "manufacturerRoots: strings expected");
            goto fail;
        }
        if (strncmp(s, "-----BEGIN", 10) == 0) {
            n = read_pem_certs(s, strlen(s), roots);
        } else {
            text = util_read_file(s, 1024 * 1024, &len);
            if (text == NULL && lenient) {
                sim_log("manufacturer root %s is not there (yet)", s);
                continue;
            }
            n = text != NULL ? read_pem_certs(text, len, roots) : 0;
            free(text);
        }
        if (n == 0) {
            snprintf(err, errlen,
                     "manufacturerRoots[%zu]: no PEM "
                     "certificate in it",
                     i);
            goto fail;
        }
    }
    *proots = roots;
    return 0;
fail:
    free_certs(roots);
    return -1;
}

/* The certificates of a decoded package: PEM, DER PKCS#7 or DER X.509. */
static STACK_OF(X509) * parse_package(const unsigned char *der, size_t len)
{
    STACK_OF(X509) *sk = sk_X509_new_null(), *p7certs = NULL;
    const unsigned char *p = der;
    PKCS7 *p7 = NULL;
    X509 *x = NULL;
    int i;

    if (sk == NULL)
        return NULL;
    if (len > 10 && memcmp(der, "-----BEGIN", 10) == 0) {
        read_pem_certs((const char *)der, len, sk);
    } else if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) != NULL) {
        if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
            p7certs = p7->d.sign->cert;
        for (i = 0; i < sk_X509_num(p7certs); i++) {
            x = X509_dup(sk_X509_value(p7certs, i));
            if (x == NULL || sk_X509_push(sk, x) <= 0)
                X509_free(x);
        }
        PKCS7_free(p7);
    } else {
        p = der;
        x = d2i_X509(NULL, &p, (long)len);
        if (x != NULL && sk_X509_push(sk, x) <= 0)
            X509_free(x);
    }
    ERR_clear_error();
    return sk;
}

/* The issuer of cert in sk (by name and signature), or NULL. */
static X509 *find_issuer(STACK_OF(X509) * sk, X509 *cert)
{
    X509 *c;
    int i;

    for (i = 0; i < sk_X509_num(sk); i++) {
        c = sk_X509_value(sk, i);
        if (c == cert || X509_NAME_cmp(X509_get_subject_name(c),
                                       X509_get_issuer_name(cert)) != 0)
            continue;
        if (X509_verify(cert, X509_get0_pubkey(c)) == 1)
            return c;
    }
    ERR_clear_error();
    return NULL;
}

static bool time_ok(const X509 *x)
{
    return X509_cmp_current_time(X509_get0_notBefore(x)) < 0 &&
           X509_cmp_current_time(X509_get0_notAfter(x)) > 0;
}

/* Walk from att up to a configured root; NULL or a reason. */
static const char *walk_chain(X509 *att, STACK_OF(X509) * pkg,
                              STACK_OF(X509) * roots)
{
    X509 *cur = att, *up;
    int depth;

    for (depth = 0; depth < ATTEST_DEPTH; depth++) {
        if (!time_ok(cur))
            return "a certificate of the attestation is expired or not "
                   "yet valid";
        up = find_issuer(roots, cur);
        if (up != NULL)
            return time_ok(up) ? NULL : "the manufacturer root is expired";
        up = find_issuer(pkg, cur);
        if (up == NULL || up == cur)
            return "the attestation does not chain to a configured "
                   "manufacturer root";
        cur = up;
    }
    return "the attestation chain is too long";
}

/* The CSR's public key (new), or NULL. */
static EVP_PKEY *csr_key(const char *csr_b64)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    X509_REQ *req = NULL;
    EVP_PKEY *pub = NULL;
    size_t len = 0;

    der = util_b64_decode(csr_b64, strlen(csr_b64), &len);
    p = der;
    if (der != NULL)
        req = d2i_X509_REQ(NULL, &p, (long)len);
    if (req != NULL)
        pub = X509_REQ_get_pubkey(req);
    X509_REQ_free(req);
    free(der);
    ERR_clear_error();
    return pub;
}

int attest_check(const json_t *profile, const json_t *root_list,
                 const json_t *body, const char *csr_b64, struct sim_reply *rp)
{
    STACK_OF(X509) *roots = NULL;
    char err[256];
    const char *att = json_string_value(json_object_get(body, "attestation"));
    const char *hsm = json_string_value(json_object_get(body, "hsmType"));
    const char *why;
    STACK_OF(X509) *pkg = NULL;
    unsigned char *der = NULL;
    EVP_PKEY *pub = NULL;
    X509 *leaf = NULL;
    size_t len = 0;
    int i, rc = -1;

    if (!json_is_true(json_object_get(profile, "keyAttestation")))
        return 0;
    if (hsm == NULL || att == NULL || att[0] == '\0') {
        reply_error(rp, 400, -7,
                    "hsmType and attestation are required by "
                    "the Key Attestation profile \"%s\"",
                    config_member(profile, "name", ""));
        return -1;
    }
    der = util_b64_decode(att, strlen(att), &len);
    pkg = der != NULL ? parse_package(der, len) : NULL;
    if (pkg == NULL || sk_X509_num(pkg) == 0) {
        reply_error(rp, 400, -196,
                    "the attestation is not base64 of PEM "
                    "certificates, a DER certificate or a DER PKCS#7");
        goto out;
    }
    pub = csr_key(csr_b64);
    for (i = 0; pub != NULL && i < sk_X509_num(pkg) && leaf == NULL; i++)
        if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(pkg, i)), pub) == 1)
            leaf = sk_X509_value(pkg, i);
    ERR_clear_error();
    if (leaf == NULL) {
        reply_error(rp, 400, -198,
                    "the attested key differs from the "
                    "CSR's key");
        goto out;
    }
    if (attest_load_roots(root_list, true, &roots, err, sizeof(err)) != 0) {
        sim_log("manufacturer roots: %s", err);
        reply_error(rp, 500, -169,
                    "the manufacturer roots are not "
                    "readable; contact the administrator");
        goto out;
    }
    why = walk_chain(leaf, pkg, roots);
    if (why != NULL) {
        reply_error(rp, 400, -197, "%s", why);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(pub);
    free_certs(roots);
    free_certs(pkg);
    free(der);
    return rc;
}
