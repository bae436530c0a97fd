/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_list.c - `p11enroll list`: the keys and certificates on one token,
 * which certificate belongs to which key, and each object's URI.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "cmd.h"
#include "log.h"
#include "jsonout.h"
#include "tok.h"
#include "tokopt.h"
#include "util.h"

static void list_usage(FILE *f)
{
    fprintf(f, "Usage: p11enroll list [--token URI] [--module M] [PIN "
               "options] [--json]\n"
               "\n"
               "Lists the keys and certificates on the token: ID, label, key "
               "type\n"
               "and size, certificate subject, issuer and expiry, whether a\n"
               "certificate matches a key on the token, and each object's "
               "URI.\n"
               "Private keys are shown after login; without any PIN source "
               "and\n"
               "no terminal only public objects are listed.\n"
               "--json: the same as JSON (docs/json-schema.md).\n\n");
    tokopt_usage(f, false);
}

static char *hex(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    size_t i;

    if (s == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static void name_str(const X509_NAME *name, char *buf, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    buf[0] = '\0';
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(b, buf, (int)size - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

/* A public key object is shown only when no private key has its ID. */
static bool shadowed(const struct tok_object_list *l,
                     const struct tok_object *o)
{
    size_t i;

    if (o->cls != TOK_OBJ_PUBLIC_KEY)
        return false;
    for (i = 0; i < l->n; i++)
        if (l->v[i].cls == TOK_OBJ_PRIVATE_KEY && l->v[i].idlen == o->idlen &&
            memcmp(l->v[i].id, o->id, o->idlen) == 0)
            return true;
    return false;
}

static json_t *key_json(const struct tok_object *o, const char *id)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:b, s:s}", "id", id, "label", o->label,
        "class", o->cls == TOK_OBJ_PRIVATE_KEY ? "private" : "public",
        "key_type", o->keytype, "always_authenticate", o->always_auth,
        "has_certificate", o->matched, "uri", o->uri);
}

static json_t *cert_json(const struct tok_object *o, const char *id)
{
    char subj[512] = "", iss[512] = "";
    time_t end = 0;

    if (o->cert != NULL) {
        name_str(X509_get_subject_name(o->cert), subj, sizeof(subj));
        name_str(X509_get_issuer_name(o->cert), iss, sizeof(iss));
        if (util_time_asn1(X509_get0_notAfter(o->cert), &end) != PE_OK)
            end = 0;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:s}", "id", id,
                     "label", o->label, "subject", subj, "issuer", iss,
                     "not_after", jsonout_time(end), "category",
                     o->category == 2   ? "authority"
                     : o->category == 1 ? "token-user"
                     : o->category == 3 ? "other-entity"
                                        : "unspecified",
                     "matches_key", o->matched, "uri", o->uri);
}

static enum pe_rc print_json(struct tok_ctx *ctx,
                             const struct tok_object_list *l, bool logged_in)
{
    json_t *root, *keys = json_array(), *certs = json_array();
    size_t i;
    char *id;

    for (i = 0; i < l->n; i++) {
        const struct tok_object *o = &l->v[i];

        if (shadowed(l, o))
            continue;
        id = hex(o->id, o->idlen);
        if (id == NULL)
            continue;
        if (o->cls == TOK_OBJ_CERT)
            json_array_append_new(certs, cert_json(o, id));
        else
            json_array_append_new(keys, key_json(o, id));
        free(id);
    }
    root = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:b, s:o, s:o}", "token", "uri",
        tok_token_uri(ctx), "label", tok_token_label(ctx), "manufacturer",
        tok_token_manufacturer(ctx), "model", tok_token_model(ctx), "serial",
        tok_token_serial(ctx), "module", tok_module_name(ctx), "logged_in",
        logged_in, "keys", keys, "certificates", certs);
    if (root == NULL)
        return PE_E_NOMEM;
    return jsonout_print("list", root, PE_OK);
}

static void print_key(const struct tok_object *o, const char *id)
{
    printf("  %s key  ID %s  \"%s\"  %s%s\n",
           o->cls == TOK_OBJ_PRIVATE_KEY ? "Private" : "Public", id, o->label,
           o->keytype[0] ? o->keytype : "(type unknown)",
           o->always_auth ? "  always-authenticate" : "");
    printf("    certificate on token: %s\n", o->matched ? "yes" : "no");
    printf("    %s\n", o->uri);
}

