/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export.c - a key's certificate and chain read back from the token (and,
 * for what the token cannot hold, the journal's saved bundle).
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "expiry.h"
#include "fileio.h"
#include "journal.h"
#include "log.h"
#include "util.h"
#include "tokopt.h"

/* Longer chains than this are not followed (a loop, or not ours). */
#define EXPORT_MAX_DEPTH 10

enum pe_rc export_format_parse(const char *s, enum export_format *pformat)
{
    if (strcmp(s, "pem") == 0)
        *pformat = EXPORT_PEM;
    else if (strcmp(s, "der") == 0)
        *pformat = EXPORT_DER;
    else if (strcmp(s, "pkcs7") == 0)
        *pformat = EXPORT_PKCS7;
    else
        return pe_failf(PE_E_USAGE,
                        "Unknown format \"%s\"; use pem, der or pkcs7.", s);
    return PE_OK;
}

static bool same_id(const struct tok_object *a, const unsigned char *id,
                    size_t idlen)
{
    return a->idlen == idlen && memcmp(a->id, id, idlen) == 0;
}

/* The private key object with o's CKA_ID, else the public one. */
static const struct tok_object *key_of(const struct tok_object_list *l,
                                       const struct tok_object *o)
{
    const struct tok_object *pub = NULL;
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (!same_id(&l->v[i], o->id, o->idlen))
            continue;
        if (l->v[i].cls == TOK_OBJ_PRIVATE_KEY)
            return &l->v[i];
        if (l->v[i].cls == TOK_OBJ_PUBLIC_KEY && pub == NULL)
            pub = &l->v[i];
    }
    return pub;
}

static bool selected(const struct tok_object_list *l,
                     const struct tok_object *o, const unsigned char *id,
                     size_t idlen, const char *label)
{
    const struct tok_object *k;

    if (!expiry_is_leaf(o))
        return false;
    if (id != NULL && !same_id(o, id, idlen))
        return false;
    if (label == NULL || strcmp(o->label, label) == 0)
        return true;
    k = key_of(l, o);
    return k != NULL && strcmp(k->label, label) == 0;
}

/* Of two certificates for one CKA_ID, the better: the one whose key is on
 * the token, then the one that ends last. */
static bool better(const struct tok_object *a, const struct tok_object *b)
{
    if (a->matched != b->matched)
        return a->matched;
    return ASN1_TIME_compare(X509_get0_notAfter(a->cert),
                             X509_get0_notAfter(b->cert)) > 0;
}

/* "id 0a1b (label), id ..." of every selected certificate, for the
 * message that asks the person to choose. */
