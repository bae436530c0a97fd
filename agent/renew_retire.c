/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew_retire.c - `renew --retire-old`: remove a renewed certificate and
 * its key, and nothing else.
 *
 * A key deleted from a YubiKey or an HSM cannot be brought back, so every
 * removal is guarded: the certificate is the predecessor named by an
 * installed renewal record (renew_survey.c, never a shared subject); the
 * successor's certificate is on the token and its key proves itself by a
 * signature made now; only the predecessor's own certificate and its own
 * key pair go, the key only when no other certificate uses it; a person
 * agreed (--yes, or a question on a terminal); and the successor's record
 * keeps the removed certificate first, so it can be put back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "log.h"
#include "util.h"
#include "renew_int.h"

/* The "superseded" item of the leaf, or a new one (renewed in this run). */
static struct renew_item *retire_item(struct renew_result *res,
                                      const struct leaf *lf)
{
    size_t i;

    for (i = 0; i < res->n; i++)
        if (res->v[i].outcome == RENEW_SUPERSEDED &&
            strcmp(res->v[i].token, lf->it.token) == 0 &&
            strcmp(res->v[i].key_id, lf->it.key_id) == 0 &&
            strcasecmp(res->v[i].serial, lf->it.serial) == 0)
            return &res->v[i];
    return renew_item_add(res, &lf->it);
}

/* The successor's certificate object on the token (renew_survey.c found
 * it); NULL if it is not in this listing. */
static const struct leaf *successor_leaf(const struct survey *sv,
                                         const struct leaf *lf)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i].it.key_id, lf->live_key_id) == 0 &&
            strcasecmp(sv->v[i].it.serial, lf->live_serial) == 0 &&
            sv->v[i].obj != NULL)
            return &sv->v[i];
    return NULL;
}

/* Whether another certificate on the token has c's CKA_ID (then c cannot
 * be removed alone) or c's public key (then the key stays). */
static void leaf_users(const struct tok_object_list *l,
                       const struct tok_object *c, bool *pshared_id,
                       bool *pkey_used)
{
    EVP_PKEY *pub = c->cert != NULL ? X509_get0_pubkey(c->cert) : NULL;
    EVP_PKEY *opub;
    size_t i;

    *pshared_id = false;
    *pkey_used = false;
    for (i = 0; i < l->n; i++) {
        const struct tok_object *o = &l->v[i];

        if (o == c || o->cls != TOK_OBJ_CERT)
            continue;
        if (o->idlen == c->idlen && memcmp(o->id, c->id, c->idlen) == 0)
            *pshared_id = true;
        opub = o->cert != NULL ? X509_get0_pubkey(o->cert) : NULL;
        if (pub != NULL && opub != NULL && EVP_PKEY_eq(pub, opub) == 1)
            *pkey_used = true;
    }
}

/* The successor's key signs a fresh digest that its certificate's public
 * key verifies. */
static enum pe_rc prove_successor(struct tok_ctx *ctx, const struct leaf *s)
{
    unsigned char digest[32], *sig = NULL;
    size_t siglen = 0;
    struct tok_key *key = NULL;
    EVP_PKEY_CTX *vc = NULL;
    EVP_PKEY *pub = X509_get0_pubkey(s->obj->cert);
    enum pe_rc rc;

    if (pub == NULL || RAND_bytes(digest, sizeof(digest)) != 1)
        return pe_failf(PE_E_INTERNAL, "No random digest to sign.");
    rc = tok_key_find_by_id(ctx, s->obj->id, s->obj->idlen, &key);
    if (rc == PE_OK)
        rc = tok_sign_digest(key, NID_sha256, digest, sizeof(digest), &sig,
                             &siglen);
    if (rc != PE_OK)
        goto out;
    vc = EVP_PKEY_CTX_new(pub, NULL);
    if (vc == NULL || EVP_PKEY_verify_init(vc) != 1 ||
        (EVP_PKEY_is_a(pub, "RSA") &&
         EVP_PKEY_CTX_set_rsa_padding(vc, RSA_PKCS1_PADDING) != 1) ||
        EVP_PKEY_CTX_set_signature_md(vc, EVP_sha256()) != 1 ||
        EVP_PKEY_verify(vc, sig, siglen, digest, sizeof(digest)) != 1)
        rc = pe_failf(PE_E_VERIFY,
                      "The key of the renewed certificate (ID %s) did not "
                      "sign for it.",
                      s->it.key_id);
out:
    EVP_PKEY_CTX_free(vc);
    OPENSSL_free(sig);
    tok_key_free(key);
    return rc;
}

