/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_csr.c - `p11enroll csr`: a key on the token (new or reused) and a
 * PKCS#10 request signed by it, for any CA with a web form.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bundle.h"
#include "cmd.h"
#include "csr.h"
#include "fileio.h"
#include "jsonout.h"
#include "log.h"
#include "tok.h"
#include "tokopt.h"
#include "util.h"

#define CSR_DEFAULT_LABEL "p11enroll"

struct csr_opts {
    struct tokopt tok;
    const char *key_type, *label, *key_id, *key_uri, *out;
    struct csr_subject subj;
    bool json;
};

static void csr_usage(FILE *f)
{
    fprintf(f,
            "Usage: p11enroll csr [TOKEN OPTIONS]\n"
            "         [--key|--key-type ec-p256|ec-p384|rsa-3072|rsa-4096]\n"
            "         [--label L]\n"
            "         [--key-id HEX | --key-uri URI]\n"
            "         [--subject \"/CN=.../O=...\" | --cn --o --ou --c --l "
            "--st]\n"
            "         [--email ADDR] [--out req.pem] [--json]\n"
            "\n"
            "Generates a key pair on the token (or reuses --key-id/--key-uri),"
            "\n"
            "signs a PKCS#10 request with it and prints the request as PEM\n"
            "and the key's pkcs11: URI (\"Key: URI\" on stderr); with --out "
            "the\n"
            "request goes to the file and the URI to standard output.\n"
            "\n"
            "  --key-type T, --key T  the key to make (default ec-p256)\n"
            "  --label L            CKA_LABEL of the new key "
            "(default " CSR_DEFAULT_LABEL ")\n"
            "  --key-id HEX, --key-uri URI  sign with this key instead of "
            "making one\n"
            "  --subject DN         the whole subject, as "
            "/CN=name/O=organization\n"
            "  --cn --o --ou --c --l --st  the subject one attribute at "
            "a time\n"
            "  --email ADDR         an e-mail address for the "
            "subjectAltName (rfc822Name)\n"
            "  --out F              write the request to F\n"
            "  --json               the key and the request (PEM) as JSON "
            "on standard\n"
            "                       output (docs/json-schema.md)\n"
            "\n");
    tokopt_usage(f, true);
}

static enum pe_rc csr_parse_args(int argc, char **argv, struct csr_opts *o,
                                 bool *phelp)
{
    static const struct option longopts[] = {
        TOKOPT_LONGOPTS,
        {"key", required_argument, NULL, 'k'},
        {"key-type", required_argument, NULL, 'k'}, /* as enroll says it */
        {"label", required_argument, NULL, 'L'},
        {"key-id", required_argument, NULL, 'i'},
        {"key-uri", required_argument, NULL, 'u'},
        {"subject", required_argument, NULL, 's'},
        {"cn", required_argument, NULL, 1},
        {"o", required_argument, NULL, 2},
        {"ou", required_argument, NULL, 3},
        {"c", required_argument, NULL, 4},
        {"l", required_argument, NULL, 5},
        {"st", required_argument, NULL, 6},
        {"email", required_argument, NULL, 7},
        {"out", required_argument, NULL, 'o'},
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
        case 'k':
            o->key_type = optarg;
            break;
        case 'L':
            o->label = optarg;
            break;
        case 'i':
            o->key_id = optarg;
            break;
        case 'u':
            o->key_uri = optarg;
            break;
        case 's':
            o->subj.dn = optarg;
            break;
        case 1:
            o->subj.cn = optarg;
            break;
        case 2:
            o->subj.o = optarg;
            break;
        case 3:
            o->subj.ou = optarg;
            break;
        case 4:
            o->subj.c = optarg;
            break;
        case 5:
            o->subj.l = optarg;
            break;
        case 6:
            o->subj.st = optarg;
            break;
        case 7:
            o->subj.email = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            *phelp = true;
            break;
        default:
            rc = tokopt_getopt_other(&o->tok, c, "csr", argv);
            break;
        }
    }
    if (rc == PE_OK && optind < argc)
        rc = pe_failf(PE_E_USAGE, "Unexpected argument \"%s\" for csr.",
                      argv[optind]);
    if (rc == PE_OK && o->key_id != NULL && o->key_uri != NULL)
        rc = pe_failf(PE_E_USAGE, "Give --key-id or --key-uri, not both.");
    if (rc == PE_OK && (o->key_id != NULL || o->key_uri != NULL) &&
        (o->key_type != NULL || o->label != NULL))
        rc = pe_failf(PE_E_USAGE, "--key and --label are for a new key; "
                                  "they do not go with --key-id or "
                                  "--key-uri.");
    if (rc == PE_OK)
        rc = tokopt_finish(&o->tok);
    return rc;
}

/* tok_sign_digest in the csr_sign_fn shape. */
static enum pe_rc csr_token_sign(void *ctx, int md_nid,
                                 const unsigned char *digest, size_t dlen,
                                 unsigned char **psig, size_t *psiglen)
{
    return tok_sign_digest(ctx, md_nid, digest, dlen, psig, psiglen);
}

