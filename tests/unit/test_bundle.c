/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bundle.c - bundle parsing and verification against a real small CA
 * made here with OpenSSL (root, intermediate, leaf; EC P-256 keys).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "harness.h"

#define DAY (24L * 3600)

static EVP_PKEY *root_key, *int_key, *leaf_key, *other_key, *rogue_key;
static X509 *root, *inter, *leaf;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
        abort();
    X509_EXTENSION_free(ext);
}

struct spec {
    const char *cn;
    EVP_PKEY *pub;
    X509 *issuer;     /* NULL: self-signed */
    EVP_PKEY *signer; /* issuer's key */
    int ca;
    const char *ku, *eku;
    long nb, na; /* validity, seconds from now */
    int no_aki;
};

static X509 *mk(const struct spec *s)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    static long serial = 1;

    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               (const unsigned char *)"Test", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               (const unsigned char *)s->cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer)
                                              : name);
    X509_gmtime_adj(X509_getm_notBefore(x), s->nb);
    X509_gmtime_adj(X509_getm_notAfter(x), s->na);
    X509_set_pubkey(x, s->pub);
    add_ext(x, NULL, NID_basic_constraints,
            s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, NULL, NID_subject_key_identifier, "hash");
    if (!s->no_aki)
        add_ext(x, s->issuer != NULL ? s->issuer : x,
                NID_authority_key_identifier, "keyid:always");
    if (s->ku != NULL)
        add_ext(x, NULL, NID_key_usage, s->ku);
    if (s->eku != NULL)
        add_ext(x, NULL, NID_ext_key_usage, s->eku);
    if (X509_sign(x, s->signer, EVP_sha256()) <= 0)
        abort();
    X509_NAME_free(name);
    return x;
}

static X509 *mk_leaf(const char *cn, EVP_PKEY *pub, const char *ku,
                     const char *eku, long nb, long na)
{
    struct spec s = {cn, pub, inter, int_key, 0, ku, eku, nb, na, 0};

    return mk(&s);
}

static void ca_setup(void)
{
    struct spec r = {
        "Test Root", NULL, NULL,       NULL, 1, "critical,keyCertSign,cRLSign",
        NULL,        -DAY, 3650 * DAY, 0};
    struct spec i = {"Test Intermediate",
                     NULL,
                     NULL,
                     NULL,
                     1,
                     "critical,keyCertSign,cRLSign",
                     NULL,
                     -DAY,
                     1000 * DAY,
                     0};

    if (root != NULL)
        return;
    root_key = EVP_EC_gen("P-256");
    int_key = EVP_EC_gen("P-256");
    leaf_key = EVP_EC_gen("P-256");
    other_key = EVP_EC_gen("P-256");
    rogue_key = EVP_EC_gen("P-256");
    r.pub = r.signer = root_key;
    root = mk(&r);
    i.pub = int_key;
    i.issuer = root;
    i.signer = root_key;
    inter = mk(&i);
    leaf = mk_leaf("Dana Developer", leaf_key, "critical,digitalSignature",
                   "codeSigning", -60, 365 * DAY);
}

__attribute__((destructor)) static void ca_teardown(void)
{
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(other_key);
    EVP_PKEY_free(rogue_key);
}

/* ---- encoders: the formats SCM sends ---------------------------------- */

struct buf {
    unsigned char *p;
    size_t n;
};

static void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

static void bio_take(BIO *bio, struct buf *b)
{
    char *data;
    long len = BIO_get_mem_data(bio, &data);

    b->p = malloc((size_t)len + 1);
    memcpy(b->p, data, (size_t)len);
    b->p[len] = '\0';
    b->n = (size_t)len;
    BIO_free(bio);
}

/* PEM of the NULL-terminated list, with optional text before/after. */
static struct buf pem_of(X509 **xs, const char *pre, const char *post)
{
    BIO *bio = BIO_new(BIO_s_mem());
    struct buf b;

