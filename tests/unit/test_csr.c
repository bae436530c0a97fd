/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_csr.c - csr_build() with software keys behind the same sign
 * contract as the token (digest in, DER ECDSA / PKCS#1 v1.5 out), checked
 * with OpenSSL and with the openssl command a user would run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "csr.h"
#include "harness.h"

/* What the software signer saw last, to compare with the request. */
struct sw_signer {
    EVP_PKEY *key;
    int md_nid;
    size_t dlen;
    unsigned char sig[1024];
    size_t siglen;
    int calls;
};

static enum pe_rc sw_sign(void *ctx, int md_nid, const unsigned char *dig,
                          size_t dlen, unsigned char **psig, size_t *psiglen)
{
    struct sw_signer *s = ctx;
    EVP_PKEY_CTX *pc = NULL;
    unsigned char *sig = NULL;
    size_t len = 0;
    enum pe_rc rc = PE_E_INTERNAL;

    s->calls++;
    s->md_nid = md_nid;
    s->dlen = dlen;
    pc = EVP_PKEY_CTX_new(s->key, NULL);
    if (pc == NULL || EVP_PKEY_sign_init(pc) != 1)
        goto out;
    if (EVP_PKEY_get_base_id(s->key) == EVP_PKEY_RSA &&
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1)
        goto out;
    if (EVP_PKEY_CTX_set_signature_md(pc, EVP_get_digestbynid(md_nid)) != 1)
        goto out;
    if (EVP_PKEY_sign(pc, NULL, &len, dig, dlen) != 1)
        goto out;
    sig = OPENSSL_malloc(len);
    if (sig == NULL || EVP_PKEY_sign(pc, sig, &len, dig, dlen) != 1)
        goto out;
    memcpy(s->sig, sig, len);
    s->siglen = len;
    *psig = sig;
    *psiglen = len;
    sig = NULL;
    rc = PE_OK;
out:
    OPENSSL_free(sig);
    EVP_PKEY_CTX_free(pc);
    return rc;
}

static EVP_PKEY *keys[5];

static EVP_PKEY *key_p256(void)
{
    if (keys[0] == NULL)
        keys[0] = EVP_EC_gen("P-256");
    return keys[0];
}

static EVP_PKEY *key_p384(void)
{
    if (keys[1] == NULL)
        keys[1] = EVP_EC_gen("P-384");
    return keys[1];
}

static EVP_PKEY *key_rsa(int i, unsigned int bits)
{
    if (keys[i] == NULL)
        keys[i] = EVP_RSA_gen(bits);
    return keys[i];
}

/* `openssl req -verify -noout` on the PEM, as a user would check it. */
static int openssl_req_verify(X509_REQ *req)
{
    char path[] = "/tmp/p11e-csr-XXXXXX", cmd[256];
    char *pem = NULL;
    FILE *f;
    int fd, st;

    if (csr_to_pem(req, &pem) != PE_OK)
        return -1;
    fd = mkstemp(path);
    if (fd < 0) {
        free(pem);
        return -1;
    }
    f = fdopen(fd, "w");
    fputs(pem, f);
    fclose(f);
    free(pem);
    snprintf(cmd, sizeof(cmd),
             "openssl req -in %s -verify -noout >/dev/null 2>&1", path);
    st = system(cmd);
    unlink(path);
    return st;
}

static char *oneline(const X509_NAME *name)
{
    static char buf[512];

    return X509_NAME_oneline(name, buf, sizeof(buf));
}

/* The request carries key's SubjectPublicKeyInfo, byte for byte as
 * OpenSSL encodes the key (i2d_PUBKEY), and it decodes to the key. */
static void spki_is_the_keys(X509_REQ *req, EVP_PKEY *key)
{
    unsigned char *want = NULL, *got = NULL;
    int wlen = i2d_PUBKEY(key, &want);
    int glen = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &got);

    CHECK(wlen > 0);
    CHECK_INT(glen, wlen);
    CHECK(glen == wlen && memcmp(got, want, (size_t)wlen) == 0);
    CHECK_INT(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key), 1);
    OPENSSL_free(want);
    OPENSSL_free(got);
}

