/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/floor.c - the token's own time: what no enrollment tool can go
 * below.  Opens the token once and logs in once, then RUNS times generates
 * a key pair (tok_key_generate) and makes one signature over a SHA-256
 * digest with it (tok_sign_digest), timing each call alone.  Then it times
 * writing three certificates as p11enroll writes an issued one: a leaf for
 * the key and two chain certificates at once (tok_cert_write_all), all
 * made here with a throwaway software CA key; removes that leaf and times
 * three new ones written in turn (tok_cert_write_leaf, then
 * tok_cert_write_chain), and removes the key and every certificate again:
 * each run starts on an empty token, as every enrollment of the benchmark
 * does (SoftHSM's calls get slower with every object on the token, so
 * objects left from the runs before would inflate the floor).  Prints one
 * line of milliseconds per run:
 *
 *   open <ms> login <ms>
 *   run <n> keygen <ms> sign <ms> write3 <ms> inturn <ms>
 *
 * p11e-floor --token URI --module M --pin-file F --key TYPE [--runs N]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "secret.h"
#include "tok.h"

struct floor_opts {
    const char *token;
    const char *module;
    const char *pin_file;
    const char *key;
    int runs;
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int usage(void)
{
    fprintf(stderr, "usage: p11e-floor --token URI --module M "
                    "--pin-file F --key ec-p256|ec-p384|rsa-3072|rsa-4096 "
                    "[--runs N]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct floor_opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->runs = 5;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--token") == 0)
            o->token = argv[i + 1];
        else if (strcmp(argv[i], "--module") == 0)
            o->module = argv[i + 1];
        else if (strcmp(argv[i], "--pin-file") == 0)
            o->pin_file = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0)
            o->key = argv[i + 1];
        else if (strcmp(argv[i], "--runs") == 0)
            o->runs = atoi(argv[i + 1]);
        else
            return -1;
    }
    if (i != argc || o->token == NULL || o->pin_file == NULL ||
        o->key == NULL || o->runs < 1 || o->runs > 1000)
        return -1;
    return 0;
}

/* A certificate for pub named cn, signed by ca (any validity will do: the
 * token layer writes what it is given).  Allocates *pcert. */
static enum pe_rc make_cert(EVP_PKEY *pub, EVP_PKEY *ca, const char *cn,
                            long serial, X509 **pcert)
{
    X509_NAME *name = NULL;
    X509 *x = NULL;
    enum pe_rc rc = PE_E_NOMEM;

    x = X509_new();
    name = X509_NAME_new();
    if (x == NULL || name == NULL ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_version(x, 2) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
        !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
        !X509_set_pubkey(x, pub) || X509_sign(x, ca, EVP_sha256()) <= 0)
        goto out;
    *pcert = x;
    x = NULL;
    rc = PE_OK;
out:
    X509_NAME_free(name);
    X509_free(x);
    return rc;
}

/* Leaf for key and two chain certificates, new ones for every n, written
 * at once or in turn, and timed. */
static enum pe_rc write3(struct tok_ctx *ctx, struct tok_key *key, int n,
                         bool at_once, double *pms)
{
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *ca = NULL, *pub = NULL;
    X509 *leaf = NULL, *c1 = NULL, *c2 = NULL;
    char cn[64];
    double t0;
    enum pe_rc rc;

    rc = tok_key_public(key, &pub);
    if (rc != PE_OK)
        goto out;
    rc = PE_E_NOMEM;
    ca = EVP_EC_gen("P-256");
    chain = sk_X509_new_null();
    if (ca == NULL || chain == NULL)
        goto out;
    snprintf(cn, sizeof(cn), "floor leaf %d", n);
    rc = make_cert(pub, ca, cn, 3L * n, &leaf);
    if (rc == PE_OK) {
        snprintf(cn, sizeof(cn), "floor int %d", n);
        rc = make_cert(ca, ca, cn, 3L * n + 1, &c1);
    }
    if (rc == PE_OK) {
        snprintf(cn, sizeof(cn), "floor root %d", n);
        rc = make_cert(ca, ca, cn, 3L * n + 2, &c2);
    }
    if (rc != PE_OK)
        goto out;
    if (!sk_X509_push(chain, c1))
        goto out;
    c1 = NULL;
    if (!sk_X509_push(chain, c2))
        goto out;
    c2 = NULL;
    t0 = now_ms();
    if (at_once) {
        rc = tok_cert_write_all(ctx, key, leaf, chain, NULL, NULL, NULL);
    } else {
        rc = tok_cert_write_leaf(ctx, key, leaf, NULL);
        if (rc == PE_OK)
            rc = tok_cert_write_chain(ctx, chain, NULL, NULL);
    }
    if (rc != PE_OK)
        goto out;
    *pms = now_ms() - t0;
    rc = PE_OK;
out:
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    X509_free(c1);
    X509_free(c2);
    EVP_PKEY_free(ca);
    EVP_PKEY_free(pub);
    return rc;
}

