/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca.c - make, keep and use scm-sim's CA keys and certificates.
 *
 * Layout of the state folder:
 *   ca/{ec,rsa}-{root,int}.{key,pem}   issuing hierarchies
 *   ca/{ec,rsa}-wrong.{key,pem}        the "wrong intermediate" of the fault
 *   ca/roots.pem                       both issuing roots, for clients
 *   tls/ca.key, tls-ca.pem             the TLS CA
 *   tls/server.{key,pem}               the HTTPS certificate
 */
#include "ca.h"
#include "scm_sim.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_DAYS 7300
#define INT_DAYS  3650
#define TLS_DAYS  825

struct ca_pair {
    X509 *cert;
    EVP_PKEY *key;
};

struct sim_ca {
    char *dir;
    struct ca_pair ec_root, ec_int, ec_wrong;
    struct ca_pair rsa_root, rsa_int, rsa_wrong;
    struct ca_pair tls_ca, tls_srv;
    char *srv_cert_pem, *srv_key_pem;
};

enum ca_kind { KIND_ROOT, KIND_INT, KIND_TLS_SERVER };

static void ossl_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";

    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(err, errlen, "%s%s%s", what, e != 0 ? ": " : "", buf);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext = NULL;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

static int random_serial(X509 *cert)
{
    unsigned char buf[16];
    BIGNUM *bn = NULL;
    int rc = -1;

    if (RAND_bytes(buf, sizeof(buf)) != 1)
        return -1;
    buf[0] &= 0x7f;
    buf[0] |= 0x10; /* positive, 16 bytes long */
    bn = BN_bin2bn(buf, sizeof(buf), NULL);
    if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
        rc = 0;
    BN_free(bn);
    return rc;
}

static const EVP_MD *digest_for(const EVP_PKEY *signer)
{
    if (EVP_PKEY_is_a(signer, "EC") && EVP_PKEY_get_bits(signer) > 256)
        return EVP_sha384();
    return EVP_sha256();
}

/* A new certificate for pub with subject cn (+ O), valid days, with the
 * basic extensions of kind; issuer NULL: self-signed.  Not yet signed. */
static X509 *cert_new(EVP_PKEY *pub, const char *cn, const char *o, long days)
{
    X509 *cert = X509_new();
    X509_NAME *name = NULL;

    if (cert == NULL)
        return NULL;
    name = X509_get_subject_name(cert);
    if (X509_set_version(cert, 2) != 1 || random_serial(cert) != 0 ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -300) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) ==
            NULL ||
        X509_set_pubkey(cert, pub) != 1 ||
        (o != NULL && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                                 (const unsigned char *)o, -1,
                                                 -1, 0) != 1) ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* Make a CA-kind certificate for pub, signed by issuer (NULL: itself). */
