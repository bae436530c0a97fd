/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_install.c - `p11enroll install`: issued material back onto the
 * token, checked before anything is written and proven after.
 *
 * Order: parse every file (bounded) -> open token, log in -> find the key
 * whose public key is in the bundle -> bundle_verify (key, validity, usage,
 * chain) -> write leaf, then chain -> read back, sign a random challenge
 * with the token key and check it with the certificate -> --out-* files.
 * Nothing reaches the token unless every check before it passed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "cmd.h"
#include "csr.h"
#include "fileio.h"
#include "log.h"
#include "secret.h"
#include "tok.h"
#include "tokopt.h"

struct inst_opts {
    struct tokopt tok;
    const char *key_id, *key_uri;
    const char *file, *chain, *trust, *out_cert, *out_chain;
    bool any_eku;
};

static void inst_usage(FILE *f)
{
    fprintf(f,
            "Usage: p11enroll install [TOKEN OPTIONS]\n"
            "         FILE [--chain FILE] [--trust ROOT.pem] [--any-eku]\n"
            "         [--key-id HEX | --key-uri URI]\n"
            "         [--out-cert F] [--out-chain F]\n"
            "\n"
            "Puts an issued certificate and its chain on the token, next to "
            "its\n"
            "key.  FILE (and --chain) may be PEM certificates in any order, "
            "PKCS#7\n"
            "(DER or PEM) or a DER certificate.  Before anything is written "
            "the\n"
            "certificate must match a key on the token, be valid now, allow\n"
            "digitalSignature and codeSigning (--any-eku: any purpose), and "
            "chain\n"
            "to --trust (default: the root in the bundle).\n"
            "--out-cert/--out-chain also write PEM files for signing tools."
            "\n\n");
    tokopt_usage(f, true);
}

