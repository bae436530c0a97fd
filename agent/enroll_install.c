/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_install.c - the end of an enrollment: the saved bundle verified
 * exactly as `install` verifies it (bundle.h), written to the token,
 * proven, and reported.
 */
#include "enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>

#include "bundle.h"
#include "export.h"
#include "install.h"
#include "jsonout.h"
#include "log.h"

/* Subject, serial and expiry of leaf into rec. */
static enum pe_rc note_cert(struct journal_rec *rec, X509 *leaf)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;
    char buf[512];
    enum pe_rc rc;

    rc = journal_set(
        &rec->cert_subject,
        bundle_name_str(X509_get_subject_name(leaf), buf, sizeof(buf)));
    if (rc == PE_OK)
        rc = journal_set(
            &rec->cert_issuer,
            bundle_name_str(X509_get_issuer_name(leaf), buf, sizeof(buf)));
    if (rc == PE_OK)
        rc = journal_set(&rec->cert_serial, serial != NULL ? serial : "?");
    if (rc == PE_OK)
        rc = journal_set(
            &rec->cert_expires,
            bundle_time_str(X509_get0_notAfter(leaf), buf, sizeof(buf)));
    OPENSSL_free(serial);
    BN_free(bn);
    return rc;
}

/* The saved bundle of rec. */
static enum pe_rc load_bundle(struct journal_rec *rec, STACK_OF(X509) * *pcerts)
{
    char *path = NULL;
    enum pe_rc rc;

    *pcerts = sk_X509_new_null();
    if (*pcerts == NULL)
        return PE_E_NOMEM;
    rc = journal_path(rec, ".bundle", &path);
    if (rc == PE_OK)
        rc = bundle_read_file(path, *pcerts);
    free(path);
    return rc;
}

/* Check certs for key as install_material does, and write them only when
 * the pin they ask for is ready too: a pin that cannot be made leaves the
 * token untouched (enroll.h). */
static enum pe_rc check_and_write(struct tok_ctx *ctx, struct tok_key *key,
                                  struct journal_rec *rec,
                                  STACK_OF(X509) * certs,
                                  const struct bundle_check *iopts,
                                  struct install_result *res)
{
    struct enroll_pin pin = {0};
    EVP_PKEY *pub = NULL;
    enum pe_rc rc;

    rc = tok_key_public(key, &pub);
    if (rc == PE_OK)
        rc = enroll_trust_refused(rec, install_check(pub, certs, iopts, res),
                                  res);
    if (rc == PE_OK)
        rc = enroll_pin_prepare(rec, res, &pin);
    if (rc == PE_OK)
        rc = install_checked(ctx, key, res);
    if (rc == PE_OK)
        enroll_pin_commit(rec, &pin);
    enroll_pin_clear(&pin);
    EVP_PKEY_free(pub);
    return rc;
}

enum pe_rc enroll_install(struct tok_ctx *ctx, struct tok_key *key,
                          struct journal_rec *rec,
                          const struct enroll_anchors *anchors,
                          const struct enroll_opts *o)
{
    struct install_result own = {0}, *res = &own;
    struct bundle_check iopts;
    STACK_OF(X509) *certs = NULL;
    enum pe_rc rc;

    enroll_trust_opts(rec, anchors, &iopts);
    rc = load_bundle(rec, &certs);
    if (rc == PE_OK)
        rc = check_and_write(ctx, key, rec, certs, &iopts, res);
    if (rc != PE_OK)
        goto out;
    rc = install_write_files(rec->out_cert, rec->out_chain, res);
    if (rc == PE_OK)
        rc = note_cert(rec, res->leaf);
    if (rc == PE_OK)
        rc = journal_set(&rec->cert_uri, res->cert.uri);
    if (rc == PE_OK)
        rc = journal_set(&rec->key_uri, tok_key_uri(key));
    if (rc == PE_OK && !o->json)
        install_summary(res);
    if (rc == PE_OK && !res->chain_on_token)
        say("This token holds only the leaf; the chain is in %s.",
            rec->out_chain ? rec->out_chain : "the journal's .bundle file");
out:
    install_result_clear(&own);
    bundle_certs_free(certs);
    return rc;
}

json_t *enroll_result_json(const struct journal_rec *rec)
{
    json_t *j, *files;

    j = json_pack("{s:s, s:s}", "id", rec->id, "status",
                  journal_status_name(rec->status));
    if (j == NULL)
        return NULL;
#define PUT(name, val)                                                         \
    if ((val) != NULL)                                                         \
    json_object_set_new(j, name, json_string(val))
    PUT("request_id", rec->request_id);
    PUT("ca_status", rec->ca_status);
    PUT("protocol", rec->protocol);
    PUT("url", rec->url);
    PUT("token_uri", rec->token_uri);
    PUT("key_id", rec->key_id_hex);
    PUT("key_uri", rec->key_uri);
    PUT("cert_uri", rec->cert_uri);
    PUT("subject", rec->cert_subject);
    PUT("issuer", rec->cert_issuer);
    PUT("serial", rec->cert_serial);
#undef PUT
    if (rec->cert_expires != NULL)
        json_object_set_new(j, "not_after",
                            jsonout_time_text(rec->cert_expires));
    files = json_array();
    if (files != NULL) {
        if (rec->out_cert != NULL)
            json_array_append_new(files, json_string(rec->out_cert));
        if (rec->out_chain != NULL)
            json_array_append_new(files, json_string(rec->out_chain));
        json_object_set_new(j, "files", files);
    }
    return j;
}

void enroll_report(const struct journal_rec *rec, const struct enroll_opts *o,
                   enum pe_rc rc)
{
    if (o->json) {
        /* an enrollment stopped before its key was made keeps no record
         * (cmd_enroll.c): there is nothing to name */
        bool kept = !(o->verb == ENROLL_VERB_ENROLL && rc != PE_OK &&
                      rec->status == JOURNAL_NEW && rec->keygen == NULL);

        jsonout_print(o->verb == ENROLL_VERB_RESUME ? "resume" : "enroll",
                      kept ? enroll_result_json(rec) : NULL, rc);
        return;
    }
    if (rc == PE_PENDING) {
        say("%s", pe_sentence(rc));
        return;
    }
    if (rc != PE_OK || rec->status != JOURNAL_INSTALLED)
        return;
    say("  key      %s", rec->key_uri ? rec->key_uri : "?");
    say("  request  %s at %s (enrollment %s)",
        rec->request_id ? rec->request_id : "?", rec->url ? rec->url : "?",
        rec->id);
    export_hint(rec->token_uri, rec->key_id_hex);
}