static X509 *make_ca_cert(EVP_PKEY *pub, const char *cn, enum ca_kind kind,
                          const struct ca_pair *issuer)
{
    X509 *cert = NULL, *icert;
    EVP_PKEY *ikey;
    long days = kind == KIND_ROOT  ? ROOT_DAYS
                : kind == KIND_INT ? INT_DAYS
                                   : TLS_DAYS;

    cert = cert_new(pub, cn,
                    kind == KIND_TLS_SERVER ? NULL : "scm-sim Test PKI", days);
    if (cert == NULL)
        return NULL;
    icert = issuer != NULL ? issuer->cert : cert;
    ikey = issuer != NULL ? issuer->key : pub;
    if (X509_set_issuer_name(cert, X509_get_subject_name(icert)) != 1)
        goto fail;
    if (add_ext(cert, icert, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(cert, icert, NID_authority_key_identifier, "keyid:always") != 0)
        goto fail;
    if (kind == KIND_TLS_SERVER) {
        if (add_ext(cert, icert, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(cert, icert, NID_key_usage, "critical,digitalSignature") ||
            add_ext(cert, icert, NID_ext_key_usage, "serverAuth") ||
            add_ext(cert, icert, NID_subject_alt_name,
                    "IP:127.0.0.1,IP:::1,DNS:localhost"))
            goto fail;
    } else {
        if (add_ext(cert, icert, NID_basic_constraints,
                    kind == KIND_ROOT ? "critical,CA:TRUE"
                                      : "critical,CA:TRUE,pathlen:0") ||
            add_ext(cert, icert, NID_key_usage,
                    "critical,keyCertSign,cRLSign,digitalSignature"))
            goto fail;
    }
    if (X509_sign(cert, ikey, digest_for(ikey)) <= 0)
        goto fail;
    return cert;
fail:
    X509_free(cert);
    return NULL;
}

static char *path_of(const struct sim_ca *ca, const char *name)
{
    return util_printf("%s/%s", ca->dir, name);
}

static int write_pem(const char *path, int is_key, void *obj)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    int rc = -1;

    if (mem == NULL)
        return -1;
    if (is_key
            ? PEM_write_bio_PrivateKey(mem, obj, NULL, NULL, 0, NULL, NULL) != 1
            : PEM_write_bio_X509(mem, obj) != 1)
        goto out;
    len = BIO_get_mem_data(mem, &data);
    rc = util_write_file(path, data, (size_t)len, true);
out:
    BIO_free(mem);
    return rc;
}

/* Load pair `stem` (.key/.pem), or when missing or force, make it with
 * keygen alg ("EC:P-384", "RSA:4096", ...) signed by issuer.  *pmade tells
 * whether it was made. */
static int pair_get(struct sim_ca *ca, struct ca_pair *p, const char *stem,
                    const char *alg, const char *cn, enum ca_kind kind,
                    const struct ca_pair *issuer, bool force, bool *pmade,
                    char *err, size_t errlen)
{
    char *kpath = util_printf("%s/%s.key", ca->dir, stem);
    char *cpath = util_printf("%s/%s.pem", ca->dir, stem);
    FILE *f = NULL;
    int rc = -1;

    *pmade = false;
    if (kpath == NULL || cpath == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (!force && (f = fopen(kpath, "r")) != NULL) {
        p->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        f = fopen(cpath, "r");
        if (f != NULL) {
            p->cert = PEM_read_X509(f, NULL, NULL, NULL);
            fclose(f);
        }
        if (p->key == NULL || p->cert == NULL) {
            snprintf(err, errlen,
                     "%s or %s is damaged; remove the state "
                     "folder to start afresh",
                     kpath, cpath);
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (strncmp(alg, "RSA:", 4) == 0) {
        sim_log("generating %s (RSA-%s; this takes a few seconds, once)", stem,
                alg + 4);
        p->key = EVP_RSA_gen((unsigned int)atoi(alg + 4));
    } else {
        p->key = EVP_EC_gen(alg + 3);
    }
    if (p->key == NULL) {
        ossl_err(err, errlen, "key generation");
        goto out;
    }
    p->cert = make_ca_cert(p->key, cn, kind, issuer);
    if (p->cert == NULL) {
        ossl_err(err, errlen, "certificate creation");
        goto out;
    }
    if (write_pem(kpath, 1, p->key) != 0 || write_pem(cpath, 0, p->cert)) {
        snprintf(err, errlen, "cannot write %s", cpath);
        goto out;
    }
    *pmade = true;
    rc = 0;
out:
    free(kpath);
    free(cpath);
    return rc;
}

static char *pem_text(int is_key, void *obj)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    long len;

    if (mem == NULL)
        return NULL;
    if (is_key
            ? PEM_write_bio_PrivateKey(mem, obj, NULL, NULL, 0, NULL, NULL) == 1
            : PEM_write_bio_X509(mem, obj) == 1) {
        len = BIO_get_mem_data(mem, &data);
        out = malloc((size_t)len + 1);
        if (out != NULL) {
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(mem);
    return out;
}

/* Write roots.pem and tls-ca.pem (the files clients trust). */
static int write_trust_files(struct sim_ca *ca, const char *state_dir)
{
    char *a = pem_text(0, ca->ec_root.cert),
         *b = pem_text(0, ca->rsa_root.cert);
    char *roots = NULL, *path = NULL, *tls = pem_text(0, ca->tls_ca.cert);
    int rc = -1;

    if (a == NULL || b == NULL || tls == NULL)
        goto out;
    roots = util_printf("%s%s", a, b);
    path = path_of(ca, "roots.pem");
    if (roots == NULL || path == NULL ||
        util_write_file(path, roots, strlen(roots), true) != 0)
        goto out;
    free(path);
    path = util_printf("%s/tls-ca.pem", state_dir);
    if (path == NULL || util_write_file(path, tls, strlen(tls), true) != 0)
        goto out;
    rc = 0;
out:
    free(a);
    free(b);
    free(tls);
    free(roots);
    free(path);
    return rc;
}

static int open_tls(struct sim_ca *ca, const char *state_dir, char *err,
                    size_t errlen)
{
    char *tlsdir = util_printf("%s/tls", state_dir), *cadir = ca->dir;
    bool made = false, dummy;
    int rc = -1;

    if (tlsdir == NULL || util_mkdirs(tlsdir) != 0) {
        snprintf(err, errlen, "cannot create %s/tls", state_dir);
        goto out;
    }
    ca->dir = tlsdir;
    if (pair_get(ca, &ca->tls_ca, "ca", "EC:P-256", "scm-sim TLS CA", KIND_ROOT,
                 NULL, false, &made, err, errlen) != 0 ||
        pair_get(ca, &ca->tls_srv, "server", "EC:P-256", "localhost",
                 KIND_TLS_SERVER, &ca->tls_ca, made, &dummy, err, errlen) != 0)
        goto out;
    /* renew the server certificate when it is about to expire */
    if (X509_cmp_time(X509_get0_notAfter(ca->tls_srv.cert),
                      &(time_t){util_now() + 86400}) < 0) {
        X509_free(ca->tls_srv.cert);
        EVP_PKEY_free(ca->tls_srv.key);
        ca->tls_srv.cert = NULL;
        ca->tls_srv.key = NULL;
        if (pair_get(ca, &ca->tls_srv, "server", "EC:P-256", "localhost",
                     KIND_TLS_SERVER, &ca->tls_ca, true, &dummy, err,
                     errlen) != 0)
            goto out;
    }
    ca->srv_cert_pem = pem_text(0, ca->tls_srv.cert);
    ca->srv_key_pem = pem_text(1, ca->tls_srv.key);
    if (ca->srv_cert_pem == NULL || ca->srv_key_pem == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    ca->dir = cadir;
    free(tlsdir);
    return rc;
}

int ca_open(const char *state_dir, struct sim_ca **pca, char *err,
            size_t errlen)
{
    struct sim_ca *ca = calloc(1, sizeof(*ca));
    bool made = false, dummy;
    int rc = -1;

    if (ca == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ca->dir = util_printf("%s/ca", state_dir);
    if (ca->dir == NULL || util_mkdirs(ca->dir) != 0) {
        snprintf(err, errlen, "cannot create %s/ca", state_dir);
        goto out;
    }
    if (pair_get(ca, &ca->ec_root, "ec-root", "EC:P-384", "scm-sim EC Root CA",
                 KIND_ROOT, NULL, false, &made, err, errlen) != 0 ||
        pair_get(ca, &ca->ec_int, "ec-int", "EC:P-384",
                 "scm-sim EC Code Signing CA", KIND_INT, &ca->ec_root, made,
                 &dummy, err, errlen) != 0 ||
        pair_get(ca, &ca->rsa_root, "rsa-root", "RSA:4096",
                 "scm-sim RSA Root CA", KIND_ROOT, NULL, false, &made, err,
                 errlen) != 0 ||
        pair_get(ca, &ca->rsa_int, "rsa-int", "RSA:3072",
                 "scm-sim RSA Code Signing CA", KIND_INT, &ca->rsa_root, made,
                 &dummy, err, errlen) != 0 ||
        open_tls(ca, state_dir, err, errlen) != 0)
        goto out;
    if (write_trust_files(ca, state_dir) != 0) {
        snprintf(err, errlen, "cannot write %s/ca/roots.pem", state_dir);
        goto out;
    }
    *pca = ca;
    ca = NULL;
    rc = 0;
out:
    ca_free(ca);
    return rc;
}

static void pair_free(struct ca_pair *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
}

void ca_free(struct sim_ca *ca)
{
    if (ca == NULL)
        return;
    pair_free(&ca->ec_root);
    pair_free(&ca->ec_int);
    pair_free(&ca->ec_wrong);
    pair_free(&ca->rsa_root);
    pair_free(&ca->rsa_int);
    pair_free(&ca->rsa_wrong);
    pair_free(&ca->tls_ca);
    pair_free(&ca->tls_srv);
    free(ca->srv_cert_pem);
    if (ca->srv_key_pem != NULL) {
        OPENSSL_cleanse(ca->srv_key_pem, strlen(ca->srv_key_pem));
        free(ca->srv_key_pem);
    }
    free(ca->dir);
    free(ca);
}

const char *ca_server_cert_pem(const struct sim_ca *ca)
{
    return ca->srv_cert_pem;
}

const char *ca_server_key_pem(const struct sim_ca *ca)
{
    return ca->srv_key_pem;
}

static int add_san_email(X509 *cert, const char *email)
{
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    int rc = -1;

    if (names == NULL || gn == NULL || ia5 == NULL ||
        ASN1_STRING_set(ia5, email, -1) != 1)
        goto out;
    GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
    ia5 = NULL;
    if (sk_GENERAL_NAME_push(names, gn) <= 0)
        goto out;
    gn = NULL;
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0,
                          X509V3_ADD_DEFAULT) == 1)
        rc = 0;
out:
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    return rc;
}

static int add_subject(X509 *cert, const struct ca_subject *subj)
{
    X509_NAME *name = X509_NAME_new();
    int rc = -1;

    if (name == NULL)
        return -1;
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   (const unsigned char *)subj->o, -1, -1,
                                   0) != 1)
        goto out;
    if (subj->ou != NULL && subj->ou[0] != '\0' &&
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
                                   (const unsigned char *)subj->ou, -1, -1,
                                   0) != 1)
        goto out;
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)subj->cn, -1, -1,
                                   0) != 1 ||
        X509_set_subject_name(cert, name) != 1)
        goto out;
    rc = 0;