/* Remove every certificate on the token (the chain certificates have
 * CKA_IDs of their own). */
static enum pe_rc clear_certs(struct tok_ctx *ctx)
{
    struct tok_object_list *list = NULL;
    enum pe_rc rc;
    size_t i;

    rc = tok_list_objects(ctx, &list);
    for (i = 0; rc == PE_OK && i < list->n; i++)
        if (list->v[i].cls == TOK_OBJ_CERT)
            rc = tok_cert_destroy(ctx, list->v[i].id, list->v[i].idlen, NULL);
    tok_object_list_free(list);
    return rc;
}

/* One run: keygen, one signature, three certificates written, key and
 * certificates removed.  Prints the line. */
static enum pe_rc one_run(struct tok_ctx *ctx, enum tok_keytype type, int n)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char *sig = NULL;
    struct tok_key *key = NULL;
    size_t siglen = 0;
    double t0, t1, t2, tw = 0, tt = 0;
    char label[32];
    enum pe_rc rc;

    snprintf(label, sizeof(label), "floor-%d", n);
    SHA256((const unsigned char *)label, strlen(label), digest);
    t0 = now_ms();
    rc = tok_key_generate(ctx, type, label, &key);
    if (rc != PE_OK)
        goto out;
    t1 = now_ms();
    rc =
        tok_sign_digest(key, NID_sha256, digest, sizeof(digest), &sig, &siglen);
    if (rc != PE_OK)
        goto out;
    t2 = now_ms();
    rc = write3(ctx, key, n, true, &tw);
    if (rc != PE_OK)
        goto out;
    rc = clear_certs(ctx);
    if (rc != PE_OK)
        goto out;
    rc = write3(ctx, key, n, false, &tt);
    if (rc != PE_OK)
        goto out;
    rc = clear_certs(ctx);
    if (rc != PE_OK)
        goto out;
    printf("run %d keygen %.3f sign %.3f write3 %.3f inturn %.3f\n", n, t1 - t0,
           t2 - t1, tw, tt);
    fflush(stdout);
    rc = tok_key_destroy(key);
    key = NULL;
out:
    OPENSSL_free(sig);
    tok_key_free(key);
    return rc;
}

int main(int argc, char **argv)
{
    struct secret_source pin = {SECRET_FILE, NULL, NULL};
    struct tok_ctx *ctx = NULL;
    struct floor_opts o;
    enum tok_keytype type;
    enum pe_rc rc;
    double t0, t1, t2;
    int n;

    if (parse_args(argc, argv, &o) != 0)
        return usage();
    rc = tok_keytype_parse(o.key, &type);
    if (rc != PE_OK)
        goto out;
    pin.arg = o.pin_file;
    t0 = now_ms();
    rc = tok_open(o.token, o.module, &ctx);
    if (rc != PE_OK)
        goto out;
    t1 = now_ms();
    rc = tok_login(ctx, &pin, TOK_USER, false);
    if (rc != PE_OK)
        goto out;
    t2 = now_ms();
    printf("open %.3f login %.3f\n", t1 - t0, t2 - t1);
    for (n = 1; n <= o.runs; n++) {
        rc = one_run(ctx, type, n);
        if (rc != PE_OK)
            goto out;
    }
    rc = PE_OK;
out:
    if (rc != PE_OK)
        fprintf(stderr, "p11e-floor: %s\n", pe_sentence(rc));
    tok_close(ctx);
    return rc == PE_OK ? 0 : 1;
}
