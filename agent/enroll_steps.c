/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_steps.c - the work of each state of the enrollment table in
 * enroll.c.  A step does its work and says how it went; it never saves
 * the record or changes its status: the driver does both, once per
 * transition.
 */
#include "enroll_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "attest_cmd.h"
#include "bundle.h"
#include "csr.h"
#include "fileio.h"
#include "interrupt.h"
#include "log.h"
#include "poll.h"
#include "secret.h"
#include "ui.h"
#include "util.h"

#define KEY_ID_LEN 8

enum pe_rc step_open_ca(struct run *r)
{
    const struct journal_rec *rec = r->rec;
    struct secret_source src;
    enum pe_rc rc;

    memset(&r->cfg, 0, sizeof(r->cfg));
    rc = ca_protocol_parse(rec->protocol, &r->cfg.protocol);
    if (rc != PE_OK)
        return rc;
    if (r->cfg.protocol == CA_PROTO_REST) {
        if (rec->secret_source == NULL && r->o->secret_spec == NULL)
            return pe_failf(PE_E_USAGE,
                            "The REST endpoint needs the client secret: give "
                            "--client-secret-file, -fd or -env.");
        rc = secret_source_parse(r->o->secret_spec != NULL ? r->o->secret_spec
                                                           : rec->secret_source,
                                 &src);
        if (rc == PE_OK)
            rc = secret_read(&src, false, &r->client_secret);
        if (rc == PE_E_INTERRUPTED)
            return rc;
        if (rc != PE_OK)
            return pe_failf(PE_E_CONFIG, "The client secret: %s",
                            pe_sentence(rc));
    }
    if (rec->ca_file != NULL && access(rec->ca_file, R_OK) != 0)
        return pe_failf(PE_E_IO, "Cannot read the --ca-file \"%s\": %s.",
                        rec->ca_file, strerror(errno));
    r->cfg.url = rec->url;
    r->cfg.client_id = rec->client_id;
    r->cfg.client_secret = r->client_secret;
    r->cfg.token_url = rec->token_url;
    r->cfg.email = rec->email;
    r->cfg.format = rec->format;
    r->cfg.http.ca_file = rec->ca_file;
    r->cfg.http.timeout_s = r->o->http_timeout;
    r->cfg.ui.arg = (void *)(uintptr_t)r->o;
    r->cfg.ui.get_code = ui_get_code;
    r->cfg.ui.code_typed =
        r->o->otp_file == NULL && r->o->otp_cmd == NULL && secret_can_prompt();
    r->cfg.ui.accept_terms = ui_accept_terms;
    rc = ca_new(&r->cfg, &r->ca);
    if (rc == PE_OK)
        ca_set_deadline(r->ca, r->deadline);
    return rc;
}

enum pe_rc step_open_token(struct run *r)
{
    struct tokopt *to = &r->to;
    struct secret_source src;
    enum pe_rc rc;

    *to = r->o->tok;
    to->token = r->rec->token_uri;
    to->module = r->rec->module;
    if (to->pin.kind == SECRET_NONE && r->rec->pin_source != NULL &&
        secret_source_parse(r->rec->pin_source, &src) == PE_OK)
        to->pin = src;
    if (to->so_pin.kind == SECRET_NONE && r->rec->so_pin_source != NULL &&
        secret_source_parse(r->rec->so_pin_source, &src) == PE_OK)
        to->so_pin = src;
    rc = tokopt_open(to, &r->ctx);
    if (rc != PE_OK)
        return rc;
    if (to->so_pin.kind == SECRET_NONE)
        return tokopt_login(to, r->ctx, TOK_USER);
    /* ykcs11: the management key as SO, the PIN for signing */
    if (to->pin.kind != SECRET_NONE)
        tok_set_context_pin(r->ctx, &to->pin);
    return tokopt_login(to, r->ctx, TOK_SO);
}

/* id as a new lower-case hex string (*phex, free()). */
static enum pe_rc hex_of(const unsigned char *id, size_t len, char **phex)
{
    *phex = malloc(2 * len + 1);
    if (*phex == NULL)
        return PE_E_NOMEM;
    util_hex_encode(id, len, *phex, 2 * len + 1);
    return PE_OK;
}