static enum pe_rc inst_parse_args(int argc, char **argv, struct inst_opts *o,
                                  bool *phelp)
{
    static const struct option longopts[] = {
        TOKOPT_LONGOPTS,
        {"key-id", required_argument, NULL, 'i'},
        {"key-uri", required_argument, NULL, 'u'},
        {"chain", required_argument, NULL, 'c'},
        {"trust", required_argument, NULL, 'r'},
        {"any-eku", no_argument, NULL, 'a'},
        {"out-cert", required_argument, NULL, 'C'},
        {"out-chain", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum pe_rc rc = PE_OK;
    int c;

    tokopt_init(&o->tok);
    optind = 1;
    opterr = 0;
    while (rc == PE_OK &&
           (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            o->key_id = optarg;
            break;
        case 'u':
            o->key_uri = optarg;
            break;
        case 'c':
            o->chain = optarg;
            break;
        case 'r':
            o->trust = optarg;
            break;
        case 'a':
            o->any_eku = true;
            break;
        case 'C':
            o->out_cert = optarg;
            break;
        case 'H':
            o->out_chain = optarg;
            break;
        case 'h':
            *phelp = true;
            break;
        case ':':
            rc = pe_failf(PE_E_USAGE, "Option \"%s\" needs a value.",
                          argv[optind - 1]);
            break;
        default:
            if (tokopt_is(c))
                rc = tokopt_set(&o->tok, c, optarg);
            else
                rc = pe_failf(PE_E_USAGE,
                              "Unknown option \"%s\" for install; see "
                              "p11enroll install --help.",
                              argv[optind - 1]);
            break;
        }
    }
    if (rc != PE_OK || *phelp)
        return rc;
    if (optind != argc - 1)
        return pe_failf(PE_E_USAGE,
                        "install takes exactly one FILE (the certificate "
                        "or bundle); see p11enroll install --help.");
    o->file = argv[optind];
    if (o->key_id != NULL && o->key_uri != NULL)
        return pe_failf(PE_E_USAGE, "Give --key-id or --key-uri, not both.");
    return tokopt_finish(&o->tok);
}

/* As user, or as SO (--so-pin-*: ykcs11's management key) with the user
 * PIN kept for the key's context-specific login. */
static enum pe_rc inst_login(struct tok_ctx *ctx, const struct tokopt *to)
{
    if (to->so_pin.kind == SECRET_NONE)
        return tokopt_login(to, ctx, TOK_USER);
    if (to->pin.kind != SECRET_NONE)
        tok_set_context_pin(ctx, &to->pin);
    return tokopt_login(to, ctx, TOK_SO);
}

/* Every input file, parsed before the token is opened. */
static enum pe_rc inst_read_inputs(const struct inst_opts *o,
                                   STACK_OF(X509) * *pcerts,
                                   STACK_OF(X509) * *ptrust)
{
    enum pe_rc rc;

    *pcerts = sk_X509_new_null();
    if (*pcerts == NULL)
        return PE_E_NOMEM;
    rc = bundle_read_file(o->file, *pcerts);
    if (rc == PE_OK && o->chain != NULL)
        rc = bundle_read_file(o->chain, *pcerts);
    if (rc != PE_OK || o->trust == NULL)
        return rc;
    *ptrust = sk_X509_new_null();
    if (*ptrust == NULL)
        return PE_E_NOMEM;
    return bundle_read_file(o->trust, *ptrust);
}

/*
 * The token key the bundle is for: the one named, else the first key whose
 * public key is that of a certificate in the bundle (end-entity ones
 * first).  None: PE_E_VERIFY naming the certificate.
 */
static enum pe_rc inst_find_key(struct tok_ctx *ctx, const struct inst_opts *o,
                                STACK_OF(X509) * certs, struct tok_key **pkey)
{
    unsigned char id[64];
    size_t idlen = 0;
    X509 *x, *ee = NULL;
    char name[256];
    enum pe_rc rc;
    int pass, i;

    if (o->key_uri != NULL)
        return tok_key_find_by_uri(ctx, o->key_uri, pkey);
    if (o->key_id != NULL) {
        rc = tokopt_parse_hex(o->key_id, id, sizeof(id), &idlen);
        if (rc != PE_OK)
            return rc;
        return tok_key_find_by_id(ctx, id, idlen, pkey);
    }
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < sk_X509_num(certs); i++) {
            x = sk_X509_value(certs, i);
            if ((X509_check_ca(x) == 0) != (pass == 0))
                continue;
            if (pass == 0 && ee == NULL)
                ee = x;
            if (X509_get0_pubkey(x) == NULL)
                continue;
            if (tok_key_find_by_public(ctx, X509_get0_pubkey(x), pkey) == PE_OK)
                return PE_OK;
        }
    }
    if (ee == NULL)
        return pe_failf(PE_E_VERIFY,
                        "\"%s\" holds only CA certificates; the certificate "
                        "for a key on the token is missing.",
                        o->file);
    return pe_failf(
        PE_E_VERIFY,
        "The certificate \"%s\" is for another key: no key on "
        "token \"%s\" matches it.",
        bundle_name_str(X509_get_subject_name(ee), name, sizeof(name)),
        tok_token_label(ctx));
}

/* Sign a random challenge with the token key; check it with cert. */
static enum pe_rc inst_prove_key(struct tok_key *key, X509 *cert)
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

/* After writing: the leaf reads back equal, the chain is on the token
 * (where it can be), and the key signs for the certificate. */
static enum pe_rc inst_post_check(struct tok_ctx *ctx, struct tok_key *key,
                                  X509 *leaf, STACK_OF(X509) * chain)
{
    struct tok_object_list *list = NULL;
    X509 *back = NULL;
    enum pe_rc rc;
    size_t j;
    int i;
    bool found;

    rc = tok_cert_read(ctx, key, &back);
    if (rc != PE_OK)
        goto out;
    if (back == NULL || X509_cmp(back, leaf) != 0) {
        rc = pe_failf(PE_E_TOKEN, "The certificate read back from the "
                                  "token is not the one written.");
        goto out;
    }
    if (tok_can_store_chain(ctx) && sk_X509_num(chain) > 0) {
        rc = tok_list_objects(ctx, &list);
        if (rc != PE_OK)
            goto out;
        for (i = 0; i < sk_X509_num(chain); i++) {
            found = false;
            for (j = 0; j < list->n && !found; j++)
                found = list->v[j].cls == TOK_OBJ_CERT &&
                        list->v[j].cert != NULL &&
                        X509_cmp(list->v[j].cert, sk_X509_value(chain, i)) == 0;
            if (!found) {
                rc = pe_failf(PE_E_TOKEN, "A chain certificate is missing "
                                          "on the token after writing it.");
                goto out;
            }
        }
    }
    rc = inst_prove_key(key, back);
out:
    tok_object_list_free(list);
    X509_free(back);
    return rc;
}