/* Build for key with subject dn and run every generic check. */
static X509_REQ *build_ok(EVP_PKEY *key, const struct csr_subject *subj,
                          int want_md, int want_sig_nid)
{
    struct sw_signer s = {.key = key};
    X509_REQ *req = NULL;

    CHECK_INT(csr_build(subj, key, sw_sign, &s, &req), PE_OK);
    CHECK(req != NULL);
    CHECK_INT(s.calls, 1);
    CHECK_INT(s.md_nid, want_md);
    CHECK_INT(s.dlen, want_md == NID_sha256 ? 32 : 48);
    CHECK_INT(X509_REQ_get_signature_nid(req), want_sig_nid);
    CHECK_INT(X509_REQ_verify(req, key), 1);
    CHECK_INT(openssl_req_verify(req), 0);
    spki_is_the_keys(req, key);
    return req;
}

TEST("/csr/ec_p256_sha256")
{
    struct csr_subject subj = {.dn = "/CN=Dana Developer/O=Example Org"};
    X509_REQ *req =
        build_ok(key_p256(), &subj, NID_sha256, NID_ecdsa_with_SHA256);
    const X509_ALGOR *alg = NULL;
    const void *pval = NULL;
    int ptype = 0;

    X509_REQ_get0_signature(req, NULL, &alg);
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    CHECK_INT(ptype, V_ASN1_UNDEF); /* ECDSA: parameters absent */
    CHECK_STR(oneline(X509_REQ_get_subject_name(req)),
              "/CN=Dana Developer/O=Example Org");
    X509_REQ_free(req);
}

TEST("/csr/ec_p384_sha384")
{
    struct csr_subject subj = {.cn = "p384"};
    X509_REQ *req =
        build_ok(key_p384(), &subj, NID_sha384, NID_ecdsa_with_SHA384);

    X509_REQ_free(req);
}

TEST("/csr/rsa3072_sha256_null_params")
{
    struct csr_subject subj = {.cn = "rsa"};
    X509_REQ *req = build_ok(key_rsa(2, 3072), &subj, NID_sha256,
                             NID_sha256WithRSAEncryption);
    const X509_ALGOR *alg = NULL;
    const void *pval = NULL;
    int ptype = 0;

    X509_REQ_get0_signature(req, NULL, &alg);
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    CHECK_INT(ptype, V_ASN1_NULL);
    X509_REQ_free(req);
}

TEST("/csr/rsa4096_sha384")
{
    struct csr_subject subj = {.cn = "rsa4096"};
    X509_REQ *req = build_ok(key_rsa(3, 4096), &subj, NID_sha384,
                             NID_sha384WithRSAEncryption);

    X509_REQ_free(req);
}

TEST("/csr/fields_in_x500_order")
{
    struct csr_subject subj = {.cn = "Dana Developer",
                               .o = "Example Org",
                               .ou = "Engineering",
                               .c = "DE",
                               .l = "Berlin",
                               .st = "Berlin"};
    X509_REQ *req =
        build_ok(key_p256(), &subj, NID_sha256, NID_ecdsa_with_SHA256);

    CHECK_STR(oneline(X509_REQ_get_subject_name(req)),
              "/C=DE/ST=Berlin/L=Berlin/O=Example Org/OU=Engineering"
              "/CN=Dana Developer");
    X509_REQ_free(req);
}

TEST("/csr/subject_exact_utf8_and_escapes")
{
    struct csr_subject subj = {.dn = "/CN=J\xc3\xbcrgen/O=A\\/B/OU=x/OU=y"};
    X509_REQ *req =
        build_ok(key_p256(), &subj, NID_sha256, NID_ecdsa_with_SHA256);
    X509_NAME *name = X509_REQ_get_subject_name(req);
    const ASN1_STRING *cn;

    CHECK_INT(X509_NAME_entry_count(name), 4);
    cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, 0));
    CHECK_INT(ASN1_STRING_type(cn), V_ASN1_UTF8STRING);
    CHECK_STR((const char *)ASN1_STRING_get0_data(cn), "J\xc3\xbcrgen");
    CHECK_STR((const char *)ASN1_STRING_get0_data(
                  X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, 1))),
              "A/B");
    X509_REQ_free(req);
}

