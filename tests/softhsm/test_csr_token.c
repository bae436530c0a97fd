/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_csr_token.c - csr_build() signed by keys on a real SoftHSM token
 * (tok_sign_digest), every key type, checked with `openssl req -verify`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "csr.h"
#include "tok_testutil.h"

TU_LOGIN_FIXTURE()

/* tok_sign_digest, counting calls and keeping the last signature. */
struct signer {
    struct tok_key *key;
    unsigned char last;
    size_t siglen;
    int calls;
};

static enum pe_rc token_sign(void *c, int md_nid, const unsigned char *dig,
                             size_t dlen, unsigned char **psig, size_t *psiglen)
{
    struct signer *s = c;
    enum pe_rc rc;

    s->calls++;
    rc = tok_sign_digest(s->key, md_nid, dig, dlen, psig, psiglen);
    if (rc == PE_OK) {
        s->last = (*psig)[*psiglen - 1];
        s->siglen = *psiglen;
    }
    return rc;
}

static int openssl_verify(X509_REQ *req)
{
    char path[PATH_MAX], cmd[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%.4000s/req.pem", fx.dir);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    PEM_write_X509_REQ(f, req);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "openssl req -in %s -verify -noout >/dev/null 2>&1", path);
    return system(cmd);
}

static void build_on_token(enum tok_keytype type, int want_sig_nid)
{
    struct csr_subject subj = {
        .cn = "Dana Developer", .o = "Example Org", .email = "dev@example.org"};
    struct signer s = {0};
    EVP_PKEY *pub = NULL;
    X509_REQ *req = NULL;
    char name[256];

    CHECK_INT(tok_key_generate(ctx, type, "csr", &s.key), PE_OK);
    CHECK_INT(tok_key_public(s.key, &pub), PE_OK);
    CHECK_INT(csr_build(&subj, pub, token_sign, &s, &req), PE_OK);
    CHECK_INT(s.calls, 1);
    CHECK_INT(X509_REQ_get_signature_nid(req), want_sig_nid);
    CHECK(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pub) == 1);
    X509_NAME_oneline(X509_REQ_get_subject_name(req), name, sizeof(name));
    CHECK_STR(name, "/O=Example Org/CN=Dana Developer");
    CHECK_INT(openssl_verify(req), 0);
    X509_REQ_free(req);
    EVP_PKEY_free(pub);
    tok_key_free(s.key);
}

TEST("/csr_token/ec_p256")
{
    build_on_token(TOK_EC_P256, NID_ecdsa_with_SHA256);
}

TEST("/csr_token/ec_p384")
{
    build_on_token(TOK_EC_P384, NID_ecdsa_with_SHA384);
}

TEST("/csr_token/rsa_3072")
{
    build_on_token(TOK_RSA_3072, NID_sha256WithRSAEncryption);
}

TEST("/csr_token/rsa_4096")
{
    build_on_token(TOK_RSA_4096, NID_sha384WithRSAEncryption);
}

/*
 * The token's r||s becomes DER; a DER signature that ends in 0x00 must
 * survive the BIT STRING.  About one in 256 does: sign until one has.
 */
TEST("/csr_token/signature_ending_in_zero")
{
    struct csr_subject subj = {.cn = "zero"};
    struct signer s = {0};
    EVP_PKEY *pub = NULL;
    X509_REQ *req = NULL;
    int i, found = 0;

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "zero", &s.key), PE_OK);
    CHECK_INT(tok_key_public(s.key, &pub), PE_OK);
    for (i = 0; i < 3000 && !found; i++) {
        X509_REQ_free(req);
        req = NULL;
        CHECK_INT(csr_build(&subj, pub, token_sign, &s, &req), PE_OK);
        found = s.last == 0x00;
    }
    CHECK(found);
    CHECK_INT(openssl_verify(req), 0);
    X509_REQ_free(req);
    EVP_PKEY_free(pub);
    tok_key_free(s.key);
}