static bool key_reused(const struct journal_rec *rec)
{
    return strcmp(rec->key_origin ? rec->key_origin : "", "reused") == 0;
}

/* The recorded CKA_ID of rec as bytes. */
static enum pe_rc recorded_id(const struct journal_rec *rec, unsigned char *id,
                              size_t idsz, size_t *plen)
{
    if (tokopt_parse_hex(rec->key_id_hex, id, idsz, plen) != PE_OK)
        return pe_failf(PE_E_STATE, "The key ID of enrollment %s is not hex.",
                        rec->id);
    return PE_OK;
}

enum pe_rc step_find_key(struct run *r)
{
    struct journal_rec *rec = r->rec;
    unsigned char id[64];
    size_t idlen = 0;
    enum pe_rc rc;

    if (r->key != NULL)
        return PE_OK;
    if (rec->key_id_hex == NULL)
        return pe_failf(PE_E_STATE, "Enrollment %s names no key.", rec->id);
    rc = recorded_id(rec, id, sizeof(id), &idlen);
    if (rc == PE_OK)
        rc = tok_key_find_by_id(r->ctx, id, idlen, &r->key);
    if (rc != PE_OK)
        return pe_failf(rc,
                        "The key %s of enrollment %s is not on token "
                        "\"%s\": %s",
                        rec->key_id_hex, rec->id, tok_token_label(r->ctx),
                        pe_detail());
    return PE_OK;
}

/* A key already under the ID of a record that has not made its key yet:
 * a PIV slot in use, replaced only with --force. */
static enum pe_rc slot_in_use(struct run *r)
{
    tok_key_free(r->key);
    r->key = NULL;
    if (!r->o->force)
        return pe_failf(PE_E_KEY,
                        "Key ID %s (slot) on token \"%s\" already holds a "
                        "key; --force replaces it, and the old key is lost.",
                        r->rec->key_id_hex, tok_token_label(r->ctx));
    say("Replacing the key in slot ID %s (--force).", r->rec->key_id_hex);
    return PE_OK;
}

/* A key made by this record before a crash: it must be of the type the
 * record asks for now. */
static enum pe_rc check_found_type(struct run *r)
{
    enum tok_keytype want, have;

    if (r->rec->key_type == NULL ||
        tok_keytype_parse(r->rec->key_type, &want) != PE_OK ||
        tok_key_type(r->key, &have) != PE_OK || want == have)
        return PE_OK;
    return pe_failf(PE_E_USAGE,
                    "Enrollment %s made a %s key already; to make a %s key "
                    "instead, forget it (p11enroll forget %s --remove-key) "
                    "and enroll again.",
                    r->rec->id, tok_keytype_name(have), r->rec->key_type,
                    r->rec->id);
}

/* Make the key of rec under id (drawn by this record, or a PIV slot's). */
static enum pe_rc generate(struct run *r, const unsigned char *id, size_t idlen)
{
    struct journal_rec *rec = r->rec;
    struct tok_keygen spec = {0};
    enum tok_keytype made;
    enum pe_rc rc;

    spec.any_type = rec->key_type == NULL;
    if (!spec.any_type) {
        rc = tok_keytype_parse(rec->key_type, &spec.type);
        if (rc != PE_OK)
            return rc;
        say("Generating a %s key on token \"%s\"...",
            tok_keytype_name(spec.type), tok_token_label(r->ctx));
    }
    spec.label = rec->key_label;
    spec.id = id;
    spec.idlen = idlen;
    rc = tok_key_generate_ex(r->ctx, &spec, &r->key);
    /* the type chosen for the record, so a rerun asks for the same */
    if (rc == PE_OK && spec.any_type && tok_key_type(r->key, &made) == PE_OK)
        rc = journal_set(&rec->key_type, tok_keytype_name(made));
    return rc;
}

/*
 * Key generation refused (not a crash): when no private key came of it,
 * whatever half it left under the ID this record drew goes, and the record
 * is back to "no key made", so a --key-type or --reuse-key given next can
 * still apply.  rc is returned as it came.
 */