TEST("/csr/email_in_san")
{
    struct csr_subject subj = {.cn = "Dana", .email = "dev@example.org"};
    X509_REQ *req =
        build_ok(key_p256(), &subj, NID_sha256, NID_ecdsa_with_SHA256);
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gen;
    int i, type = -1;
    const ASN1_IA5STRING *ia5 = NULL;

    CHECK(exts != NULL);
    CHECK_INT(sk_X509_EXTENSION_num(exts), 1);
    i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
    CHECK(i >= 0);
    gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
    CHECK(gens != NULL);
    CHECK_INT(sk_GENERAL_NAME_num(gens), 1);
    gen = sk_GENERAL_NAME_value(gens, 0);
    ia5 = GENERAL_NAME_get0_value(gen, &type);
    CHECK_INT(type, GEN_EMAIL);
    CHECK_STR((const char *)ASN1_STRING_get0_data(ia5), "dev@example.org");
    /* the subject stays exactly what was asked: no emailAddress in it */
    CHECK_STR(oneline(X509_REQ_get_subject_name(req)), "/CN=Dana");
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}

TEST("/csr/no_email_no_extensions")
{
    struct csr_subject subj = {.cn = "plain"};
    X509_REQ *req =
        build_ok(key_p256(), &subj, NID_sha256, NID_ecdsa_with_SHA256);
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);

    CHECK(exts == NULL || sk_X509_EXTENSION_num(exts) == 0);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}

/*
 * A signature whose last byte is 0x00 must keep it, with "0 unused bits":
 * OpenSSL's default BIT STRING encoding would drop it.  About one in 256
 * ECDSA signatures ends so; build until one does.
 */
TEST("/csr/signature_ending_in_zero_byte")
{
    struct csr_subject subj = {.cn = "zero"};
    struct sw_signer s = {.key = key_p256()};
    X509_REQ *req = NULL, *again = NULL;
    const ASN1_BIT_STRING *bits = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    int i, len, found = 0;

    for (i = 0; i < 4000 && !found; i++) {
        X509_REQ_free(req);
        req = NULL;
        CHECK_INT(csr_build(&subj, s.key, sw_sign, &s, &req), PE_OK);
        found = s.sig[s.siglen - 1] == 0x00;
    }
    CHECK(found);
    X509_REQ_get0_signature(req, &bits, NULL);
    CHECK_INT(ASN1_STRING_length(bits), s.siglen);
    len = i2d_X509_REQ(req, &der);
    CHECK(len > (int)s.siglen + 2);
    /* ... 03 <len> 00 <signature> at the very end of the DER */
    CHECK_INT(der[len - (int)s.siglen - 1], 0x00);
    CHECK_INT(der[len - (int)s.siglen - 2], (int)s.siglen + 1);
    CHECK_INT(der[len - (int)s.siglen - 3], 0x03);
    CHECK(memcmp(der + len - s.siglen, s.sig, s.siglen) == 0);
    p = der;
    again = d2i_X509_REQ(NULL, &p, len);
    CHECK(again != NULL);
    CHECK_INT(X509_REQ_verify(again, s.key), 1);
    CHECK_INT(openssl_req_verify(req), 0);
    X509_REQ_free(again);
    OPENSSL_free(der);
    X509_REQ_free(req);
}

TEST("/csr/der_b64_is_one_line")
{
    struct csr_subject subj = {.cn = "b64"};
    X509_REQ *req =
        build_ok(key_p256(), &subj, NID_sha256, NID_ecdsa_with_SHA256);
    unsigned char *der = NULL, back[4096];
    char *b64 = NULL, *pem = NULL;
    int len, blen;

    CHECK_INT(csr_to_der_b64(req, &b64), PE_OK);
    CHECK(strchr(b64, '\n') == NULL);
    CHECK(strstr(b64, "BEGIN") == NULL);
    len = i2d_X509_REQ(req, &der);
    blen = EVP_DecodeBlock(back, (const unsigned char *)b64, (int)strlen(b64));
    /* EVP_DecodeBlock counts the padding bytes */
    CHECK(blen >= len && blen <= len + 2);
    CHECK(memcmp(back, der, (size_t)len) == 0);
    CHECK_INT(csr_to_pem(req, &pem), PE_OK);
    CHECK(strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36) == 0);
    free(pem);
    free(b64);
    OPENSSL_free(der);
    X509_REQ_free(req);
}

/* csr_build must refuse subj with PE_E_USAGE and a message holding want. */
static void bad_subject(const struct csr_subject *subj, const char *want)
{
    struct sw_signer s = {.key = key_p256()};
    X509_REQ *req = NULL;

    pe_clear();
    CHECK_INT(csr_build(subj, s.key, sw_sign, &s, &req), PE_E_USAGE);
    CHECK(req == NULL);
    CHECK_INT(s.calls, 0); /* nothing was signed */
    CHECK_CONTAINS(pe_detail(), want);
    CHECK_INT(csr_subject_check(subj), PE_E_USAGE);
}