/* The key: found by --key-id/--key-uri, or generated (*pnew = true). */
static enum pe_rc csr_get_key(struct tok_ctx *ctx, const struct csr_opts *o,
                              struct tok_key **pkey, bool *pnew)
{
    enum tok_keytype type = TOK_EC_P256;
    enum pe_rc rc;

    *pnew = false;
    if (o->key_uri != NULL || o->key_id != NULL)
        return tokopt_find_key(ctx, o->key_id, o->key_uri, pkey);
    if (o->key_type != NULL) {
        rc = tok_keytype_parse(o->key_type, &type);
        if (rc != PE_OK)
            return rc;
    }
    say("Generating a %s key on token \"%s\"...", tok_keytype_name(type),
        tok_token_label(ctx));
    rc = tok_key_generate(
        ctx, type, o->label != NULL ? o->label : CSR_DEFAULT_LABEL, pkey);
    if (rc == PE_OK)
        *pnew = true;
    return rc;
}

/* The --json result (docs/json-schema.md). */
static json_t *csr_json(struct tok_ctx *ctx, struct tok_key *key, X509_REQ *req,
                        const char *pem, const struct csr_opts *o, bool fresh)
{
    const unsigned char *id = NULL;
    enum tok_keytype kt;
    char hex[260], subj[512];
    size_t len = 0;

    tok_key_id(key, &id, &len);
    return json_pack(
        "{s:s, s:s, s:s, s:s?, s:b, s:s, s:s, s:s?}", "token_uri",
        tok_token_uri(ctx), "key_id",
        util_hex_encode(id, len, hex, sizeof(hex)), "key_uri", tok_key_uri(key),
        "key_type",
        tok_key_type(key, &kt) == PE_OK ? tok_keytype_name(kt) : NULL,
        "key_generated", fresh, "subject",
        bundle_name_str(X509_REQ_get_subject_name(req), subj, sizeof(subj)),
        "csr", pem, "file", o->out);
}

/* The PEM to --out (atomically) or stdout (not with --json: it is in the
 * result). */
static enum pe_rc csr_output(const struct csr_opts *o, const char *pem)
{
    if (o->out == NULL && o->json)
        return PE_OK;
    if (o->out == NULL) {
        if (fputs(pem, stdout) < 0 || fflush(stdout) != 0)
            return pe_failf(PE_E_IO, "Writing the request to standard "
                                     "output failed.");
        return PE_OK;
    }
    return fileio_write_atomic(o->out, pem, strlen(pem), 0644);
}

enum pe_rc cmd_csr(int argc, char **argv)
{
    struct csr_opts o = {0};
    char why[1024];
    struct tok_ctx *ctx = NULL;
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;
    X509_REQ *req = NULL;
    char *pem = NULL;
    bool help = false, fresh = false;
    enum pe_rc rc;

    rc = csr_parse_args(argc, argv, &o, &help);
    if (rc != PE_OK)
        return rc;
    if (help) {
        csr_usage(stdout);
        return PE_OK;
    }
    /* A bad subject is found before the token is touched. */
    rc = csr_subject_check(&o.subj);
    if (rc != PE_OK)
        goto out;
    rc = tokopt_open(&o.tok, &ctx);
    if (rc != PE_OK)
        goto out;
    rc = tokopt_login_auto(&o.tok, ctx);
    if (rc != PE_OK)
        goto out;
    rc = csr_get_key(ctx, &o, &key, &fresh);
    if (rc != PE_OK)
        goto out;
    rc = tok_key_public(key, &pub);
    if (rc != PE_OK)
        goto out;
    rc = csr_build(&o.subj, pub, csr_token_sign, key, &req);
    if (rc != PE_OK)
        goto out;
    rc = csr_to_pem(req, &pem);
    if (rc != PE_OK)
        goto out;
    rc = csr_output(&o, pem);
    if (rc != PE_OK)
        goto out;
    /* The key's URI is a result too: on stdout when the request went to
     * a file, else beside the PEM on stderr (even with --quiet). */
    if (o.json) {
        rc = jsonout_print("csr", csr_json(ctx, key, req, pem, &o, fresh),
                           PE_OK);
        if (rc != PE_OK)
            goto out;
    } else if (o.out != NULL) {
        say("Wrote the request to %s.", o.out);
        printf("%s\n", tok_key_uri(key));
    } else {
        fprintf(stderr, "Key: %s\n", tok_key_uri(key));
    }
    rc = PE_OK;
out:
    if (rc != PE_OK && fresh && key != NULL) {
        /* No request came of the new key: do not leave it behind, and
         * keep the first failure's sentence. */
        snprintf(why, sizeof(why), "%s", pe_sentence(rc));
        if (tok_key_destroy(key) == PE_OK)
            log_info("Removed the key generated for the failed request.");
        else
            log_warn("The key generated for the failed request could not "
                     "be removed: %s",
                     pe_detail());
        key = NULL;
        pe_failf(rc, "%s", why);
    }
    if (rc != PE_OK && o.json)
        jsonout_print("csr", NULL, rc);
    free(pem);
    X509_REQ_free(req);
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
    return rc;
}
