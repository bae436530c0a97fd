/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.c - parse issued material in every SCM format; names, times and
 * PEM out.  bundle_verify.c finds, orders and verifies the leaf and chain.
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
