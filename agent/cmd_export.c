/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_export.c - `p11enroll export`: a key's certificate and its chain,
 * read back from the token, as files for signing tools.
 *
 * Certificates are public objects: no login unless a PIN option is given
 * (then private keys are listed too, and the key's own URI is shown).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle.h"
#include "cmd.h"
#include "export.h"
#include "jsonout.h"
#include "log.h"
#include "tok.h"
#include "tokopt.h"
#include "util.h"

struct exp_opts {
    struct tokopt tok;
    struct export_select sel;
    const char *cert, *chain, *format_name;
    enum export_format format;
    bool json;
};

static void exp_usage(FILE *f)
{
    fprintf(f,
            "Usage: p11enroll export [TOKEN OPTIONS] [--key-id HEX | --label L]"
            "\n"
            "         [--cert F] [--chain F] [--format pem|der|pkcs7]\n"
            "         [--state-dir DIR] [--json]\n"
            "\n"
            "Reads the certificate of a key (--key-id, --label, or the only "
            "one\n"
            "with a certificate) back from the token, with its chain: the "
            "token's\n"
            "authority certificates linked by issuer, else the bundle saved "
            "by\n"
            "enroll in --state-dir.  --cert F and --chain F write them (chain "
            "issuer\n"
            "first, root last); without either, both go to standard output "
            "as PEM.\n"
            "--format: pem (default), der (certificates one after another) or"
            "\n"
            "pkcs7 (DER, certificates only).  --json: the key's and "
            "certificate's\n"
            "URIs and the files written.  No login is needed; with a PIN "
            "option\n"
            "the token is logged in to list private keys too.\n\n");
    tokopt_usage(f, false);
}

static enum pe_rc exp_args(int argc, char **argv, struct exp_opts *o,
                           bool *phelp)
{
    static const struct option longopts[] = {
        TOKOPT_LONGOPTS,
        {"key-id", required_argument, NULL, 'i'},
        {"label", required_argument, NULL, 'l'},
        {"cert", required_argument, NULL, 'C'},
        {"chain", required_argument, NULL, 'H'},
        {"format", required_argument, NULL, 'f'},
        {"state-dir", required_argument, NULL, 'd'},
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
            o->sel.key_id = optarg;
            break;
        case 'l':
            o->sel.label = optarg;
            break;
        case 'C':
            o->cert = optarg;
            break;
        case 'H':
            o->chain = optarg;
            break;
        case 'f':
            o->format_name = optarg;
            rc = export_format_parse(optarg, &o->format);
            break;
        case 'd':
            o->sel.state_dir = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            *phelp = true;
            break;
        default:
            rc = tokopt_getopt_other(&o->tok, c, "export", argv);
            break;
        }
    }
    if (rc != PE_OK || *phelp)
        return rc;
    if (optind < argc)
        return pe_failf(PE_E_USAGE, "Unexpected argument \"%s\" for export.",
                        argv[optind]);
    if (o->cert == NULL && o->chain == NULL &&
        (o->format != EXPORT_PEM || o->json))
        return pe_failf(PE_E_USAGE,
                        "%s writes only to files: give --cert "
                        "F and/or --chain F.",
                        o->json ? "export --json" : "This format");
    return tokopt_finish(&o->tok);
}

/* Log in only when a PIN option was given: certificates need none. */
static enum pe_rc exp_open(const struct tokopt *to, struct tok_ctx **pctx)
{
    enum pe_rc rc = tokopt_open(to, pctx);

    if (rc == PE_OK && to->pin.kind != SECRET_NONE)
        rc = tokopt_login(to, *pctx, TOK_USER);
    return rc;
}

static json_t *exp_json(struct tok_ctx *ctx, const struct exp_opts *o,
                        const struct export_item *it)
{
    json_t *chain = json_array(), *files = json_array(), *cert;
    int i;

    for (i = 0; chain != NULL && i < sk_X509_num(it->chain); i++)
        json_array_append_new(chain, jsonout_cert(sk_X509_value(it->chain, i)));
    if (files != NULL && o->cert != NULL)
        json_array_append_new(files, json_pack("{s:s, s:s}", "path", o->cert,
                                               "content", "certificate"));
    if (files != NULL && o->chain != NULL)
        json_array_append_new(files, json_pack("{s:s, s:s}", "path", o->chain,
                                               "content", "chain"));
    cert = jsonout_cert(it->leaf);
    if (cert != NULL)
        json_object_set_new(cert, "uri", json_string(it->cert_uri));
    return json_pack("{s:s, s:{s:s, s:s, s:s, s:b}, s:o, s:{s:o, s:b, s:s, "
                     "s:s?}, s:s, s:o}",
                     "token", tok_token_uri(ctx), "key", "id", it->id_hex,
                     "label", it->label, "uri", it->key_uri, "listed",
                     it->key_seen, "certificate", cert, "chain", "certificates",
                     chain, "complete", it->chain_complete, "from",
                     it->chain_from, "journal_id", it->journal_id, "format",
                     o->format_name ? o->format_name : "pem", "files", files);
}

static enum pe_rc exp_files(const struct exp_opts *o,
                            const struct export_item *it)
{
    enum pe_rc rc = PE_OK;

    if (o->cert == NULL && o->chain == NULL) { /* PEM on stdout */
        unsigned char *buf = NULL;
        size_t len = 0;

        rc = export_encode(it->leaf, it->chain, EXPORT_PEM, &buf, &len);
        if (rc == PE_OK && fwrite(buf, 1, len, stdout) != len)
            rc = pe_failf(PE_E_IO, "Writing to standard output failed.");
        free(buf);
        return rc;
    }
    if (o->cert != NULL) {
        rc = export_write(o->cert, it->leaf, NULL, o->format);
        if (rc != PE_OK)
            return rc;
        if (!o->json)
            say("Wrote the certificate to %s.", o->cert);
    }
    if (o->chain != NULL) {
        rc = export_write(o->chain, NULL, it->chain, o->format);
        if (rc == PE_OK && !o->json)
            say("Wrote the chain (%d certificates) to %s.",
                sk_X509_num(it->chain), o->chain);
    }
    return rc;
}

enum pe_rc cmd_export(int argc, char **argv)
{
    struct exp_opts o = {0};
    struct export_item it = {0};
    struct tok_ctx *ctx = NULL;
    bool help = false;
    enum pe_rc rc;

    rc = exp_args(argc, argv, &o, &help);
    if (rc != PE_OK || help) {
        exp_usage(help ? stdout : stderr);
        return rc;
    }
    rc = exp_open(&o.tok, &ctx);
    if (rc == PE_OK)
        rc = export_find(ctx, &o.sel, &it);
    if (rc != PE_OK)
        goto out;
    if (!it.chain_complete)
        log_warn("The chain of \"%s\" ends before a root: the issuer's "
                 "certificate is neither on the token nor in a saved "
                 "bundle.",
                 it.label);
    rc = exp_files(&o, &it);
    if (rc == PE_OK && o.json)
        rc = jsonout_print("export", exp_json(ctx, &o, &it), PE_OK);
    else if (rc == PE_OK && (o.cert != NULL || o.chain != NULL))
        export_hint(tok_token_uri(ctx), it.id_hex);
out:
    if (o.json && rc != PE_OK)
        jsonout_print("export", NULL, rc);
    export_item_clear(&it);
    tok_close(ctx);
    return rc;
}