/* The predecessor's own key pair: the private key with its CKA_ID whose
 * public half is the certificate's; *pkey NULL (PE_OK) when there is none
 * such, *pnote saying why. */
static enum pe_rc own_key(struct tok_ctx *ctx, const struct leaf *lf,
                          struct tok_key **pkey, const char **pnote)
{
    EVP_PKEY *pub = NULL;
    enum pe_rc rc;

    *pkey = NULL;
    rc = tok_key_find_by_id(ctx, lf->obj->id, lf->obj->idlen, pkey);
    if (rc == PE_E_KEY) {
        pe_clear();
        *pnote = "no single key with its ID was on the token";
        return PE_OK;
    }
    if (rc == PE_OK)
        rc = tok_key_public(*pkey, &pub);
    if (rc == PE_OK && EVP_PKEY_eq(pub, X509_get0_pubkey(lf->obj->cert)) != 1) {
        *pnote = "the key with its ID is not the certificate's key";
        tok_key_free(*pkey);
        *pkey = NULL;
    }
    EVP_PKEY_free(pub);
    return rc;
}

/* --yes, or yes on the terminal (cmd_renew refuses a run with neither). */
static bool consent(const struct renew_opts *ro, const struct leaf *lf,
                    bool with_key)
{
    char line[16];

    if (ro->yes)
        return true;
    if (!isatty(STDIN_FILENO))
        return false;
    fprintf(stderr,
            "Remove certificate \"%s\" (ID %s, serial %s)%s, renewed by "
            "enrollment %s? [y/N] ",
            lf->it.subject, lf->it.key_id, lf->it.serial,
            with_key ? " and its key pair" : "", lf->succ_id);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

/* Keep the certificate in the successor's record, then remove it (and
 * key, when not NULL; freed), then record what happened. */
static enum pe_rc remove_journaled(const struct renew_opts *ro,
                                   struct tok_ctx *ctx, const struct leaf *lf,
                                   struct tok_key *key, const char *keynote,
                                   struct renew_item *it)
{
    struct journal_rec *rec = NULL;
    BIO *mem = BIO_new(BIO_s_mem());
    char *pem = NULL, when[40];
    time_t now = time(NULL);
    long len;
    enum pe_rc rc = PE_E_NOMEM;

    if (mem == NULL || PEM_write_bio_X509(mem, lf->obj->cert) != 1)
        goto out;
    len = BIO_get_mem_data(mem, &pem);
    pem = len > 0 ? strndup(pem, (size_t)len) : NULL;
    if (pem == NULL)
        goto out;
    rc = journal_open(ro->dir, lf->succ_id, &rec);
    if (rc == PE_OK)
        rc = journal_set(&rec->retired_cert, pem);
    if (rc == PE_OK)
        rc = journal_set(&rec->retired_key, "removing");
    if (rc == PE_OK)
        rc = journal_save(rec);
    if (rc == PE_OK)
        rc = tok_cert_destroy(ctx, lf->obj->id, lf->obj->idlen,
                              &it->removed_certs);
    if (rc == PE_OK && key != NULL) {
        rc = tok_key_destroy(key);
        key = NULL;
        it->removed_key = rc == PE_OK;
    }
    if (rc != PE_OK)
        goto out;
    util_time_rfc3339(now, when, sizeof(when));
    rc = journal_set(&rec->retired_at, when);
    if (rc == PE_OK)
        rc = journal_set(&rec->retired_key,
                         it->removed_key ? "removed" : keynote);
    if (rc == PE_OK)
        rc = journal_save(rec);
out:
    tok_key_free(key);
    journal_rec_free(rec);
    free(pem);
    BIO_free(mem);
    return rc;
}

static void retire_leaf(const struct renew_opts *ro, struct tok_ctx *ctx,
                        const struct tok_object_list *l,
                        const struct survey *sv, const struct leaf *lf,
                        struct renew_result *res)
{
    const struct leaf *s = successor_leaf(sv, lf);
    struct renew_item *it = retire_item(res, lf);
    struct tok_key *key = NULL;
    const char *keynote = "another certificate uses it";
    bool shared, used;
    char date[40];
    enum pe_rc rc;

    if (it == NULL)
        return;
    util_time_rfc3339(lf->it.not_after, date, sizeof(date));
    if (s == NULL) {
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s, ends %s) was renewed by "
                 "enrollment %s, whose certificate is not on the token: kept.",
                 lf->it.subject, lf->it.key_id, date, lf->succ_id);
        return;
    }
    leaf_users(l, lf->obj, &shared, &used);
    if (shared) {
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s) shares its ID with another "
                 "certificate: kept.",
                 lf->it.subject, lf->it.key_id);
        return;
    }
    rc = prove_successor(ctx, s);
    if (rc == PE_OK && !used)
        rc = own_key(ctx, lf, &key, &keynote);
    if (rc != PE_OK) {
        renew_item_fail(it, rc);
        return;
    }
    if (ro->dry_run || !consent(ro, lf, key != NULL)) {
        it->outcome = ro->dry_run ? RENEW_WOULD_RETIRE : RENEW_SUPERSEDED;
        snprintf(it->message, sizeof(it->message),
                 "Certificate \"%s\" (ID %s, serial %s, ends %s), renewed as "
                 "ID %s (enrollment %s), %s%s.",
                 lf->it.subject, lf->it.key_id, lf->it.serial, date,
                 lf->succ_key_id, lf->succ_id,
                 ro->dry_run ? "would be removed" : "was kept (not confirmed)",
                 key != NULL ? " with its key pair" : "");
        tok_key_free(key);
        return;
    }
    rc = remove_journaled(ro, ctx, lf, key, keynote, it);
    if (rc != PE_OK) {
        renew_item_fail(it, rc);
        return;
    }
    it->outcome = RENEW_RETIRED;
    it->rc = PE_OK;
    snprintf(it->message, sizeof(it->message),
             "Certificate \"%s\" (ID %s, serial %s, ends %s), renewed as ID "
             "%s (enrollment %s), was removed%s%s; the record keeps the "
             "certificate.",
             lf->it.subject, lf->it.key_id, lf->it.serial, date,
             lf->succ_key_id, lf->succ_id,
             it->removed_key ? " with its key pair" : "; its key stays: ",
             it->removed_key ? "" : keynote);
}