TEST("/csr/rejects_bad_subjects")
{
    char longcn[80];
    struct csr_subject s;

    memset(longcn, 'a', sizeof(longcn));
    memcpy(longcn, "/CN=", 4);
    longcn[sizeof(longcn) - 1] = '\0';
    s = (struct csr_subject){.dn = "CN=x,O=y"};
    bad_subject(&s, "must look like \"/CN=name/O=organization\"");
    s = (struct csr_subject){.dn = ""};
    bad_subject(&s, "must look like");
    s = (struct csr_subject){.dn = "/CN="};
    bad_subject(&s, "The subject's CN is empty.");
    s = (struct csr_subject){.dn = "/XX=y"};
    bad_subject(&s, "unknown attribute \"XX\"");
    s = (struct csr_subject){.dn = "/CN"};
    bad_subject(&s, "has no '='");
    s = (struct csr_subject){.dn = "/CN=x/C=Germany"};
    bad_subject(&s, "two capital letters");
    s = (struct csr_subject){.dn = "/CN=a\nb"};
    bad_subject(&s, "control character");
    s = (struct csr_subject){.dn = longcn};
    bad_subject(&s, "longer than the standard allows");
    s = (struct csr_subject){0};
    bad_subject(&s, "The subject is empty");
    s = (struct csr_subject){.dn = "/CN=x", .o = "y"};
    bad_subject(&s, "not both");
    s = (struct csr_subject){.cn = "x", .email = "nobody"};
    bad_subject(&s, "is not an email address");
    s = (struct csr_subject){.cn = "x", .email = "a b@example.org"};
    bad_subject(&s, "printable ASCII");
    s = (struct csr_subject){.cn = "x", .c = "de"};
    bad_subject(&s, "two capital letters");
}

TEST("/csr/wrong_key_behind_signer_is_caught")
{
    struct csr_subject subj = {.cn = "x"};
    struct sw_signer s = {.key = key_p384()};
    X509_REQ *req = NULL;
    EVP_PKEY *other = EVP_EC_gen("P-256");

    /* pub is P-256, the signer holds another P-256 key */
    s.key = other;
    CHECK_INT(csr_build(&subj, key_p256(), sw_sign, &s, &req), PE_E_VERIFY);
    CHECK(req == NULL);
    CHECK_CONTAINS(pe_detail(), "does not verify");
    EVP_PKEY_free(other);
}

TEST("/csr/unsupported_key_types")
{
    struct csr_subject subj = {.cn = "x"};
    struct sw_signer s;
    X509_REQ *req = NULL;
    EVP_PKEY *p521 = EVP_EC_gen("P-521");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    s = (struct sw_signer){.key = p521};
    CHECK_INT(csr_md_nid(p521), 0);
    CHECK_INT(csr_build(&subj, p521, sw_sign, &s, &req), PE_E_KEY);
    CHECK_CONTAINS(pe_detail(), "EC P-256, EC P-384 or RSA");
    CHECK_INT(csr_md_nid(ed), 0);
    CHECK_INT(csr_md_nid(key_rsa(4, 2048)), NID_sha256);
    CHECK_INT(csr_md_nid(key_p384()), NID_sha384);
    CHECK(req == NULL);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(p521);
}

/* The signer's failure is passed through, nothing is returned. */
static enum pe_rc failing_sign(void *ctx, int md_nid, const unsigned char *dig,
                               size_t dlen, unsigned char **psig,
                               size_t *psiglen)
{
    (void)ctx;
    (void)md_nid;
    (void)dig;
    (void)dlen;
    *psig = NULL;
    *psiglen = 0;
    return pe_failf(PE_E_PIN_INCORRECT, "The token refused the PIN.");
}

TEST("/csr/signer_failure_passed_through")
{
    struct csr_subject subj = {.cn = "x"};
    X509_REQ *req = NULL;

    CHECK_INT(csr_build(&subj, key_p256(), failing_sign, NULL, &req),
              PE_E_PIN_INCORRECT);
    CHECK(req == NULL);
    CHECK_STR(pe_detail(), "The token refused the PIN.");
}

static void free_keys(void)
{
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        EVP_PKEY_free(keys[i]);
        keys[i] = NULL;
    }
}

__attribute__((destructor)) static void test_csr_cleanup(void)
{
    free_keys();
}
