/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_adopt.c - `p11enroll adopt`: a journal record for a certificate and
 * its key that are already on the token (enrolled by hand, by another
 * tool, or into another state folder), so `renew` manages them from then
 * on, as `getcert start-tracking` does for certmonger.  The record is
 * "installed" with the endpoint and identity of the options or the config;
 * nothing on the token changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>

#include "bundle.h"
#include "cmd.h"
#include "enroll.h"
#include "expiry.h"
#include "journal.h"
#include "jsonout.h"
#include "log.h"
#include "util.h"

static void adopt_usage(FILE *f)
{
    fprintf(
        f,
        "Usage: p11enroll adopt [--token URI] [--module M] [PIN options]\n"
        "         [--key-id HEX] (--endpoint URL --client-id ID\n"
        "         [--client-secret-file F] | --form URL) --email ADDRESS\n"
        "         [names] [--state-dir D] [--config F] [--json]\n"
        "\n"
        "Records the certificate with --key-id (or the token's only "
        "certificate\n"
        "that no record names) and its key as an installed enrollment, "
        "so that\n"
        "p11enroll renew renews it at the endpoint given.  The key must "
        "be on the\n"
        "token and match the certificate; nothing on the token "
        "changes.\n"
        "--endpoint URL --client-id ID --client-secret-file F, or --form "
        "URL,\nand --email ADDRESS: where and for whom renew orders the "
        "successor,\nas for enroll; names: enroll's --first-name, --last-name, "
        "--title\nand subject options.\n"
        "--state-dir D: the journal folder; --config F: a config file "
        "(both as\nfor enroll).  --json: the record made, as JSON "
        "(docs/json-schema.md).\n");
    tokopt_usage(f, false);
}

/* An installed record of dir for this certificate, or NULL. */
static const struct journal_rec *managed_by(const struct journal_list *jl,
                                            const char *key_id,
                                            const char *serial)
{
    size_t i;

    for (i = 0; i < jl->n; i++)
        if (jl->v[i]->status == JOURNAL_INSTALLED &&
            jl->v[i]->key_id_hex != NULL && jl->v[i]->cert_serial != NULL &&
            strcasecmp(jl->v[i]->key_id_hex, key_id) == 0 &&
            strcasecmp(jl->v[i]->cert_serial, serial) == 0)
            return jl->v[i];
    return NULL;
}

static void serial_hex(X509 *cert, char *buf, size_t size)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *s = bn != NULL ? BN_bn2hex(bn) : NULL;

    snprintf(buf, size, "%s", s != NULL ? s : "?");
    OPENSSL_free(s);
    BN_free(bn);
}

/* The leaf to adopt: the one with key_id, else the only unmanaged one. */
static enum pe_rc pick_leaf(const struct tok_object_list *l,
                            const struct journal_list *jl, const char *key_id,
                            const struct tok_object **pobj)
{
    char id[80], serial[80], ids[512] = "";
    size_t i, n = 0;

    *pobj = NULL;
    for (i = 0; i < l->n; i++) {
        if (!expiry_is_leaf(&l->v[i]))
            continue;
        util_hex_encode(l->v[i].id, l->v[i].idlen, id, sizeof(id));
        serial_hex(l->v[i].cert, serial, sizeof(serial));
        if (key_id != NULL ? strcasecmp(id, key_id) != 0
                           : managed_by(jl, id, serial) != NULL)
            continue;
        n++;
        *pobj = &l->v[i];
        if (strlen(ids) + strlen(id) + 2 < sizeof(ids))
            snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), " %s", id);
    }
    if (n == 1)
        return PE_OK;
    *pobj = NULL;
    if (key_id != NULL && n == 0)
        return pe_failf(PE_E_KEY, "The token has no certificate with ID %s.",
                        key_id);
    if (key_id != NULL)
        return pe_failf(PE_E_KEY,
                        "The token has %zu certificates with ID %s; "
                        "p11enroll adopts one certificate and its "
                        "key.",
                        n, key_id);
    if (n == 0)
        return pe_failf(PE_E_USAGE, "Every certificate on the token has a "
                                    "record already.");
    return pe_failf(PE_E_USAGE,
                    "Give --key-id: the token has %zu "
                    "certificates without a record (IDs%s).",
                    n, ids);
}

/* The certificate's own private key is on the token. */
static enum pe_rc check_key(struct tok_ctx *ctx, const struct tok_object *c,
                            struct tok_key **pkey)
{
    EVP_PKEY *pub = NULL;
    char id[80];
    enum pe_rc rc;

    util_hex_encode(c->id, c->idlen, id, sizeof(id));
    rc = tok_key_find_by_id(ctx, c->id, c->idlen, pkey);
    if (rc == PE_OK)
        rc = tok_key_public(*pkey, &pub);
    if (rc == PE_OK && EVP_PKEY_eq(pub, X509_get0_pubkey(c->cert)) != 1)
        rc = pe_failf(PE_E_KEY,
                      "The key with ID %s is not the key of the "
                      "certificate with that ID.",
                      id);
    else if (rc != PE_OK)
        rc = pe_failf(PE_E_KEY,
                      "The token has no single private key for the "
                      "certificate with ID %s (log in with a PIN "
                      "option to see private keys).",
                      id);
    EVP_PKEY_free(pub);
    return rc;
}