out:
    X509_NAME_free(name);
    return rc;
}

int ca_issue(struct sim_ca *ca, EVP_PKEY *pub, const struct ca_subject *subj,
             long days, X509 **pleaf, char *err, size_t errlen)
{
    const struct ca_pair *issuer =
        EVP_PKEY_is_a(pub, "RSA") ? &ca->rsa_int : &ca->ec_int;
    X509 *cert = X509_new();

    if (cert == NULL || X509_set_version(cert, 2) != 1 ||
        random_serial(cert) != 0 ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -60) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, -60, NULL) ==
            NULL ||
        X509_set_pubkey(cert, pub) != 1 || add_subject(cert, subj) != 0 ||
        X509_set_issuer_name(cert, X509_get_subject_name(issuer->cert)) != 1)
        goto fail;
    if (add_ext(cert, issuer->cert, NID_basic_constraints,
                "critical,CA:FALSE") ||
        add_ext(cert, issuer->cert, NID_key_usage,
                "critical,digitalSignature") ||
        add_ext(cert, issuer->cert, NID_ext_key_usage, "codeSigning") ||
        add_ext(cert, issuer->cert, NID_subject_key_identifier, "hash") ||
        add_ext(cert, issuer->cert, NID_authority_key_identifier,
                "keyid:always"))
        goto fail;
    if (subj->email != NULL && subj->email[0] != '\0' &&
        add_san_email(cert, subj->email) != 0)
        goto fail;
    if (X509_sign(cert, issuer->key, digest_for(issuer->key)) <= 0)
        goto fail;
    *pleaf = cert;
    return 0;
fail:
    ossl_err(err, errlen, "issuing the certificate");
    X509_free(cert);
    return -1;
}

int ca_chain(struct sim_ca *ca, const X509 *leaf, bool wrong, X509 **pint,
             X509 **proot)
{
    bool rsa = X509_NAME_cmp(X509_get_issuer_name(leaf),
                             X509_get_subject_name(ca->rsa_int.cert)) == 0;
    struct ca_pair *root = rsa ? &ca->rsa_root : &ca->ec_root;
    struct ca_pair *in = rsa ? &ca->rsa_int : &ca->ec_int;
    struct ca_pair *bad = rsa ? &ca->rsa_wrong : &ca->ec_wrong;
    char err[256], cn[128];
    bool made;

    if (wrong && bad->cert == NULL) {
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(in->cert),
                                      NID_commonName, cn, sizeof(cn)) < 0 ||
            pair_get(ca, bad, rsa ? "rsa-wrong" : "ec-wrong", "EC:P-384", cn,
                     KIND_INT, root, false, &made, err, sizeof(err)) != 0) {
            sim_log("wrong intermediate: %s", err);
            return -1;
        }
    }
    *pint = wrong ? bad->cert : in->cert;
    *proot = root->cert;
    return 0;
}
