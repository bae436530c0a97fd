/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csr.c - build a PKCS#10 request and have it signed by a callback.
 *
 * The recipe (docs/tokens.md): OpenSSL builds the
 * request, we hash i2d_re_X509_REQ_tbs() ourselves, the callback signs the
 * digest, and we set the signature AlgorithmIdentifier and BIT STRING by
 * hand.  The BIT STRING needs ASN1_STRING_FLAG_BITS_LEFT with 0 unused
 * bits: without it OpenSSL's encoder drops trailing zero bytes and derives
 * "unused bits" from the last byte (crypto/asn1/a_bitstr.c), so a
 * signature ending in 0x00 would be cut short.
 */
#include "csr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"

#define CSR_DN_MAX    4096 /* a whole --subject string */
#define CSR_VALUE_MAX 256  /* one attribute value, before OpenSSL's own ub */
#define CSR_EMAIL_MAX 254  /* RFC 5321 path limit */

/* Attribute types a subject may name (others are a typo, not a wish). */
static const int csr_dn_nids[] = {
    NID_commonName,
    NID_organizationName,
    NID_organizationalUnitName,
    NID_countryName,
    NID_localityName,
    NID_stateOrProvinceName,
    NID_streetAddress,
    NID_postalCode,
    NID_pkcs9_emailAddress,
    NID_serialNumber,
    NID_title,
    NID_givenName,
    NID_surname,
    NID_initials,
    NID_pseudonym,
    NID_generationQualifier,
    NID_domainComponent,
    NID_userId,
    NID_name,
    NID_dnQualifier,
    NID_organizationIdentifier,
    NID_businessCategory,
    NID_jurisdictionCountryName,
    NID_jurisdictionStateOrProvinceName,
    NID_jurisdictionLocalityName,
};

int csr_md_nid(EVP_PKEY *pub)
{
    char group[64];
    size_t glen = 0;
    int bits, nid;

    if (pub == NULL)
        return 0;
    switch (EVP_PKEY_get_base_id(pub)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &glen) != 1)
            return 0;
        nid = OBJ_txt2nid(group);
        if (nid == NID_undef)
            nid = EC_curve_nist2nid(group);
        if (nid == NID_X9_62_prime256v1)
            return NID_sha256;
        if (nid == NID_secp384r1)
            return NID_sha384;
        return 0;
    case EVP_PKEY_RSA:
        bits = EVP_PKEY_get_bits(pub);
        if (bits < 2048)
            return 0;
        return bits <= 3072 ? NID_sha256 : NID_sha384;
    default:
        return 0;
    }
}

static bool csr_nid_allowed(int nid)
{
    size_t i;

    for (i = 0; i < sizeof(csr_dn_nids) / sizeof(csr_dn_nids[0]); i++)
        if (csr_dn_nids[i] == nid)
            return true;
    return false;
}

/* Control characters have no place in a name (and fool terminals). */
static bool csr_has_control(const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* Check one value and append it to name. */
static enum pe_rc csr_add_entry(X509_NAME *name, int nid, const char *value)
{
    const char *sn = OBJ_nid2sn(nid);
    size_t len = strlen(value);
    unsigned long err;

    if (len == 0)
        return pe_failf(PE_E_USAGE, "The subject's %s is empty.", sn);
    if (len > CSR_VALUE_MAX)
        return pe_failf(PE_E_USAGE, "The subject's %s is longer than %d bytes.",
                        sn, CSR_VALUE_MAX);
    if (csr_has_control(value))
        return pe_failf(PE_E_USAGE,
                        "The subject's %s holds a control character.", sn);
    if (nid == NID_countryName &&
        (len != 2 || value[0] < 'A' || value[0] > 'Z' || value[1] < 'A' ||
         value[1] > 'Z'))
        return pe_failf(PE_E_USAGE,
                        "The country (C) must be two capital letters, "
                        "like \"DE\"; got \"%s\".",
                        value);
    ERR_clear_error();
    if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                   (const unsigned char *)value, -1, -1,
                                   0) != 1) {
        err = ERR_peek_last_error();
        if (ERR_GET_LIB(err) == ERR_LIB_ASN1 &&
            ERR_GET_REASON(err) == ASN1_R_STRING_TOO_LONG) {
            ERR_clear_error();
            return pe_failf(PE_E_USAGE,
                            "The subject's %s \"%s\" is longer than the "
                            "standard allows (64 characters for most "
                            "attributes).",
                            sn, value);
        }
        return pe_fail_ossl(PE_E_USAGE, "The subject value is not valid");
    }
    return PE_OK;
}

/*
 * Parse "/TYPE=value/TYPE=value" into name.  '\'
 * escapes the next character, so "/O=A\/B" is the organisation "A/B".
 */