static void print_cert(const struct tok_object *o, const char *id)
{
    char subj[512] = "?", iss[512] = "?", exp[32] = "?";

    if (o->cert != NULL) {
        name_str(X509_get_subject_name(o->cert), subj, sizeof(subj));
        name_str(X509_get_issuer_name(o->cert), iss, sizeof(iss));
        bundle_time_str(X509_get0_notAfter(o->cert), exp, sizeof(exp));
    }
    printf("  Certificate  ID %s  \"%s\"%s\n", id, o->label,
           o->category == 2 ? "  (authority)" : "");
    printf("    subject: %s\n    issuer:  %s\n    expires: %s\n", subj, iss,
           exp);
    printf("    key on token: %s\n", o->matched ? "yes" : "no");
    printf("    %s\n", o->uri);
}

static void print_text(struct tok_ctx *ctx, const struct tok_object_list *l)
{
    size_t i, nk = 0, nc = 0;
    char *id;
    int pass;

    printf("Token \"%s\" (%s)\n", tok_token_label(ctx), tok_token_uri(ctx));
    for (pass = 0; pass < 2; pass++) {
        printf("%s\n", pass == 0 ? "Keys:" : "Certificates:");
        for (i = 0; i < l->n; i++) {
            const struct tok_object *o = &l->v[i];

            if ((pass == 0) == (o->cls == TOK_OBJ_CERT) || shadowed(l, o))
                continue;
            id = hex(o->id, o->idlen);
            if (id == NULL)
                continue;
            if (pass == 0) {
                print_key(o, id);
                nk++;
            } else {
                print_cert(o, id);
                nc++;
            }
            free(id);
        }
        if ((pass == 0 ? nk : nc) == 0)
            printf("  (none)\n");
    }
}

static enum pe_rc list_args(int argc, char **argv, struct tokopt *to,
                            bool *pjson, bool *phelp)
{
    static const struct option longopts[] = {
        TOKOPT_LONGOPTS,
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum pe_rc rc = PE_OK;
    int c;

    optind = 1;
    opterr = 0;
    while (rc == PE_OK &&
           (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'j')
            *pjson = true;
        else if (c == 'h')
            *phelp = true;
        else if (tokopt_is(c))
            rc = tokopt_set(to, c, optarg);
        else if (c == ':')
            rc = pe_failf(PE_E_USAGE, "Option \"%s\" needs a value.",
                          argv[optind - 1]);
        else
            rc = pe_failf(PE_E_USAGE, "Unknown option \"%s\" for list.",
                          argv[optind - 1]);
    }
    if (rc == PE_OK && optind < argc)
        rc = pe_failf(PE_E_USAGE, "Unexpected argument \"%s\" for list.",
                      argv[optind]);
    if (rc == PE_OK)
        rc = tokopt_finish(to);
    return rc;
}

enum pe_rc cmd_list(int argc, char **argv)
{
    struct tokopt to;
    struct tok_ctx *ctx = NULL;
    struct tok_object_list *list = NULL;
    bool json = false, help = false, logged_in = true;
    enum pe_rc rc;

    tokopt_init(&to);
    rc = list_args(argc, argv, &to, &json, &help);
    if (rc != PE_OK || help) {
        list_usage(help ? stdout : stderr);
        return rc;
    }
    rc = tokopt_open(&to, &ctx);
    if (rc != PE_OK)
        goto out;
    rc = tokopt_login(&to, ctx, TOK_USER);
    if (rc == PE_E_PIN_SOURCE && to.pin.kind == SECRET_NONE &&
        !tokopt_interactive(&to)) {
        say("No PIN source: listing public objects only.");
        logged_in = false;
        rc = PE_OK;
    }
    if (rc != PE_OK)
        goto out;
    rc = tok_list_objects(ctx, &list);
    if (rc != PE_OK)
        goto out;
    if (json)
        rc = print_json(ctx, list, logged_in);
    else
        print_text(ctx, list);
out:
    if (json && rc != PE_OK)
        jsonout_print("list", NULL, rc);
    tok_object_list_free(list);
    tok_close(ctx);
    return rc;
}