    if (pre != NULL)
        BIO_puts(bio, pre);
    for (; *xs != NULL; xs++)
        PEM_write_bio_X509(bio, *xs);
    if (post != NULL)
        BIO_puts(bio, post);
    bio_take(bio, &b);
    return b;
}

static PKCS7 *p7_of(X509 **xs)
{
    PKCS7 *p7 = PKCS7_new();

    PKCS7_set_type(p7, NID_pkcs7_signed);
    PKCS7_content_new(p7, NID_pkcs7_data);
    for (; *xs != NULL; xs++)
        PKCS7_add_certificate(p7, *xs);
    return p7;
}

static struct buf p7_der(X509 **xs)
{
    PKCS7 *p7 = p7_of(xs);
    unsigned char *der = NULL;
    struct buf b;
    int len = i2d_PKCS7(p7, &der);

    b.p = malloc((size_t)len);
    memcpy(b.p, der, (size_t)len);
    b.n = (size_t)len;
    OPENSSL_free(der);
    PKCS7_free(p7);
    return b;
}

static struct buf p7_pem(X509 **xs)
{
    PKCS7 *p7 = p7_of(xs);
    BIO *bio = BIO_new(BIO_s_mem());
    struct buf b;

    PEM_write_bio_PKCS7(bio, p7);
    PKCS7_free(p7);
    bio_take(bio, &b);
    return b;
}

static struct buf der_of(X509 *x)
{
    unsigned char *der = NULL;
    struct buf b;
    int len = i2d_X509(x, &der);

    b.p = malloc((size_t)len);
    memcpy(b.p, der, (size_t)len);
    b.n = (size_t)len;
    OPENSSL_free(der);
    return b;
}

/* ---- checks ------------------------------------------------------------ */

/* Parse every buffer into one stack (all must parse). */
static STACK_OF(X509) * parse_all(struct buf *bufs, int n)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    int i;

    for (i = 0; i < n; i++) {
        CHECK_INT(bundle_parse(bufs[i].p, bufs[i].n, "test", certs), PE_OK);
        buf_free(&bufs[i]);
    }
    return certs;
}

/* The bundle verifies for the leaf key: leaf and chain inter, root. */
static void expect_good(STACK_OF(X509) * certs, STACK_OF(X509) * trust,
                        int want_chain)
{
    /* no roots given: the bundle's own, as --trust-bundle-root accepts it */
    struct bundle_check chk = {
        .key = leaf_key, .trust = trust, .bundle_root = trust == NULL};
    X509 *got = NULL;
    STACK_OF(X509) *chain = NULL;

    pe_clear();
    CHECK_INT(bundle_verify(certs, &chk, &got, &chain, NULL), PE_OK);
    CHECK(X509_cmp(got, leaf) == 0);
    CHECK_INT(sk_X509_num(chain), want_chain);
    CHECK(X509_cmp(sk_X509_value(chain, 0), inter) == 0);
    if (want_chain > 1)
        CHECK(X509_cmp(sk_X509_value(chain, 1), root) == 0);
    X509_free(got);
    bundle_certs_free(chain);
    bundle_certs_free(certs);
}

/* The bundle fails verification with rc and a message holding want. */
static void expect_bad(STACK_OF(X509) * certs, const struct bundle_check *c,
                       enum pe_rc want_rc, const char *want)
{
    X509 *got = NULL;
    STACK_OF(X509) *chain = NULL;

    pe_clear();
    CHECK_INT(bundle_verify(certs, c, &got, &chain, NULL), want_rc);
    CHECK(got == NULL && chain == NULL);
    CHECK_CONTAINS(pe_detail(), want);
    bundle_certs_free(certs);
}

static void expect_unparsable(const unsigned char *p, size_t n,
                              const char *want)
{
    STACK_OF(X509) *certs = sk_X509_new_null();

    pe_clear();
    CHECK_INT(bundle_parse(p, n, "in.pem", certs), PE_E_INPUT);
    CHECK_INT(sk_X509_num(certs), 0);
    CHECK_CONTAINS(pe_detail(), want);
    bundle_certs_free(certs);
}