static enum pe_rc csr_parse_dn(const char *dn, X509_NAME *name, int *pcount)
{
    char *buf = NULL, *type, *value, *w;
    const char *p = dn;
    enum pe_rc rc = PE_E_USAGE;
    int nid, count = 0;

    if (strlen(dn) > CSR_DN_MAX)
        return pe_failf(PE_E_USAGE, "The subject is longer than %d bytes.",
                        CSR_DN_MAX);
    if (dn[0] != '/')
        return pe_failf(PE_E_USAGE,
                        "The subject \"%s\" must look like \"/CN=name/O="
                        "organization\" (it starts with '/').",
                        dn);
    buf = malloc(strlen(dn) + 1);
    if (buf == NULL)
        return PE_E_NOMEM;
    while (*p == '/') {
        p++;
        type = w = buf;
        while (*p != '\0' && *p != '=' && *p != '/')
            *w++ = *p++;
        *w++ = '\0';
        if (*p != '=') {
            rc = pe_failf(PE_E_USAGE,
                          "The subject part \"%s\" has no '=': write "
                          "\"/TYPE=value\", e.g. \"/CN=%s\".",
                          type, type[0] != '\0' ? type : "name");
            goto out;
        }
        p++;
        nid = OBJ_txt2nid(type);
        if (nid == NID_undef || !csr_nid_allowed(nid)) {
            rc = pe_failf(PE_E_USAGE,
                          "The subject names an unknown attribute \"%s\" "
                          "(use CN, O, OU, C, L, ST, emailAddress, ...).",
                          type);
            goto out;
        }
        value = w;
        while (*p != '\0' && *p != '/') {
            if (*p == '\\' && p[1] != '\0')
                p++;
            *w++ = *p++;
        }
        *w = '\0';
        rc = csr_add_entry(name, nid, value);
        if (rc != PE_OK)
            goto out;
        count++;
    }
    if (*p != '\0') {
        rc = pe_failf(PE_E_USAGE, "The subject \"%s\" is malformed.", dn);
        goto out;
    }
    *pcount = count;
    rc = PE_OK;
out:
    free(buf);
    return rc;
}

/* The single fields, in the usual X.500 order C, ST, L, O, OU, CN. */
static enum pe_rc csr_add_fields(const struct csr_subject *s, X509_NAME *name,
                                 int *pcount)
{
    const struct {
        int nid;
        const char *value;
    } f[] = {
        {NID_countryName, s->c},
        {NID_stateOrProvinceName, s->st},
        {NID_localityName, s->l},
        {NID_organizationName, s->o},
        {NID_organizationalUnitName, s->ou},
        {NID_commonName, s->cn},
    };
    enum pe_rc rc;
    size_t i;

    *pcount = 0;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (f[i].value == NULL)
            continue;
        rc = csr_add_entry(name, f[i].nid, f[i].value);
        if (rc != PE_OK)
            return rc;
        (*pcount)++;
    }
    return PE_OK;
}

/* An address for an rfc822Name: ASCII, one '@', a dotted domain. */
static enum pe_rc csr_check_email(const char *email)
{
    const char *at = strchr(email, '@'), *p;
    size_t len = strlen(email);

    if (len == 0 || len > CSR_EMAIL_MAX)
        return pe_failf(PE_E_USAGE,
                        "The email address must have 1 to %d characters.",
                        CSR_EMAIL_MAX);
    for (p = email; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return pe_failf(PE_E_USAGE,
                            "The email address \"%s\" may hold only "
                            "printable ASCII without spaces.",
                            email);
    if (at == NULL || at == email || strchr(at + 1, '@') != NULL ||
        strchr(at + 1, '.') == NULL || at[1] == '.' || email[len - 1] == '.')
        return pe_failf(PE_E_USAGE,
                        "\"%s\" is not an email address like "
                        "\"dev@example.org\".",
                        email);
    return PE_OK;
}

static bool csr_has_fields(const struct csr_subject *s)
{
    return s->cn != NULL || s->o != NULL || s->ou != NULL || s->c != NULL ||
           s->l != NULL || s->st != NULL;
}

/* Build the X509_NAME for subj (NULL pname: check only, with the
 * length limits of OpenSSL). */
static enum pe_rc csr_make_name(const struct csr_subject *subj,
                                X509_NAME **pname)
{
    X509_NAME *name = NULL;
    enum pe_rc rc;
    int count = 0;

    if (subj->dn != NULL && csr_has_fields(subj))
        return pe_failf(PE_E_USAGE,
                        "Give the subject either whole (--subject) or as "
                        "fields (--cn, --o, ...), not both.");
    name = X509_NAME_new();
    if (name == NULL)
        return PE_E_NOMEM;
    if (subj->dn != NULL)
        rc = csr_parse_dn(subj->dn, name, &count);
    else
        rc = csr_add_fields(subj, name, &count);
    if (rc == PE_OK && count == 0)
        rc = pe_failf(PE_E_USAGE, "The subject is empty: give at least a "
                                  "common name (--cn or --subject "
                                  "\"/CN=...\").");
    if (rc == PE_OK && subj->email != NULL)
        rc = csr_check_email(subj->email);
    if (rc == PE_OK && pname != NULL) {
        *pname = name;
        name = NULL;
    }
    X509_NAME_free(name);
    return rc;
}

enum pe_rc csr_subject_check(const struct csr_subject *subj)
{
    return csr_make_name(subj, NULL);
}

/* Request a subjectAltName with the rfc822Name email. */
static enum pe_rc csr_add_san_email(X509_REQ *req, const char *email)
{
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gen = NULL;
    ASN1_IA5STRING *ia5 = NULL;
    X509_EXTENSION *ext = NULL;
    enum pe_rc rc = PE_E_NOMEM;