static void describe(const struct tok_object_list *l, const unsigned char *id,
                     size_t idlen, const char *label, char *buf, size_t size)
{
    char hex[130];
    size_t i, n = 0;
    int w;

    buf[0] = '\0';
    for (i = 0; i < l->n && n < size; i++) {
        if (!selected(l, &l->v[i], id, idlen, label))
            continue;
        w = snprintf(
            buf + n, size - n, "%sid %s (\"%s\")", n ? ", " : "",
            util_hex_encode(l->v[i].id, l->v[i].idlen, hex, sizeof(hex)),
            l->v[i].label);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* The one certificate sel names, or PE_E_KEY / PE_E_USAGE. */
static enum pe_rc pick(struct tok_ctx *ctx, const struct tok_object_list *l,
                       const struct export_select *sel,
                       const struct tok_object **pcert)
{
    unsigned char id[128];
    size_t idlen = 0, i;
    const struct tok_object *best = NULL;
    bool several = false;
    char names[1024];
    enum pe_rc rc;

    *pcert = NULL;
    if (sel->key_id != NULL) {
        rc = tokopt_parse_hex(sel->key_id, id, sizeof(id), &idlen);
        if (rc != PE_OK)
            return rc;
    }
    for (i = 0; i < l->n; i++) {
        const struct tok_object *o = &l->v[i];

        if (!selected(l, o, sel->key_id ? id : NULL, idlen, sel->label))
            continue;
        if (best == NULL || (same_id(best, o->id, o->idlen) && better(o, best)))
            best = o;
        else if (!same_id(best, o->id, o->idlen))
            several = true;
    }
    if (best == NULL)
        return pe_failf(PE_E_KEY,
                        "Token \"%s\" holds no certificate for a key%s%s%s.",
                        tok_token_label(ctx), sel->key_id ? " with ID " : "",
                        sel->key_id ? sel->key_id : "",
                        sel->label ? " with that label" : "");
    if (several) {
        describe(l, sel->key_id ? id : NULL, idlen, sel->label, names,
                 sizeof(names));
        return pe_failf(PE_E_USAGE,
                        "Token \"%s\" holds certificates for several keys "
                        "(%s); choose one with --key-id or --label.",
                        tok_token_label(ctx), names);
    }
    *pcert = best;
    return PE_OK;
}

/* The issuer of cert among pool: names and key identifiers agree and its
 * key verifies cert's signature.  Borrowed; NULL if none. */
static X509 *issuer_in(STACK_OF(X509) * pool, X509 *cert)
{
    EVP_PKEY *pub;
    X509 *c;
    int i;

    for (i = 0; i < sk_X509_num(pool); i++) {
        c = sk_X509_value(pool, i);
        if (X509_cmp(c, cert) == 0 || X509_check_issued(c, cert) != X509_V_OK)
            continue;
        pub = X509_get0_pubkey(c);
        if (pub != NULL && X509_verify(cert, pub) == 1)
            return c;
    }
    ERR_clear_error(); /* a failed X509_verify leaves its reason queued */
    return NULL;
}

static bool self_signed(X509 *cert)
{
    return X509_check_issued(cert, cert) == X509_V_OK;
}

/* Follow issuer links from leaf through pool into a new *pchain (issuer
 * first); *pcomplete when it reached a self-signed root. */
static enum pe_rc build_chain(X509 *leaf, STACK_OF(X509) * pool,
                              STACK_OF(X509) * *pchain, bool *pcomplete)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *cur = leaf, *up;
    int depth;

    *pcomplete = false;
    if (chain == NULL)
        return PE_E_NOMEM;
    for (depth = 0; depth < EXPORT_MAX_DEPTH && !self_signed(cur); depth++) {
        up = issuer_in(pool, cur);
        if (up == NULL)
            break;
        if (!X509_up_ref(up) || !sk_X509_push(chain, up)) {
            bundle_certs_free(chain);
            return PE_E_NOMEM;
        }
        cur = up;
    }
    *pcomplete = self_signed(cur);
    bundle_certs_free(*pchain);
    *pchain = chain;
    return PE_OK;
}

/* Append copies of the certificates in l that are not leaf to pool. */
static enum pe_rc pool_from_token(const struct tok_object_list *l,
                                  const X509 *leaf, STACK_OF(X509) * pool)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        X509 *c = l->v[i].cert;

        if (l->v[i].cls != TOK_OBJ_CERT || c == NULL || c == leaf)
            continue;
        if (!X509_up_ref(c))
            return PE_E_NOMEM;
        if (!sk_X509_push(pool, c)) {
            X509_free(c);
            return PE_E_NOMEM;
        }
    }
    return PE_OK;
}

/* true when certs holds leaf (same DER). */
static bool holds(STACK_OF(X509) * certs, X509 *leaf)
{
    int i;

    for (i = 0; i < sk_X509_num(certs); i++)
        if (X509_cmp(sk_X509_value(certs, i), leaf) == 0)
            return true;
    return false;
}

/* The newest journal record whose saved bundle holds item->leaf: its
 * certificates are added to pool.  A record or bundle that cannot be read
 * is passed over (status shows it). */