/* ---- every format -------------------------------------------------------- */

TEST("/bundle/pem_leaf_first")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);

    expect_good(parse_all(&b, 1), NULL, 2);
}

TEST("/bundle/pem_root_first")
{
    X509 *xs[] = {(ca_setup(), root), inter, leaf, NULL};
    struct buf b = pem_of(xs, NULL, NULL);

    expect_good(parse_all(&b, 1), NULL, 2);
}

TEST("/bundle/pem_shuffled")
{
    X509 *xs[] = {(ca_setup(), inter), leaf, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);

    expect_good(parse_all(&b, 1), NULL, 2);
}

TEST("/bundle/cert_only_plus_chain_only_both_orders")
{
    X509 *l[] = {(ca_setup(), leaf), NULL};
    X509 *io[] = {root, inter, NULL}, *ior[] = {inter, root, NULL};
    struct buf b[2];

    b[0] = pem_of(l, NULL, NULL);
    b[1] = pem_of(io, NULL, NULL);
    expect_good(parse_all(b, 2), NULL, 2);
    b[0] = pem_of(l, NULL, NULL);
    b[1] = pem_of(ior, NULL, NULL);
    expect_good(parse_all(b, 2), NULL, 2);
}

TEST("/bundle/pkcs7_der_and_pem")
{
    X509 *xs[] = {(ca_setup(), root), leaf, inter, NULL};
    struct buf b = p7_der(xs);

    expect_good(parse_all(&b, 1), NULL, 2);
    b = p7_pem(xs);
    CHECK(strstr((char *)b.p, "-----BEGIN PKCS7-----") != NULL);
    expect_good(parse_all(&b, 1), NULL, 2);
}

TEST("/bundle/der_certificate")
{
    X509 *io[] = {(ca_setup(), inter), root, NULL};
    struct buf b[2];

    b[0] = der_of(leaf);
    b[1] = pem_of(io, NULL, NULL);
    expect_good(parse_all(b, 2), NULL, 2);
}

TEST("/bundle/crlf_and_text_around_blocks")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, root, NULL};
    struct buf b = pem_of(xs,
                          "subject=CN = Dana Developer\n"
                          "issuer=CN = Test Intermediate\n\n",
                          "\nthanks for your order\n");
    struct buf crlf;
    size_t i, j = 0;

    crlf.p = malloc(b.n * 2 + 1);
    for (i = 0; i < b.n; i++) {
        if (b.p[i] == '\n')
            crlf.p[j++] = '\r';
        crlf.p[j++] = b.p[i];
    }
    crlf.n = j;
    buf_free(&b);
    expect_good(parse_all(&crlf, 1), NULL, 2);
}

TEST("/bundle/text_starting_with_zero_digit")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, root, NULL};
    struct buf b = pem_of(xs, "0 errors; your certificate follows\n", NULL);

    expect_good(parse_all(&b, 1), NULL, 2);
}

TEST("/bundle/duplicates_count_once")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, leaf, root, inter, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    STACK_OF(X509) *certs = parse_all(&b, 1);

    CHECK_INT(sk_X509_num(certs), 3);
    expect_good(certs, NULL, 2);
}

TEST("/bundle/trust_file_root_outside_bundle")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    STACK_OF(X509) *trust = sk_X509_new_null();

    sk_X509_push(trust, root);
    expect_good(parse_all(&b, 1), trust, 2);
    sk_X509_free(trust);
}