void renew_retire_target(const struct renew_opts *ro, const struct tokopt *to,
                         struct renew_result *res)
{
    struct tok_ctx *ctx = NULL;
    struct tok_object_list *l = NULL;
    struct journal_list *jl = NULL;
    struct survey sv = {0};
    struct renew_item *it;
    size_t i;
    enum pe_rc rc;

    rc = journal_list(ro->dir, &jl);
    if (rc == PE_OK)
        rc = tokopt_open(to, &ctx);
    if (rc == PE_OK) /* also for --dry-run: the successor signs */
        rc = tokopt_login_auto(to, ctx);
    if (rc == PE_OK)
        rc = tok_list_objects(ctx, &l);
    if (rc == PE_OK)
        rc = survey_list(tok_token_uri(ctx), l, jl, ro->window, &sv);
    if (rc != PE_OK) {
        it = renew_item_add(res, NULL);
        if (it != NULL) {
            snprintf(it->token, sizeof(it->token), "%s",
                     to->token != NULL ? to->token : "");
            renew_item_fail(it, rc);
        }
        goto out;
    }
    for (i = 0; i < sv.n; i++)
        if (sv.v[i].state == EXPIRY_SUPERSEDED)
            retire_leaf(ro, ctx, l, &sv, &sv.v[i], res);
out:
    survey_clear(&sv);
    tok_object_list_free(l);
    tok_close(ctx);
    journal_list_free(jl);
}