    gens = GENERAL_NAMES_new();
    gen = GENERAL_NAME_new();
    ia5 = ASN1_IA5STRING_new();
    exts = sk_X509_EXTENSION_new_null();
    if (gens == NULL || gen == NULL || ia5 == NULL || exts == NULL)
        goto out;
    if (ASN1_STRING_set(ia5, email, (int)strlen(email)) != 1)
        goto out;
    GENERAL_NAME_set0_value(gen, GEN_EMAIL, ia5);
    ia5 = NULL;
    if (sk_GENERAL_NAME_push(gens, gen) <= 0)
        goto out;
    gen = NULL;
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0)
        goto out;
    ext = NULL;
    if (X509_REQ_add_extensions(req, exts) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Adding the subjectAltName");
        goto out;
    }
    rc = PE_OK;
out:
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(gens);
    GENERAL_NAME_free(gen);
    ASN1_IA5STRING_free(ia5);
    return rc;
}

/* The signature AlgorithmIdentifier: ECDSA without parameters, RSA with
 * NULL parameters (RFC 5758 section 3.2, RFC 4055 section 5). */
static enum pe_rc csr_set_sigalg(X509_REQ *req, EVP_PKEY *pub, int md_nid)
{
    X509_ALGOR *alg = NULL;
    int sig_nid, ptype;
    enum pe_rc rc = PE_E_NOMEM;

    if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
        sig_nid = md_nid == NID_sha256 ? NID_ecdsa_with_SHA256
                                       : NID_ecdsa_with_SHA384;
        ptype = V_ASN1_UNDEF;
    } else {
        sig_nid = md_nid == NID_sha256 ? NID_sha256WithRSAEncryption
                                       : NID_sha384WithRSAEncryption;
        ptype = V_ASN1_NULL;
    }
    alg = X509_ALGOR_new();
    if (alg == NULL)
        goto out;
    if (X509_ALGOR_set0(alg, OBJ_nid2obj(sig_nid), ptype, NULL) != 1)
        goto out;
    if (X509_REQ_set1_signature_algo(req, alg) != 1)
        goto out;
    rc = PE_OK;
out:
    X509_ALGOR_free(alg);
    return rc;
}

/* Hash the TBS bytes, have them signed, store the signature BIT STRING. */
static enum pe_rc csr_sign(X509_REQ *req, int md_nid, csr_sign_fn sign,
                           void *ctx)
{
    unsigned char *tbs = NULL, *sig = NULL;
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int diglen = 0;
    size_t siglen = 0;
    ASN1_BIT_STRING *bits = NULL;
    int tbslen;
    enum pe_rc rc = PE_E_INTERNAL;

    tbslen = i2d_re_X509_REQ_tbs(req, &tbs);
    if (tbslen <= 0) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Encoding the request");
        goto out;
    }
    if (EVP_Digest(tbs, (size_t)tbslen, dig, &diglen,
                   EVP_get_digestbynid(md_nid), NULL) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Hashing the request");
        goto out;
    }
    log_debug(LOG_CAT_CSR, "csr: %d TBS bytes, %s digest, signing", tbslen,
              OBJ_nid2sn(md_nid));
    rc = sign(ctx, md_nid, dig, diglen, &sig, &siglen);
    if (rc != PE_OK)
        goto out;
    if (sig == NULL || siglen == 0 || siglen > 1024) {
        rc = pe_failf(PE_E_VERIFY,
                      "The key returned a signature of %zu "
                      "bytes for the request.",
                      siglen);
        goto out;
    }
    rc = PE_E_NOMEM;
    bits = ASN1_BIT_STRING_new();
    if (bits == NULL || ASN1_BIT_STRING_set(bits, sig, (int)siglen) != 1)
        goto out;
    /* 0 unused bits, and keep trailing zero bytes (see top of file). */
    bits->flags &= ~0x07L;
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    X509_REQ_set0_signature(req, bits);
    bits = NULL;
    rc = PE_OK;