TEST("/bundle/pem_out_in_chain_order")
{
    X509 *xs[] = {(ca_setup(), root), inter, NULL};
    STACK_OF(X509) *certs = sk_X509_new_null();
    char *pem = NULL, *p;

    sk_X509_push(certs, inter);
    sk_X509_push(certs, root);
    CHECK_INT(bundle_certs_pem(certs, &pem), PE_OK);
    p = strstr(pem, "-----END CERTIFICATE-----");
    CHECK(p != NULL && strstr(p + 1, "-----BEGIN CERTIFICATE-----") != NULL);
    sk_X509_free(certs);
    certs = sk_X509_new_null();
    CHECK_INT(bundle_parse((unsigned char *)pem, strlen(pem), "o", certs),
              PE_OK);
    CHECK(X509_cmp(sk_X509_value(certs, 0), xs[1]) == 0);
    CHECK(X509_cmp(sk_X509_value(certs, 1), xs[0]) == 0);
    free(pem);
    bundle_certs_free(certs);
}

/* ---- what does not check out --------------------------------------------- */

TEST("/bundle/two_leaves")
{
    X509 *other = (ca_setup(), mk_leaf("Someone Else", other_key,
                                       "critical,digitalSignature",
                                       "codeSigning", -60, 365 * DAY));
    X509 *xs[] = {leaf, other, inter, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key};

    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "two end-entity certificates");
    CHECK_CONTAINS(pe_detail(), "CN=Someone Else");
    X509_free(other);
}

TEST("/bundle/certificate_for_another_key")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = other_key};

    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "The certificate \"CN=Dana Developer,O=Test\" is for another "
               "key, not the token's key.");
}

TEST("/bundle/only_ca_certificates")
{
    X509 *xs[] = {(ca_setup(), inter), root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key};

    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "certificate for the token key is missing");
}

TEST("/bundle/expired_and_not_yet_valid")
{
    X509 *old =
        (ca_setup(), mk_leaf("Old", leaf_key, "critical,digitalSignature",
                             "codeSigning", -10 * DAY, -DAY));
    X509 *future = mk_leaf("Future", leaf_key, "critical,digitalSignature",
                           "codeSigning", 2 * DAY, 30 * DAY);
    X509 *a[] = {old, inter, root, NULL}, *f[] = {future, inter, root, NULL};
    struct buf b = pem_of(a, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key};
    char want[128], t[64];

    snprintf(want, sizeof(want), "expired on %s.",
             bundle_time_str(X509_get0_notAfter(old), t, sizeof(t)));
    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY, want);
    CHECK_CONTAINS(pe_detail(), "CN=Old");
    b = pem_of(f, NULL, NULL);
    snprintf(want, sizeof(want), "is not valid yet: valid from %s.",
             bundle_time_str(X509_get0_notBefore(future), t, sizeof(t)));
    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY, want);
    /* the same good leaf, checked two years from now */
    b = pem_of((X509 *[]){leaf, inter, root, NULL}, NULL, NULL);
    chk.at = time(NULL) + 730 * DAY;
    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY, "expired on");
    X509_free(old);
    X509_free(future);
}

TEST("/bundle/no_code_signing_eku")
{
    X509 *tls =
        (ca_setup(), mk_leaf("Web", leaf_key, "critical,digitalSignature",
                             "serverAuth", -60, 30 * DAY));
    X509 *xs[] = {tls, inter, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key, .bundle_root = true};
    STACK_OF(X509) *chain = NULL;
    X509 *got = NULL;
    STACK_OF(X509) * certs;

    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "lacks the codeSigning extended key usage (--any-eku");
    b = pem_of(xs, NULL, NULL);
    certs = parse_all(&b, 1);
    chk.any_eku = true;
    CHECK_INT(bundle_verify(certs, &chk, &got, &chain, NULL), PE_OK);
    CHECK(X509_cmp(got, tls) == 0);
    X509_free(got);
    bundle_certs_free(chain);
    bundle_certs_free(certs);
    X509_free(tls);
}

TEST("/bundle/no_digital_signature")
{
    X509 *enc = (ca_setup(), mk_leaf("Enc", leaf_key, "critical,keyAgreement",
                                     "codeSigning", -60, 30 * DAY));
    X509 *xs[] = {enc, inter, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key};

    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "lacks the digitalSignature key usage");
    X509_free(enc);
}