/* --out-cert and --out-chain, PEM, atomically. */
static enum pe_rc inst_write_files(const struct inst_opts *o, X509 *leaf,
                                   STACK_OF(X509) * chain)
{
    char *pem = NULL;
    enum pe_rc rc = PE_OK;

    if (o->out_cert != NULL) {
        rc = bundle_cert_pem(leaf, &pem);
        if (rc == PE_OK)
            rc = fileio_write_atomic(o->out_cert, pem, strlen(pem), 0644);
        free(pem);
        pem = NULL;
        if (rc != PE_OK)
            return rc;
        say("Wrote the certificate to %s.", o->out_cert);
    }
    if (o->out_chain != NULL) {
        rc = bundle_certs_pem(chain, &pem);
        if (rc == PE_OK)
            rc = fileio_write_atomic(o->out_chain, pem, strlen(pem), 0644);
        free(pem);
        if (rc != PE_OK)
            return rc;
        say("Wrote the chain (%d certificates) to %s.", sk_X509_num(chain),
            o->out_chain);
    }
    return rc;
}

static void inst_summary(X509 *leaf, const struct tok_cert_result *res,
                         size_t written, size_t skipped, bool chain_on_token)
{
    char s[256], i[256], t[64];
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;

    say("Installed \"%s\"",
        bundle_name_str(X509_get_subject_name(leaf), s, sizeof(s)));
    say("  issuer   %s",
        bundle_name_str(X509_get_issuer_name(leaf), i, sizeof(i)));
    say("  serial   %s", serial != NULL ? serial : "?");
    say("  expires  %s",
        bundle_time_str(X509_get0_notAfter(leaf), t, sizeof(t)));
    say("  on token %s%s", res->uri != NULL ? res->uri : "?",
        res->unchanged  ? " (already there)"
        : res->replaced ? " (replaced the old one)"
                        : "");
    if (chain_on_token)
        say("  chain    %zu written, %zu already on the token", written,
            skipped);
    else
        say("  chain    not stored: this token holds only the leaf "
            "(use --out-chain)");
    OPENSSL_free(serial);
    BN_free(bn);
}

enum pe_rc cmd_install(int argc, char **argv)
{
    struct inst_opts o = {0};
    struct bundle_check chk = {0};
    struct tok_cert_result res = {0};
    STACK_OF(X509) *certs = NULL, *trust = NULL, *chain = NULL;
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;
    X509 *leaf = NULL;
    size_t written = 0, skipped = 0;
    bool help = false;
    enum pe_rc rc;

    rc = inst_parse_args(argc, argv, &o, &help);
    if (rc != PE_OK)
        return rc;
    if (help) {
        inst_usage(stdout);
        return PE_OK;
    }
    rc = inst_read_inputs(&o, &certs, &trust);
    if (rc != PE_OK)
        goto out;
    rc = tokopt_open(&o.tok, &ctx);
    if (rc != PE_OK)
        goto out;
    rc = inst_login(ctx, &o.tok);
    if (rc != PE_OK)
        goto out;
    rc = inst_find_key(ctx, &o, certs, &key);
    if (rc != PE_OK)
        goto out;
    rc = tok_key_public(key, &pub);
    if (rc != PE_OK)
        goto out;
    chk.key = pub;
    chk.trust = trust;
    chk.any_eku = o.any_eku;
    rc = bundle_verify(certs, &chk, &leaf, &chain);
    if (rc != PE_OK)
        goto out;
    /* Checked: now, and only now, the token is written. */
    rc = tok_cert_write_leaf(ctx, key, leaf, &res);
    if (rc != PE_OK)
        goto out;
    rc = tok_cert_write_chain(ctx, chain, &written, &skipped);
    if (rc != PE_OK)
        goto out;
    rc = inst_post_check(ctx, key, leaf, chain);
    if (rc != PE_OK)
        goto out;
    rc = inst_write_files(&o, leaf, chain);
    if (rc != PE_OK)
        goto out;
    inst_summary(leaf, &res, written, skipped, tok_can_store_chain(ctx));
    rc = PE_OK;
out:
    tok_cert_result_clear(&res);
    bundle_certs_free(chain);
    X509_free(leaf);
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
    bundle_certs_free(trust);
    bundle_certs_free(certs);
    return rc;
}