out:
    OPENSSL_cleanse(dig, sizeof(dig));
    ASN1_BIT_STRING_free(bits);
    OPENSSL_free(sig);
    OPENSSL_free(tbs);
    return rc;
}

/* The request verifies with pub after a DER round trip (the bytes sent);
 * when it does not, the in-memory one tells which check failed.  The
 * decoded request is *pagain: exactly what was verified. */
static enum pe_rc csr_check_signature(X509_REQ *req, EVP_PKEY *pub,
                                      X509_REQ **pagain)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    X509_REQ *again = NULL;
    int len;
    enum pe_rc rc = PE_E_VERIFY;

    len = i2d_X509_REQ(req, &der);
    if (len <= 0) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Encoding the request");
        goto out;
    }
    p = der;
    again = d2i_X509_REQ(NULL, &p, len);
    if (again != NULL && p == der + len && X509_REQ_verify(again, pub) == 1) {
        *pagain = again;
        again = NULL;
        rc = PE_OK;
    } else if (X509_REQ_verify(req, pub) != 1) {
        rc = pe_fail_ossl(PE_E_VERIFY,
                          "The request's signature does not verify with "
                          "the key's public key (the token signed with "
                          "another key, or signed wrongly)");
    } else {
        rc = pe_fail_ossl(PE_E_VERIFY, "The encoded request does not "
                                       "verify after decoding it again");
    }
out:
    X509_REQ_free(again);
    OPENSSL_free(der);
    return rc;
}

enum pe_rc csr_build(const struct csr_subject *subj, EVP_PKEY *pub,
                     csr_sign_fn sign, void *ctx, X509_REQ **preq)
{
    X509_REQ *req = NULL;
    X509_NAME *name = NULL;
    enum pe_rc rc;
    int md_nid;

    *preq = NULL;
    md_nid = csr_md_nid(pub);
    if (md_nid == 0)
        return pe_failf(PE_E_KEY, "Requests are signed only with EC P-256, "
                                  "EC P-384 or RSA keys of 2048 bits or "
                                  "more; this key is none of them.");
    rc = csr_make_name(subj, &name);
    if (rc != PE_OK)
        goto out;
    rc = PE_E_NOMEM;
    req = X509_REQ_new();
    if (req == NULL)
        goto out;
    if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_subject_name(req, name) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Filling in the request");
        goto out;
    }
    if (X509_REQ_set_pubkey(req, pub) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Setting the public key");
        goto out;
    }
    if (subj->email != NULL) {
        rc = csr_add_san_email(req, subj->email);
        if (rc != PE_OK)
            goto out;
    }
    rc = csr_set_sigalg(req, pub, md_nid);
    if (rc != PE_OK)
        goto out;
    rc = csr_sign(req, md_nid, sign, ctx);
    if (rc != PE_OK)
        goto out;
    rc = csr_check_signature(req, pub, preq);
out:
    X509_NAME_free(name);
    X509_REQ_free(req);
    return rc;
}

enum pe_rc csr_to_pem(X509_REQ *req, char **ppem)
{
    BIO *bio = NULL;
    char *data, *pem = NULL;
    long len;
    enum pe_rc rc = PE_E_NOMEM;

    *ppem = NULL;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        goto out;
    if (PEM_write_bio_X509_REQ(bio, req) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Writing the request as PEM");
        goto out;
    }
    len = BIO_get_mem_data(bio, &data);
    if (len <= 0)
        goto out;
    pem = malloc((size_t)len + 1);
    if (pem == NULL)
        goto out;
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    *ppem = pem;
    rc = PE_OK;
out:
    BIO_free(bio);
    return rc;
}

enum pe_rc csr_to_der_b64(X509_REQ *req, char **pb64)
{
    unsigned char *der = NULL;
    char *b64 = NULL;
    int len;
    enum pe_rc rc = PE_E_NOMEM;

    *pb64 = NULL;
    len = i2d_X509_REQ(req, &der);
    if (len <= 0) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Encoding the request");
        goto out;
    }
    b64 = malloc(4 * (((size_t)len + 2) / 3) + 1);
    if (b64 == NULL)
        goto out;
    EVP_EncodeBlock((unsigned char *)b64, der, len);
    *pb64 = b64;
    rc = PE_OK;
out:
    OPENSSL_free(der);
    return rc;
}