TEST("/bundle/missing_intermediate")
{
    X509 *xs[] = {(ca_setup(), leaf), root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key};

    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "the certificate of \"CN=Test Intermediate,O=Test\", which "
               "issued \"CN=Dana Developer,O=Test\", is neither in the "
               "bundle nor trusted");
}

TEST("/bundle/chain_signature_does_not_verify")
{
    /* signed by a rogue key under the intermediate's name, no AKI */
    struct spec s = {
        "Forged",      NULL, NULL, NULL, 0, "critical,digitalSignature",
        "codeSigning", -60,  DAY,  1};
    X509 *forged, *xs[4];
    struct buf b;
    struct bundle_check chk = {.key = leaf_key, .bundle_root = true};

    ca_setup();
    s.pub = leaf_key;
    s.issuer = inter;
    s.signer = rogue_key;
    forged = mk(&s);
    xs[0] = forged;
    xs[1] = inter;
    xs[2] = root;
    xs[3] = NULL;
    b = pem_of(xs, NULL, NULL);
    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "the signature on \"CN=Forged,O=Test\" is not by the key of "
               "its issuer \"CN=Test Intermediate,O=Test\"");
    X509_free(forged);
}

TEST("/bundle/root_not_the_trusted_one")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, root, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct spec r = {"Other Root",           other_key, NULL, other_key, 1,
                     "critical,keyCertSign", NULL,      -DAY, DAY,       0};
    X509 *other_root = mk(&r);
    STACK_OF(X509) *trust = sk_X509_new_null();
    struct bundle_check chk = {.key = leaf_key};

    sk_X509_push(trust, other_root);
    chk.trust = trust;
    expect_bad(parse_all(&b, 1), &chk, PE_E_VERIFY,
               "The chain ends at the root \"CN=Test Root,O=Test\" (SHA-256 ");
    CHECK_CONTAINS(pe_detail(), "), which is not the trusted root given.");
    sk_X509_free(trust);
    X509_free(other_root);
}

/* ---- anchors: what the chain may verify to --------------------------- */