static enum pe_rc pool_from_journal(const char *state_dir,
                                    struct export_item *item,
                                    STACK_OF(X509) * pool)
{
    struct journal_list *jl = NULL;
    STACK_OF(X509) *certs = NULL;
    char *dir = NULL, *path = NULL;
    enum pe_rc rc;
    size_t i;

    rc = state_dir ? PE_OK : journal_default_dir(&dir);
    if (rc == PE_OK)
        rc = journal_list(state_dir ? state_dir : dir, &jl);
    for (i = jl ? jl->n : 0; rc == PE_OK && i-- > 0;) {
        const struct journal_rec *r = jl->v[i];

        if (r->key_id_hex == NULL || strcasecmp(r->key_id_hex, item->id_hex))
            continue;
        free(path);
        path = NULL;
        bundle_certs_free(certs);
        certs = sk_X509_new_null();
        if (certs == NULL || journal_path(r, ".bundle", &path) != PE_OK) {
            rc = PE_E_NOMEM;
            break;
        }
        if (bundle_read_file(path, certs) != PE_OK || !holds(certs, item->leaf))
            continue;
        log_info("The chain is completed from %s.", path);
        item->journal_id = strdup(r->id);
        while (rc == PE_OK && sk_X509_num(certs) > 0) {
            X509 *c = sk_X509_shift(certs);

            if (!sk_X509_push(pool, c)) {
                X509_free(c);
                rc = PE_E_NOMEM;
            }
        }
        break;
    }
    pe_clear(); /* what could not be read is not the user's problem here */
    bundle_certs_free(certs);
    free(path);
    free(dir);
    journal_list_free(jl);
    return rc == PE_E_NOMEM ? rc : PE_OK;
}

static enum pe_rc note_item(const struct tok_object_list *l,
                            const struct tok_object *o,
                            struct export_item *item)
{
    const struct tok_object *k = key_of(l, o);
    char hex[260], *p;
    size_t i;

    item->leaf = o->cert;
    if (!X509_up_ref(o->cert)) {
        item->leaf = NULL;
        return PE_E_NOMEM;
    }
    item->id_hex = strdup(util_hex_encode(o->id, o->idlen, hex, sizeof(hex)));
    item->label = strdup(o->label);
    item->cert_uri = strdup(o->uri);
    /* the key's own URI when it was listed, else the certificate's with
     * type=private: p11enroll gives both the same CKA_ID and label */
    item->key_uri = strdup(k != NULL ? k->uri : o->uri);
    if (!item->id_hex || !item->label || !item->cert_uri || !item->key_uri)
        return PE_E_NOMEM;
    if (k == NULL || k->cls != TOK_OBJ_PRIVATE_KEY) {
        p = strstr(item->key_uri, "type=");
        if (p != NULL &&
            (p = realloc(item->key_uri, strlen(item->key_uri) + 8)) != NULL) {
            item->key_uri = p;
            strcpy(strstr(p, "type=") + 5, "private");
        }
    }
    item->key_seen = k != NULL;
    item->always_auth = k != NULL && k->always_auth;
    item->label_unique = true;
    for (i = 0; i < l->n; i++)
        if (&l->v[i] != o && l->v[i].cls == TOK_OBJ_CERT &&
            strcmp(l->v[i].label, o->label) == 0)
            item->label_unique = false;
    return PE_OK;
}

enum pe_rc export_find(struct tok_ctx *ctx, const struct export_select *sel,
                       struct export_item *item)
{
    struct tok_object_list *list = NULL;
    const struct tok_object *o = NULL;
    STACK_OF(X509) *pool = NULL;
    enum pe_rc rc;

    export_item_clear(item);
    item->chain_from = "none";
    rc = tok_list_objects(ctx, &list);
    if (rc == PE_OK)
        rc = pick(ctx, list, sel, &o);
    if (rc == PE_OK)
        rc = note_item(list, o, item);
    if (rc != PE_OK)
        goto out;
    rc = PE_E_NOMEM;
    pool = sk_X509_new_null();
    if (pool == NULL)
        goto out;
    rc = pool_from_token(list, item->leaf, pool);
    if (rc == PE_OK)
        rc = build_chain(item->leaf, pool, &item->chain, &item->chain_complete);
    if (rc != PE_OK)
        goto out;
    if (sk_X509_num(item->chain) > 0)
        item->chain_from = "token";
    if (!item->chain_complete) {
        rc = pool_from_journal(sel->state_dir, item, pool);
        if (rc == PE_OK && item->journal_id != NULL) {
            rc = build_chain(item->leaf, pool, &item->chain,
                             &item->chain_complete);
            item->chain_from = "token+journal";
        }
    }
out:
    bundle_certs_free(pool);
    tok_object_list_free(list);
    return rc;
}