static enum pe_rc keygen_failed(struct run *r, const unsigned char *id,
                                size_t idlen, enum pe_rc rc)
{
    struct journal_rec *rec = r->rec;
    struct tok_key *key = NULL;
    char why[512];
    unsigned removed = 0;

    snprintf(why, sizeof(why), "%s", pe_sentence(rc));
    if (tok_key_find_by_id(r->ctx, id, idlen, &key) == PE_OK) {
        tok_key_free(key);
        return pe_failf(rc, "%s", why);
    }
    if (tok_key_remove_half(r->ctx, id, idlen, &removed) == PE_OK &&
        journal_set(&rec->keygen, NULL) == PE_OK)
        journal_set(&rec->key_id_hex, NULL);
    return pe_failf(rc, "%s", why);
}

/*
 * The record's CKA_ID is drawn and saved before the key is made (with
 * keygen "started"), so a crash during key generation finds the key by
 * that ID instead of making a second.  A crash can also leave only the
 * public half under it; that half is ours (the ID was drawn at random for
 * this record) and goes before the key is made again.
 */
enum pe_rc step_key(struct run *r)
{
    struct journal_rec *rec = r->rec;
    unsigned char id[64];
    const unsigned char *kid;
    size_t idlen = 0, klen;
    unsigned removed = 0;
    bool drawn = false;
    enum pe_rc rc;

    if (key_reused(rec)) {
        rc = step_find_key(r);
        if (rc == PE_OK)
            say("Using key %s on token \"%s\".", rec->key_id_hex,
                tok_token_label(r->ctx));
        goto done;
    }
    if (rec->key_id_hex == NULL && tok_family(r->ctx) == TOK_FAMILY_YKCS11)
        return pe_failf(PE_E_USAGE,
                        "Token \"%s\" keeps keys in PIV slots; name the slot "
                        "for the new key (--slot 9a, 9c, 9d or 9e).",
                        tok_token_label(r->ctx));
    if (rec->key_id_hex == NULL) {
        if (RAND_bytes(id, KEY_ID_LEN) != 1)
            return pe_fail_ossl(PE_E_INTERNAL, "Random CKA_ID");
        rc = hex_of(id, KEY_ID_LEN, &rec->key_id_hex);
        if (rc != PE_OK)
            return rc;
        drawn = true;
    }
    if (rec->key_id_hex != NULL) {
        rc = recorded_id(rec, id, sizeof(id), &idlen);
        if (rc != PE_OK)
            return rc;
    }
    if (rec->keygen == NULL) {
        /* a PIV slot's ID is fixed: a key there is someone else's */
        if (idlen > 0 && !drawn &&
            tok_key_find_by_id(r->ctx, id, idlen, &r->key) == PE_OK) {
            rc = slot_in_use(r);
            if (rc != PE_OK)
                return rc;
        }
        rc = journal_set(&rec->keygen, "started");
        if (rc == PE_OK)
            rc = journal_save(rec);
        if (rc != PE_OK)
            return rc;
        enroll_crash_point("keygen");
    } else if (tok_key_find_by_id(r->ctx, id, idlen, &r->key) == PE_OK) {
        say("Found key %s, made before enrollment %s stopped.", rec->key_id_hex,
            rec->id);
        rc = check_found_type(r);
        goto done;
    } else if (tok_family(r->ctx) != TOK_FAMILY_YKCS11) {
        rc = tok_key_remove_half(r->ctx, id, idlen, &removed);
        if (rc != PE_OK)
            return rc;
        if (removed > 0)
            say("Removed the public half of key %s, left without its "
                "private half when enrollment %s stopped.",
                rec->key_id_hex, rec->id);
    }
    rc = generate(r, idlen > 0 ? id : NULL, idlen);
    if (rc != PE_OK && rc != PE_E_INTERRUPTED && !key_reused(rec) &&
        tok_family(r->ctx) != TOK_FAMILY_YKCS11)
        return keygen_failed(r, id, idlen, rc);
done:
    if (rc != PE_OK)
        return rc;
    if (rec->key_id_hex == NULL) {
        tok_key_id(r->key, &kid, &klen);
        rc = hex_of(kid, klen, &rec->key_id_hex);
    }
    /* no --token: the record names the token used from now on */
    if (rc == PE_OK && rec->token_uri == NULL)
        rc = journal_set(&rec->token_uri, tok_token_uri(r->ctx));
    if (rc == PE_OK)
        rc = journal_set(&rec->key_uri, tok_key_uri(r->key));
    return rc;
}