/* The bundle with leaf, inter and root verified under chk into *pr. */
static enum pe_rc verify_full(struct bundle_check *chk, X509 *top,
                              struct bundle_root *pr)
{
    X509 *xs[] = {leaf, inter, top, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    STACK_OF(X509) *certs = parse_all(&b, 1), *chain = NULL;
    X509 *got = NULL;
    enum pe_rc rc;

    pe_clear();
    rc = bundle_verify(certs, chk, &got, &chain, pr);
    CHECK((rc == PE_OK) == (got != NULL && chain != NULL));
    X509_free(got);
    bundle_certs_free(chain);
    bundle_certs_free(certs);
    return rc;
}

TEST("/bundle/root_only_in_bundle_refused_with_fingerprint")
{
    struct bundle_check chk = {.key = (ca_setup(), leaf_key), .pins = true};
    struct bundle_root r;
    char hex[BUNDLE_SHA256_HEX], fp[BUNDLE_SHA256_FP], want[200];

    bundle_cert_sha256(root, hex);
    CHECK_INT(strlen(hex), 64);
    CHECK_INT(verify_full(&chk, root, &r), PE_E_VERIFY);
    CHECK(r.refused);
    CHECK_STR(r.sha256, hex);
    snprintf(want, sizeof(want),
             "The chain ends at the root \"CN=Test Root,O=Test\" "
             "(SHA-256 %s), which only the bundle vouches for",
             bundle_sha256_fp(hex, fp));
    CHECK_CONTAINS(pe_detail(), want);
    CHECK_CONTAINS(pe_detail(), "give --trust FILE with the CA's root, or "
                                "--trust-bundle-root to accept this root "
                                "once and pin it for renewals.");
    chk.pins = false;
    CHECK_INT(verify_full(&chk, root, &r), PE_E_VERIFY);
    CHECK_CONTAINS(pe_detail(), "accept this root for this run.");
}

TEST("/bundle/fingerprint_is_openssl_style")
{
    char fp[BUNDLE_SHA256_FP];
    const char *hex = "00ff1a2b3c4d5e6f708192a3b4c5d6e7"
                      "f8091a2b3c4d5e6f708192a3b4c5d6e7";

    CHECK_STR(bundle_sha256_fp(hex, fp),
              "00:FF:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:"
              "F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7");
}

TEST("/bundle/pinned_root_anchors_the_chain")
{
    STACK_OF(X509) *pins = sk_X509_new_null();
    struct bundle_check chk = {.key = (ca_setup(), leaf_key), .pinned = pins};
    struct bundle_root r;
    char hex[BUNDLE_SHA256_HEX];
    X509 *xs[] = {leaf, inter, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    STACK_OF(X509) * certs, *chain = NULL;
    X509 *got = NULL;

    sk_X509_push(pins, root);
    CHECK_INT(verify_full(&chk, root, &r), PE_OK);
    CHECK(!r.refused);
    CHECK_STR(r.sha256, bundle_cert_sha256(root, hex));
    /* a bundle without its root: the pin completes the chain */
    certs = parse_all(&b, 1);
    CHECK_INT(bundle_verify(certs, &chk, &got, &chain, &r), PE_OK);
    CHECK_INT(sk_X509_num(chain), 2);
    CHECK(X509_cmp(sk_X509_value(chain, 1), root) == 0);
    X509_free(got);
    bundle_certs_free(chain);
    bundle_certs_free(certs);
    sk_X509_free(pins);
}

TEST("/bundle/other_root_refused_despite_a_pin")
{
    struct spec rs = {
        "Test Root", other_key, NULL, other_key, 1, "critical,keyCertSign",
        NULL,        -DAY,      DAY,  0};
    X509 *other = (ca_setup(), mk(&rs));
    STACK_OF(X509) *pins = sk_X509_new_null();
    struct bundle_check chk = {.key = leaf_key, .pinned = pins};
    struct bundle_root r;
    char hex[BUNDLE_SHA256_HEX], fp[BUNDLE_SHA256_FP], want[256];

    /* the same name as the bundle's root, another key */
    sk_X509_push(pins, other);
    CHECK_INT(verify_full(&chk, root, &r), PE_E_VERIFY);
    CHECK(r.refused);
    CHECK_STR(r.sha256, bundle_cert_sha256(root, hex));
    CHECK_CONTAINS(pe_detail(), "which only the bundle vouches for");
    bundle_sha256_fp(bundle_cert_sha256(other, hex), fp);
    snprintf(want, sizeof(want),
             "(the root pinned under that name is SHA-256 %s: has the CA "
             "changed its root, or is this one forged?)",
             fp);
    CHECK_CONTAINS(pe_detail(), want);
    sk_X509_free(pins);
    X509_free(other);
}

TEST("/bundle/no_root_at_all_says_give_trust")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    struct bundle_check chk = {.key = leaf_key, .bundle_root = true};
    STACK_OF(X509) *certs = parse_all(&b, 1), *chain = NULL;
    struct bundle_root r;
    X509 *got = NULL;

    pe_clear();
    CHECK_INT(bundle_verify(certs, &chk, &got, &chain, &r), PE_E_VERIFY);
    CHECK(r.refused);
    CHECK_STR(r.sha256, "");
    CHECK_CONTAINS(pe_detail(),
                   "The bundle carries no root: \"CN=Test Root,O=Test\", "
                   "the issuer of \"CN=Test Intermediate,O=Test\"");
    CHECK_CONTAINS(pe_detail(), "give --trust FILE with the CA's root");
    bundle_certs_free(certs);
}

TEST("/bundle/accepted_root_must_be_the_one_shown")
{
    struct bundle_check chk = {.key = (ca_setup(), leaf_key),
                               .bundle_root = true,
                               .expect_root = "00112233445566778899aabbccdd"
                                              "eeff00112233445566778899aabb"
                                              "ccddeeff"};
    struct bundle_root r;
    char hex[BUNDLE_SHA256_HEX];

    CHECK_INT(verify_full(&chk, root, &r), PE_E_VERIFY);
    CHECK(r.refused);
    CHECK_CONTAINS(pe_detail(), "is not the root accepted before (SHA-256 "
                                "00:11:22:33:");
    CHECK_CONTAINS(pe_detail(), "--trust-bundle-root again");
    chk.expect_root = bundle_cert_sha256(root, hex);
    CHECK_INT(verify_full(&chk, root, &r), PE_OK);
    CHECK_STR(r.sha256, hex);
    CHECK(r.by_bundle_root);
}

TEST("/bundle/chain_anchored_elsewhere_is_not_by_the_bundle_root")
{
    STACK_OF(X509) *pins = sk_X509_new_null();
    struct bundle_check chk = {
        .key = (ca_setup(), leaf_key), .pinned = pins, .bundle_root = true};
    X509 *xs[] = {leaf, inter, NULL};
    struct buf b = pem_of(xs, NULL, NULL);
    STACK_OF(X509) * certs, *chain = NULL;
    struct bundle_root r;
    X509 *got = NULL;

    /* a bundle without its root, completed by a pin: the root at the top
     * of the chain is not one the bundle carried */
    sk_X509_push(pins, root);
    certs = parse_all(&b, 1);
    CHECK_INT(bundle_verify(certs, &chk, &got, &chain, &r), PE_OK);
    CHECK(!r.by_bundle_root);
    X509_free(got);
    bundle_certs_free(chain);
    bundle_certs_free(certs);
    /* not accepted: the same root, anchored by the pin alone */
    chk.bundle_root = false;
    CHECK_INT(verify_full(&chk, root, &r), PE_OK);
    CHECK(!r.by_bundle_root);
    sk_X509_free(pins);
}

/* ---- what cannot be parsed --------------------------------------------- */

TEST("/bundle/empty_input")
{
    expect_unparsable((const unsigned char *)"", 0, "\"in.pem\" is empty.");
}

TEST("/bundle/garbage_text")
{
    const char *g = "hello, this is not a certificate\n";

    expect_unparsable((const unsigned char *)g, strlen(g),
                      "holds no certificate: it is neither PEM nor DER.");
}

TEST("/bundle/malformed_pem_base64")
{
    X509 *xs[] = {(ca_setup(), leaf), NULL};
    struct buf b = pem_of(xs, NULL, NULL);

    b.p[40] = '*';
    b.p[41] = '!';
    expect_unparsable(b.p, b.n, "PEM block 1 of \"in.pem\" is damaged");
    buf_free(&b);
}

TEST("/bundle/pem_without_end_line")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, NULL};
    struct buf b = pem_of(xs, NULL, NULL);

    /* cut inside the second block */
    expect_unparsable(b.p, b.n - 60,
                      "PEM block 2 of \"in.pem\" is damaged "
                      "or not terminated");
    buf_free(&b);
}

