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

#include <jansson.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "cmd.h"
#include "expiry.h"
#include "export.h"
#include "install.h"
#include "jsonout.h"
#include "log.h"
#include "util.h"
#include "tok.h"
#include "tokopt.h"

struct inst_opts {
    struct tokopt tok;
    const char *key_id, *key_uri;
    const char *file, *chain, *trust, *out_cert, *out_chain;
    bool any_eku, bundle_root, json;
};

static void inst_usage(FILE *f)
{
    fprintf(f,
            "Usage: p11enroll install [TOKEN OPTIONS]\n"
            "         FILE [--chain FILE] [--trust ROOT.pem | "
            "--trust-bundle-root]\n"
            "         [--any-eku]\n"
            "         [--key-id HEX | --key-uri URI]\n"
            "         [--out-cert F] [--out-chain F] [--json]\n"
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
            "to --trust (default: the system's trust store).  A root only "
            "the bundle\n"
            "carries is refused unless --trust-bundle-root accepts it for "
            "this run.\n"
            "--key-id HEX or --key-uri URI: the key the certificate must be "
            "for\n(default: the token key it matches).\n"
            "--out-cert/--out-chain also write PEM files for signing tools."
            "\n--json: what was installed, as JSON (docs/json-schema.md)."
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
        {"trust-bundle-root", no_argument, NULL, 'b'},
        {"any-eku", no_argument, NULL, 'a'},
        {"out-cert", required_argument, NULL, 'C'},
        {"out-chain", required_argument, NULL, 'H'},
        {"json", no_argument, NULL, 'j'},
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
        case 'b':
            o->bundle_root = true;
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
        case 'j':
            o->json = true;
            break;
        case 'h':
            *phelp = true;
            break;
        default:
            rc = tokopt_getopt_other(&o->tok, c, "install", argv);
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
    if (o->trust != NULL && o->bundle_root)
        return pe_failf(PE_E_USAGE,
                        "Give --trust or --trust-bundle-root, not both.");
    return tokopt_finish(&o->tok);
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

/* The key named by --key-id/--key-uri, else the one the bundle is for. */
static enum pe_rc inst_find_key(struct tok_ctx *ctx, const struct inst_opts *o,
                                STACK_OF(X509) * certs, struct tok_key **pkey)
{
    if (o->key_uri == NULL && o->key_id == NULL)
        return install_find_key(ctx, certs, o->file, pkey);
    return tokopt_find_key(ctx, o->key_id, o->key_uri, pkey);
}

/* The --json result (docs/json-schema.md): what is on the token now. */
static json_t *inst_json(struct tok_ctx *ctx, struct tok_key *key,
                         const struct inst_opts *o,
                         const struct install_result *res)
{
    const unsigned char *id = NULL;
    json_t *cert = jsonout_cert(res->leaf), *chain = json_array();
    json_t *files = json_array();
    char hex[260];
    size_t len = 0;
    int i;

    tok_key_id(key, &id, &len);
    if (cert != NULL)
        json_object_set_new(cert, "uri", json_string(res->cert.uri));
    for (i = 0; chain != NULL && i < sk_X509_num(res->chain); i++)
        json_array_append_new(chain,
                              jsonout_cert(sk_X509_value(res->chain, i)));
    if (files != NULL && o->out_cert != NULL)
        json_array_append_new(files,
                              json_pack("{s:s, s:s}", "path", o->out_cert,
                                        "content", "certificate"));
    if (files != NULL && o->out_chain != NULL)
        json_array_append_new(
            files,
            json_pack("{s:s, s:s}", "path", o->out_chain, "content", "chain"));
    return json_pack(
        "{s:s, s:{s:s, s:s}, s:o, s:s, s:{s:o, s:b, s:I, s:I}, s:o}", "token",
        tok_token_uri(ctx), "key", "id",
        util_hex_encode(id, len, hex, sizeof(hex)), "uri", tok_key_uri(key),
        "certificate", cert, "certificate_was",
        res->cert.unchanged  ? "unchanged"
        : res->cert.replaced ? "replaced"
                             : "added",
        "chain", "certificates", chain, "on_token", res->chain_on_token,
        "written", (json_int_t)res->written, "skipped",
        (json_int_t)res->skipped, "files", files);
}

/* The next step: the command that prints signing recipes for the key. */
static void install_hint(struct tok_ctx *ctx, struct tok_key *key)
{
    const unsigned char *id = NULL;
    char hex[260];
    size_t len = 0;

    tok_key_id(key, &id, &len);
    export_hint(tok_token_uri(ctx), util_hex_encode(id, len, hex, sizeof(hex)));
}

enum pe_rc cmd_install(int argc, char **argv)
{
    struct inst_opts o = {0};
    struct bundle_check iopts = {0};
    struct install_result res = {0};
    STACK_OF(X509) *certs = NULL, *trust = NULL;
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;
    bool help = false;
    enum pe_rc rc;

    rc = inst_parse_args(argc, argv, &o, &help);
    if (rc != PE_OK)
        goto out;
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
    rc = tokopt_login_auto(&o.tok, ctx);
    if (rc != PE_OK)
        goto out;
    rc = inst_find_key(ctx, &o, certs, &key);
    if (rc != PE_OK)
        goto out;
    iopts.trust = trust;
    iopts.bundle_root = o.bundle_root;
    iopts.any_eku = o.any_eku;
    rc = install_material(ctx, key, certs, &iopts, &res);
    if (rc != PE_OK)
        goto out;
    rc = install_write_files(o.out_cert, o.out_chain, &res);
    if (rc != PE_OK)
        goto out;
    if (o.json) {
        rc = jsonout_print("install", inst_json(ctx, key, &o, &res), PE_OK);
    } else {
        install_summary(&res);
        install_hint(ctx, key);
        rc = PE_OK;
    }
out:
    if (rc != PE_OK && o.json)
        jsonout_print("install", NULL, rc);
    install_result_clear(&res);
    tok_key_free(key);
    tok_close(ctx);
    bundle_certs_free(trust);
    bundle_certs_free(certs);
    return rc;
}
