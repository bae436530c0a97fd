/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/floor.c - the token's own time: what no enrollment tool can go
 * below.  Opens the token once and logs in once, then RUNS times generates
 * a key pair (tok_key_generate) and makes one signature over a SHA-256
 * digest with it (tok_sign_digest), timing each call alone, and removes the
 * key again.  Prints one line of milliseconds per run:
 *
 *   open <ms> login <ms>
 *   run <n> keygen <ms> sign <ms>
 *
 * p11e-floor --token URI --module M --pin-file F --key TYPE [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

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

/* One run: keygen, one signature, key removed.  Prints the line. */
static enum pe_rc one_run(struct tok_ctx *ctx, enum tok_keytype type, int n)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char *sig = NULL;
    struct tok_key *key = NULL;
    size_t siglen = 0;
    double t0, t1, t2;
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
    printf("run %d keygen %.3f sign %.3f\n", n, t1 - t0, t2 - t1);
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