static enum pe_rc encode_pem(X509 *cert, STACK_OF(X509) * chain, BIO *b)
{
    int i;

    if (cert != NULL && PEM_write_bio_X509(b, cert) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Writing a certificate as PEM");
    for (i = 0; i < sk_X509_num(chain); i++)
        if (PEM_write_bio_X509(b, sk_X509_value(chain, i)) != 1)
            return pe_fail_ossl(PE_E_INTERNAL, "Writing a certificate as PEM");
    return PE_OK;
}

static enum pe_rc encode_der(X509 *cert, STACK_OF(X509) * chain, BIO *b)
{
    int i;

    if (cert != NULL && i2d_X509_bio(b, cert) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Writing a certificate as DER");
    for (i = 0; i < sk_X509_num(chain); i++)
        if (i2d_X509_bio(b, sk_X509_value(chain, i)) != 1)
            return pe_fail_ossl(PE_E_INTERNAL, "Writing a certificate as DER");
    return PE_OK;
}

/* A degenerate SignedData: version 1, no digest algorithms, data content
 * type without content, the certificates, no CRLs; the layout
 * `openssl crl2pkcs7 -nocrl` writes, so the two can be compared. */
static enum pe_rc encode_pkcs7(X509 *cert, STACK_OF(X509) * chain, BIO *b)
{
    PKCS7 *p7 = PKCS7_new();
    enum pe_rc rc = PE_E_NOMEM;
    int i, n = chain != NULL ? sk_X509_num(chain) : 0;
    X509 *c;

    if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1)
        goto out;
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    p7->d.sign->cert = sk_X509_new_null();
    if (p7->d.sign->cert == NULL)
        goto out;
    for (i = cert != NULL ? -1 : 0; i < n; i++) {
        c = i < 0 ? cert : sk_X509_value(chain, i);
        if (!X509_up_ref(c))
            goto out;
        if (!sk_X509_push(p7->d.sign->cert, c)) {
            X509_free(c);
            goto out;
        }
    }
    if (i2d_PKCS7_bio(b, p7) != 1) {
        rc = pe_fail_ossl(PE_E_INTERNAL, "Writing PKCS#7");
        goto out;
    }
    rc = PE_OK;
out:
    PKCS7_free(p7);
    return rc;
}

enum pe_rc export_encode(X509 *cert, STACK_OF(X509) * chain,
                         enum export_format format, unsigned char **pbuf,
                         size_t *plen)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    enum pe_rc rc;

    *pbuf = NULL;
    *plen = 0;
    if (b == NULL)
        return PE_E_NOMEM;
    rc = format == EXPORT_PEM   ? encode_pem(cert, chain, b)
         : format == EXPORT_DER ? encode_der(cert, chain, b)
                                : encode_pkcs7(cert, chain, b);
    if (rc == PE_OK) {
        n = BIO_get_mem_data(b, &data);
        *pbuf = malloc(n > 0 ? (size_t)n : 1);
        if (*pbuf == NULL)
            rc = PE_E_NOMEM;
        else if (n > 0)
            memcpy(*pbuf, data, (size_t)n);
        *plen = n > 0 ? (size_t)n : 0;
    }
    BIO_free(b);
    return rc;
}

enum pe_rc export_write(const char *path, X509 *cert, STACK_OF(X509) * chain,
                        enum export_format format)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    enum pe_rc rc;

    rc = export_encode(cert, chain, format, &buf, &len);
    if (rc == PE_OK)
        rc = fileio_write_atomic(path, buf, len, 0644);
    free(buf);
    return rc;
}

void export_hint(const char *token_uri, const char *id_hex)
{
    say("Sign with it: p11enroll sign-setup "
        "osslsigncode|jarsigner|sbsign|openssl --token '%s' --key-id %s",
        token_uri != NULL ? token_uri : "pkcs11:", id_hex ? id_hex : "?");
}

void export_item_clear(struct export_item *item)
{
    X509_free(item->leaf);
    bundle_certs_free(item->chain);
    free(item->journal_id);
    free(item->id_hex);
    free(item->label);
    free(item->cert_uri);
    free(item->key_uri);
    memset(item, 0, sizeof(*item));
}