static enum pe_rc token_sign(void *ctx, int md_nid, const unsigned char *digest,
                             size_t dlen, unsigned char **psig, size_t *psiglen)
{
    return tok_sign_digest(ctx, md_nid, digest, dlen, psig, psiglen);
}

enum pe_rc step_csr(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct csr_subject subj = {0};
    EVP_PKEY *pub = NULL;
    X509_REQ *req = NULL;
    char cn[200];
    enum pe_rc rc;

    rc = step_find_key(r);
    if (rc != PE_OK)
        return rc;
    if (rec->subject != NULL) {
        subj.dn = rec->subject;
    } else {
        snprintf(cn, sizeof(cn), "%s%s%s",
                 rec->first_name ? rec->first_name : "",
                 rec->first_name && rec->last_name ? " " : "",
                 rec->last_name ? rec->last_name : "");
        subj.cn = cn[0] != '\0' ? cn : (rec->email ? rec->email : "p11enroll");
    }
    subj.email = rec->san_email != NULL ? rec->san_email : rec->email;
    rc = tok_key_public(r->key, &pub);
    if (rc == PE_OK)
        rc = csr_build(&subj, pub, token_sign, r->key, &req);
    if (rc == PE_OK)
        rc = csr_to_der_b64(req, &rec->csr_b64);
    X509_REQ_free(req);
    EVP_PKEY_free(pub);
    return rc;
}

/* --attestation-cmd: the vendor tool's output, told which key it is for. */
static enum pe_rc attestation_cmd(struct run *r, unsigned char **patt,
                                  size_t *plen)
{
    say("Running the attestation command.");
    return attest_cmd_run(r->rec->attestation_cmd, tok_key_uri(r->key),
                          r->rec->key_id_hex, tok_token_uri(r->ctx),
                          r->o->attestation_timeout, patt, plen);
}

enum pe_rc step_attest(struct run *r)
{
    const struct journal_rec *rec = r->rec;
    unsigned char *att = NULL;
    size_t attlen = 0;
    enum pe_rc rc = PE_OK;

    free(r->attestation_b64);
    r->attestation_b64 = NULL;
    r->hsm_type = rec->hsm_type;
    if (rec->attestation_file == NULL && rec->attestation_cmd == NULL &&
        tok_family(r->ctx) != TOK_FAMILY_YKCS11)
        return PE_OK;
    rc = step_find_key(r);
    if (rc != PE_OK)
        return rc;
    if (rec->attestation_file != NULL) {
        rc = fileio_read(rec->attestation_file, 256 * 1024, &att, &attlen);
    } else if (rec->attestation_cmd != NULL) {
        rc = attestation_cmd(r, &att, &attlen);
    } else {
        rc = enroll_yk_attestation(r->ctx, r->key, &r->attestation_b64);
        if (rc == PE_OK && r->hsm_type == NULL)
            r->hsm_type = "YUBIKEY";
        return rc;
    }
    if (rc == PE_OK)
        rc = ca_b64(att, attlen, &r->attestation_b64);
    free(att);
    return rc;
}

/* The recorded CSR (base64 of DER) as DER (*pder, free()). */
static enum pe_rc recorded_csr(const struct journal_rec *rec,
                               unsigned char **pder, size_t *plen)
{
    const unsigned char *p;
    X509_REQ *req = NULL;
    unsigned char *der = NULL;
    size_t b64len = rec->csr_b64 != NULL ? strlen(rec->csr_b64) : 0;
    int n;

    *pder = NULL;
    der = malloc(b64len + 1);
    if (der == NULL)
        return PE_E_NOMEM;
    n = b64len > 0 ? EVP_DecodeBlock(der, (const unsigned char *)rec->csr_b64,
                                     (int)b64len)
                   : -1;
    /* the decoded length counts the padding; the DER's own length does not */
    p = der;
    if (n > 0)
        req = d2i_X509_REQ(NULL, &p, n);
    if (req == NULL) {
        free(der);
        return pe_failf(PE_E_STATE,
                        "The recorded CSR of enrollment %s is "
                        "damaged.",
                        rec->id);
    }
    *plen = (size_t)(p - der);
    X509_REQ_free(req);
    *pder = der;
    return PE_OK;
}