TEST("/bundle/pem_block_not_a_certificate")
{
    const char *pem = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n"
                      "-----END CERTIFICATE-----\n";

    expect_unparsable((const unsigned char *)pem, strlen(pem),
                      "PEM block 1 of \"in.pem\" is not a valid "
                      "certificate.");
}

TEST("/bundle/private_key_block_refused")
{
    BIO *bio = (ca_setup(), BIO_new(BIO_s_mem()));
    struct buf b;

    PEM_write_bio_X509(bio, leaf);
    PEM_write_bio_PrivateKey(bio, leaf_key, NULL, NULL, 0, NULL, NULL);
    bio_take(bio, &b);
    expect_unparsable(b.p, b.n, "holds a \"PRIVATE KEY\" PEM block");
    buf_free(&b);
}

TEST("/bundle/malformed_der")
{
    const unsigned char der[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00};
    struct buf b = (ca_setup(), der_of(leaf));

    expect_unparsable(der, sizeof(der), "neither PEM nor a complete DER");
    /* a good certificate with a byte after it */
    b.p = realloc(b.p, b.n + 1);
    b.p[b.n++] = 0x00;
    expect_unparsable(b.p, b.n, "neither PEM nor a complete DER");
    buf_free(&b);
}

TEST("/bundle/truncated_pkcs7")
{
    X509 *xs[] = {(ca_setup(), leaf), inter, root, NULL};
    struct buf b = p7_der(xs);
    BIO *bio;
    struct buf pem;

    expect_unparsable(b.p, b.n / 2, "neither PEM nor a complete DER");
    expect_unparsable(b.p, b.n - 1, "neither PEM nor a complete DER");
    /* the same cut, armoured as PEM: the base64 is fine, the DER is not */
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio(bio, "PKCS7", "", b.p, (long)(b.n / 2));
    bio_take(bio, &pem);
    expect_unparsable(pem.p, pem.n,
                      "PEM block 1 of \"in.pem\" is not a "
                      "valid PKCS#7 (truncated?).");
    buf_free(&pem);
    buf_free(&b);
}