/* The certificate and key into rec, installed. */
static enum pe_rc fill_adopted(struct journal_rec *rec, struct tok_ctx *ctx,
                               const struct tok_object *c, struct tok_key *key)
{
    enum tok_keytype kt;
    char buf[512];
    enum pe_rc rc;

    rc = journal_set(&rec->token_uri, tok_token_uri(ctx));
    if (rc == PE_OK)
        rc = journal_set(&rec->key_origin, "adopted");
    if (rc == PE_OK)
        rc = journal_set(&rec->key_uri, tok_key_uri(key));
    if (rc == PE_OK && tok_key_type(key, &kt) == PE_OK)
        rc = journal_set(&rec->key_type, tok_keytype_name(kt));
    if (rc == PE_OK && tok_key_label(key) != NULL &&
        tok_key_label(key)[0] != '\0')
        rc = journal_set(&rec->key_label, tok_key_label(key));
    if (rc == PE_OK)
        rc = journal_set(&rec->cert_uri, c->uri);
    if (rc == PE_OK)
        rc = journal_set(
            &rec->cert_subject,
            bundle_name_str(X509_get_subject_name(c->cert), buf, sizeof(buf)));
    if (rc == PE_OK)
        rc = journal_set(
            &rec->cert_issuer,
            bundle_name_str(X509_get_issuer_name(c->cert), buf, sizeof(buf)));
    serial_hex(c->cert, buf, sizeof(buf));
    if (rc == PE_OK)
        rc = journal_set(&rec->cert_serial, buf);
    if (rc == PE_OK)
        rc = journal_set(
            &rec->cert_expires,
            bundle_time_str(X509_get0_notAfter(c->cert), buf, sizeof(buf)));
    rec->status = JOURNAL_INSTALLED;
    return rc;
}

static enum pe_rc adopt(const struct enroll_opts *o, const char *dir)
{
    struct tok_ctx *ctx = NULL;
    struct tok_object_list *l = NULL;
    struct journal_list *jl = NULL;
    const struct journal_rec *prev;
    const struct tok_object *c = NULL;
    struct journal_rec *rec = NULL;
    struct tok_key *key = NULL;
    char id[80], serial[80], date[40];
    time_t nb = 0, na = 0;
    enum pe_rc rc;

    rc = journal_list(dir, &jl);
    if (rc == PE_OK)
        rc = tokopt_open(&o->tok, &ctx);
    if (rc == PE_OK)
        rc = tokopt_login_auto(&o->tok, ctx);
    if (rc == PE_OK)
        rc = tok_list_objects(ctx, &l);
    if (rc == PE_OK)
        rc = pick_leaf(l, jl, o->key_id, &c);
    if (rc != PE_OK || c == NULL)
        goto out;
    rc = check_key(ctx, c, &key);
    if (rc != PE_OK)
        goto out;
    util_hex_encode(c->id, c->idlen, id, sizeof(id));
    serial_hex(c->cert, serial, sizeof(serial));
    prev = managed_by(jl, id, serial);
    if (prev != NULL) {
        rc = pe_failf(PE_E_STATE,
                      "Certificate ID %s is managed by enrollment "
                      "%s already.",
                      id, prev->id);
        goto out;
    }
    rc = journal_create(dir, &rec);
    if (rc == PE_OK)
        rc = enroll_fill_record(o, rec);
    if (rc == PE_OK)
        rc = enroll_use_key(rec, id);
    if (rc == PE_OK)
        rc = fill_adopted(rec, ctx, c, key);
    if (rc == PE_OK)
        rc = journal_save(rec);
    if (rc != PE_OK) {
        journal_remove(rec);
        rec = NULL;
        goto out;
    }
    (void)expiry_cert_times(c->cert, &nb, &na);
    say("Adopted certificate \"%s\" (ID %s, serial %s, ends %s) as "
        "enrollment %s; p11enroll renew renews it at %s.",
        rec->cert_subject, id, serial,
        util_time_rfc3339(na, date, sizeof(date)), rec->id, rec->url);
    if (o->json)
        jsonout_print("adopt", enroll_result_json(rec), PE_OK);
out:
    journal_rec_free(rec);
    tok_key_free(key);
    tok_object_list_free(l);
    tok_close(ctx);
    journal_list_free(jl);
    return rc;
}

enum pe_rc cmd_adopt(int argc, char **argv)
{
    struct enroll_opts o;
    char *dir = NULL;
    bool help = false;
    int first = 0, k;
    enum pe_rc rc;

    for (k = 1; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            adopt_usage(stdout);
            return PE_OK;
        }
    rc = enroll_parse_args(ENROLL_VERB_ENROLL, argc, argv, &o, &first, &help);
    if (rc != PE_OK || help)
        goto out;
    if (first < argc)
        rc = pe_failf(PE_E_USAGE, "Unexpected argument \"%s\".", argv[first]);
    else if (o.endpoint == NULL && o.form == NULL)
        rc = pe_failf(PE_E_USAGE, "adopt needs the endpoint renew will use: "
                                  "--endpoint (with --client-id) or --form.");
    else if (o.endpoint != NULL && o.client_id == NULL)
        rc = pe_failf(PE_E_USAGE, "Renewing at the REST endpoint needs "
                                  "--client-id.");
    else if (o.email == NULL)
        rc = pe_failf(PE_E_USAGE, "adopt needs the e-mail address "
                                  "(--email).");
    if (rc == PE_OK)
        rc = enroll_state_dir(&o, &dir);
    if (rc == PE_OK)
        rc = adopt(&o, dir);
out:
    if (rc != PE_OK && o.json)
        jsonout_print("adopt", NULL, rc);
    free(dir);
    enroll_opts_free(&o);
    return rc;
}