enum pe_rc step_submit(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct ca_request req = {0};
    unsigned char *der = NULL;
    size_t derlen = 0;
    char *id = NULL;
    enum pe_rc rc;

    if (r->attestation_b64 == NULL) {
        /* resumed here: gather it again */
        rc = step_attest(r);
        if (rc != PE_OK)
            return rc;
    }
    rc = recorded_csr(rec, &der, &derlen);
    if (rc != PE_OK)
        return rc;
    req.csr_der = der;
    req.csr_len = derlen;
    req.email = rec->email;
    req.first_name = rec->first_name;
    req.last_name = rec->last_name;
    req.title = rec->title;
    req.san_email = rec->san_email;
    req.term = rec->term;
    req.hsm_type = r->hsm_type;
    req.attestation_b64 = r->attestation_b64;
    say("Submitting the request to %s...", rec->url);
    rc = r->ca->ops->submit(r->ca, &req, &id);
    if (rc == PE_OK)
        rc = journal_set(&rec->request_id, id);
    if (rc == PE_OK)
        say("Submitted: request %s (enrollment %s).", id, rec->id);
    free(id);
    free(der);
    return rc;
}

static void note_status(void *arg, const struct ca_status *st)
{
    struct journal_rec *rec = arg;

    if (rec->ca_status == NULL || strcmp(rec->ca_status, st->word) != 0) {
        /* a word of information only: its loss to a crash costs nothing */
        if (journal_set(&rec->ca_status, st->word) == PE_OK &&
            st->state == CA_STATE_PENDING)
            journal_save(rec);
    }
}

static void poll_opts_of(const struct run *r, struct poll_opts *po)
{
    po->deadline = r->deadline;
    po->first_s = r->o->poll_first;
    po->max_s = r->o->poll_max;
}

enum pe_rc step_wait(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct poll_opts po;
    struct ca_status st;
    enum pe_rc rc;

    poll_opts_of(r, &po);
    rc = poll_until_done(r->ca, rec->request_id, &po, note_status, rec, &st);
    if (rc == PE_E_REJECTED)
        journal_set(&rec->ca_status, st.word);
    return rc;
}

enum pe_rc step_download(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct poll_opts po;
    struct ca_status st;
    unsigned char *buf = NULL;
    char *path = NULL;
    size_t len = 0;
    long delay = 0, left;
    enum pe_rc rc;

    poll_opts_of(r, &po);
    for (;;) {
        rc = r->ca->ops->download(r->ca, rec->request_id, &buf, &len, &st);
        if (rc == PE_OK && len == 0) {
            free(buf);
            return pe_failf(PE_E_CA_PROTOCOL,
                            "The CA answered the download of request %s "
                            "with nothing.",
                            rec->request_id);
        }
        if (rc != PE_PENDING)
            break;
        /* issued, but not collectable yet: ask again while time is left */
        left = poll_seconds_left(&po);
        if (left <= 0)
            return pe_failf(PE_PENDING,
                            "Request %s is issued but cannot be downloaded "
                            "yet.",
                            rec->request_id);
        delay = poll_next_delay(delay, st.retry_after, &po);
        if (delay > left)
            delay = left;
        say("Request %s is issued but not collectable yet; asking again in "
            "%ld s.",
            rec->request_id, delay);
        rc = interrupt_sleep(delay);
        if (rc != PE_OK)
            return rc;
    }
    if (rc != PE_OK)
        return rc;
    rc = journal_path(rec, ".bundle", &path);
    if (rc == PE_OK)
        rc = fileio_write_atomic(path, buf, len, 0600);
    free(path);
    free(buf);
    return rc;
}

enum pe_rc step_install(struct run *r)
{
    enum pe_rc rc;

    rc = step_find_key(r);
    if (rc == PE_OK)
        rc = enroll_install(r->ctx, r->key, r->rec, &r->anchors, r->o);
    return rc;
}