TEST("/bundle/too_many_certificates")
{
    struct spec r = {"",   NULL, NULL, NULL, 1, "critical,keyCertSign",
                     NULL, -DAY, DAY,  0};
    X509 *xs[BUNDLE_MAX_CERTS + 2];
    char cn[32];
    struct buf b;
    int i;

    ca_setup();
    r.pub = r.signer = other_key;
    for (i = 0; i < BUNDLE_MAX_CERTS + 1; i++) {
        snprintf(cn, sizeof(cn), "Root %d", i);
        r.cn = cn;
        xs[i] = mk(&r);
    }
    xs[i] = NULL;
    b = pem_of(xs, NULL, NULL);
    expect_unparsable(b.p, b.n, "holds more than 16 certificates");
    buf_free(&b);
    for (i = 0; xs[i] != NULL; i++)
        X509_free(xs[i]);
}

TEST("/bundle/failed_parse_leaves_stack_as_it_was")
{
    X509 *xs[] = {(ca_setup(), leaf), NULL}, *ys[] = {inter, root, NULL};
    struct buf good = pem_of(xs, NULL, NULL), bad = pem_of(ys, NULL, NULL);
    STACK_OF(X509) *certs = sk_X509_new_null();

    CHECK_INT(bundle_parse(good.p, good.n, "a", certs), PE_OK);
    CHECK_INT(bundle_parse(bad.p, bad.n - 30, "b", certs), PE_E_INPUT);
    CHECK_INT(sk_X509_num(certs), 1);
    buf_free(&good);
    buf_free(&bad);
    bundle_certs_free(certs);
}

TEST("/bundle/huge_file_refused_by_bounded_read")
{
    char path[] = "/tmp/p11e-bundle-XXXXXX";
    STACK_OF(X509) *certs = sk_X509_new_null();
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    /* 50 MB (sparse), starting like PEM */
    CHECK(write(fd, "-----BEGIN CERTIFICATE-----\n", 28) == 28);
    CHECK_INT(ftruncate(fd, 50L * 1024 * 1024), 0);
    close(fd);
    pe_clear();
    CHECK_INT(bundle_read_file(path, certs), PE_E_INPUT);
    CHECK_CONTAINS(pe_detail(), "is larger than the 1048576 bytes accepted");
    CHECK_INT(sk_X509_num(certs), 0);
    unlink(path);
    bundle_certs_free(certs);
}

TEST("/bundle/read_file_missing")
{
    STACK_OF(X509) *certs = sk_X509_new_null();

    CHECK_INT(bundle_read_file("/nonexistent/p11e.pem", certs), PE_E_IO);
    CHECK_CONTAINS(pe_detail(), "/nonexistent/p11e.pem");
    bundle_certs_free(certs);
}
