/* SPDX-License-Identifier: Apache-2.0 */
/* Certificates: leaf write and replace, chain, read back, listing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_int.h"
#include "tok_testutil.h"

static struct fx_softhsm fx;
static struct tok_ctx *ctx;
static char pinpath[PATH_MAX];
static EVP_PKEY *root_key, *int_key;
static X509 *root, *inter;

static void setup(void)
{
    fx_softhsm_begin(&fx);
    ctx = tu_open_login(&fx, pinpath, sizeof(pinpath));
    root_key = tu_ec_key();
    int_key = tu_ec_key();
    root = tu_cert(root_key, "Test Root CA", NULL, root_key, 1, 1);
    inter = tu_cert(int_key, "Test Issuing CA", root, root_key, 2, 1);
}

static void teardown(void)
{
    tok_close(ctx);
    ctx = NULL;
    X509_free(root);
    X509_free(inter);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
    fx_softhsm_end(&fx);
}

__attribute__((constructor)) static void init(void)
{
    harness_set_fixture(setup, teardown);
}

/* A key on the token and a leaf certificate for it. */
static struct tok_key *key_and_leaf(const char *label, long serial,
                                    X509 **pleaf)
{
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    if (tok_key_generate(ctx, TOK_EC_P256, label, &key) != PE_OK ||
        tok_key_public(key, &pub) != PE_OK)
        harness_fail(__FILE__, __LINE__, "key: %s", pe_detail());
    *pleaf = tu_cert(pub, "Dana Developer", inter, int_key, serial, 0);
    EVP_PKEY_free(pub);
    return key;
}

TEST("/tok/cert/write_leaf_and_read_back")
{
    struct tok_cert_result res;
    struct tok_key *key;
    X509 *leaf = NULL, *back = NULL;
    const unsigned char *id;
    size_t idlen;

    key = key_and_leaf("signer", 10, &leaf);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back == NULL);
    CHECK_INT(tok_cert_write_leaf(ctx, key, leaf, &res), PE_OK);
    CHECK(!res.replaced);
    CHECK(!res.unchanged);
    CHECK_CONTAINS(res.uri, "type=cert");
    CHECK_CONTAINS(res.uri, "object=signer");
    tok_cert_result_clear(&res);
    tok_key_id(key, &id, &idlen);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, id, idlen), 1);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back != NULL && X509_cmp(back, leaf) == 0);
    X509_free(back);
    /* the same certificate again changes nothing */
    CHECK_INT(tok_cert_write_leaf(ctx, key, leaf, &res), PE_OK);
    CHECK(res.unchanged);
    tok_cert_result_clear(&res);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 1);
    X509_free(leaf);
    tok_key_free(key);
}

TEST("/tok/cert/replace_keeps_one")
{
    struct tok_cert_result res;
    struct tok_key *key;
    X509 *leaf1 = NULL, *leaf2, *back = NULL;
    EVP_PKEY *pub = NULL;
    const unsigned char *id;
    size_t idlen;
    bool found;

    key = key_and_leaf("signer", 10, &leaf1);
    CHECK_INT(tok_cert_write_leaf(ctx, key, leaf1, NULL), PE_OK);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    leaf2 = tu_cert(pub, "Dana Developer", inter, int_key, 11, 0);
    CHECK_INT(tok_cert_write_leaf(ctx, key, leaf2, &res), PE_OK);
    CHECK(res.replaced);
    CHECK(!res.unchanged);
    tok_cert_result_clear(&res);
    tok_key_id(key, &id, &idlen);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, id, idlen), 1);
    CHECK_INT(tok_cert_read(ctx, key, &back), PE_OK);
    CHECK(back != NULL && X509_cmp(back, leaf2) == 0);
    X509_free(back);
    /* found byte for byte next to the key: the new one, not the old */
    found = false;
    CHECK_INT(tok_cert_find_same(ctx, key, leaf2, &found), PE_OK);
    CHECK(found);
    CHECK_INT(tok_cert_find_same(ctx, key, leaf1, &found), PE_OK);
    CHECK(!found);
    X509_free(leaf1);
    X509_free(leaf2);
    EVP_PKEY_free(pub);
    tok_key_free(key);
}

TEST("/tok/cert/leaf_attributes")
{
    struct tok_key *key;
    X509 *leaf = NULL;
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE h;
    CK_ULONG n = 0;
    unsigned char *v = NULL;
    size_t len = 0;
    unsigned char *der = NULL;
    int dlen;

    key = key_and_leaf("signer", 12, &leaf);
    CHECK_INT(tok_cert_write_leaf(ctx, key, leaf, NULL), PE_OK);
    CHECK_INT(tok_find(ctx, &t, 1, &h, 1, &n), CKR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(tok_attr_get(ctx, h, CKA_LABEL, &v, &len), CKR_OK);
    CHECK(len == 6 && memcmp(v, "signer", 6) == 0);
    free(v);
    CHECK_INT(tok_attr_get(ctx, h, CKA_ID, &v, &len), CKR_OK);
    CHECK(len == key->idlen && memcmp(v, key->id, len) == 0);
    free(v);
    CHECK_INT(tok_attr_get(ctx, h, CKA_ISSUER, &v, &len), CKR_OK);
    dlen = i2d_X509_NAME(X509_get_issuer_name(leaf), &der);
    CHECK(dlen > 0 && (size_t)dlen == len && memcmp(v, der, len) == 0);
    free(v);
    OPENSSL_free(der);
    CHECK_INT(tok_attr_get(ctx, h, CKA_SERIAL_NUMBER, &v, &len), CKR_OK);
    CHECK(len == 3 && v[0] == 0x02 && v[1] == 1 && v[2] == 12);
    free(v);
    X509_free(leaf);
    tok_key_free(key);
}

/* The attributes a signing tool or a later run reads, of the token's one
 * certificate with CKA_ID id, as "type=hex;" pairs in one string. */
static void cert_attrs(const unsigned char *id, size_t idlen, char *out,
                       size_t size)
{
    static const CK_ATTRIBUTE_TYPE types[] = {
        CKA_CLASS,         CKA_TOKEN,
        CKA_PRIVATE,       CKA_LABEL,
        CKA_MODIFIABLE,    CKA_COPYABLE,
        CKA_DESTROYABLE,   CKA_CERTIFICATE_TYPE,
        CKA_TRUSTED,       CKA_CERTIFICATE_CATEGORY,
        CKA_SUBJECT,       CKA_ISSUER,
        CKA_SERIAL_NUMBER, CKA_VALUE,
        CKA_START_DATE,    CKA_END_DATE};
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_OBJECT_HANDLE h;
    CK_ULONG n = 0;
    size_t i, j, o = 0;

    CHECK_INT(tok_find(ctx, t, 2, &h, 1, &n), CKR_OK);
    CHECK_INT(n, 1);
    out[0] = '\0';
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        unsigned char *v = NULL;
        size_t len = 0;

        CHECK_INT(tok_attr_get(ctx, h, types[i], &v, &len), CKR_OK);
        o += (size_t)snprintf(out + o, size - o, "%lx=", types[i]);
        for (j = 0; j < len && o + 3 < size; j++)
            o += (size_t)snprintf(out + o, size - o, "%02x", v[j]);
        o += (size_t)snprintf(out + o, size - o, ";");
        free(v);
        CHECK(o < size);
    }
}

/*
 * The leaf, then the chain; a new session of a new context (what a
 * signing tool opens) finds them as token objects, the leaf with the
 * attributes it was written with.
 */
TEST("/tok/cert/write_all_seen_by_a_new_context")
{
    static char before[8192], after[8192];
    STACK_OF(X509) *chain = sk_X509_new_null();
    struct tok_key *key;
    X509 *leaf = NULL;
    size_t w = 9, s = 9;

    sk_X509_push(chain, inter);
    sk_X509_push(chain, root);
    key = key_and_leaf("signer", 12, &leaf);
    CHECK_INT(tok_cert_write_all(ctx, key, leaf, chain, NULL, &w, &s), PE_OK);
    CHECK_INT(w, 2);
    CHECK_INT(s, 0);
    cert_attrs(key->id, key->idlen, before, sizeof(before));
    CHECK_CONTAINS(before, ";1=01;"); /* CKA_TOKEN true */
    tok_close(ctx);
    ctx = tu_open_login(&fx, pinpath, sizeof(pinpath));
    cert_attrs(key->id, key->idlen, after, sizeof(after));
    CHECK_STR(before, after);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 3);
    X509_free(leaf);
    tok_key_free(key);
    sk_X509_free(chain);
}

TEST("/tok/cert/chain_written_once")
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    size_t written = 9, skipped = 9;
    struct tok_object_list *list = NULL;
    size_t i, ncat2 = 0;

    sk_X509_push(chain, inter);
    sk_X509_push(chain, root);
    CHECK(tok_can_store_chain(ctx));
    CHECK_INT(tok_cert_write_chain(ctx, chain, &written, &skipped), PE_OK);
    CHECK_INT(written, 2);
    CHECK_INT(skipped, 0);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 2);
    CHECK_INT(tok_cert_write_chain(ctx, chain, &written, &skipped), PE_OK);
    CHECK_INT(written, 0);
    CHECK_INT(skipped, 2);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 2);
    CHECK_INT(tok_list_objects(ctx, &list), PE_OK);
    for (i = 0; i < list->n; i++) {
        if (list->v[i].cls != TOK_OBJ_CERT)
            continue;
        CHECK_INT(list->v[i].category, 2);
        CHECK_INT(list->v[i].idlen, 16);
        CHECK(strcmp(list->v[i].label, "Test Root CA") == 0 ||
              strcmp(list->v[i].label, "Test Issuing CA") == 0);
        ncat2++;
    }
    CHECK_INT(ncat2, 2);
    tok_object_list_free(list);
    sk_X509_free(chain);
}

TEST("/tok/cert/chain_on_a_ykcs11_token_writes_nothing")
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    size_t written = 9, skipped = 9;

    sk_X509_push(chain, root);
    tok_set_family(ctx, TOK_FAMILY_YKCS11);
    CHECK(!tok_can_store_chain(ctx));
    CHECK_INT(tok_cert_write_chain(ctx, chain, &written, &skipped), PE_OK);
    CHECK_INT(written, 0);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 0);
    tok_set_family(ctx, TOK_FAMILY_GENERIC);
    sk_X509_free(chain);
}

TEST("/tok/list/keys_certs_and_matches")
{
    struct tok_object_list *list = NULL;
    struct tok_key *k1, *k2 = NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    size_t i, priv = 0, pub = 0, certs = 0, matched_priv = 0, matched_cert = 0;

    k1 = key_and_leaf("with-cert", 20, &leaf);
    CHECK_INT(tok_cert_write_leaf(ctx, k1, leaf, NULL), PE_OK);
    sk_X509_push(chain, inter);
    CHECK_INT(tok_cert_write_chain(ctx, chain, NULL, NULL), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_RSA_3072, "bare", &k2), PE_OK);
    CHECK_INT(tok_list_objects(ctx, &list), PE_OK);
    for (i = 0; i < list->n; i++) {
        struct tok_object *o = &list->v[i];

        CHECK_CONTAINS(o->uri, "pkcs11:");
        if (o->cls == TOK_OBJ_PRIVATE_KEY) {
            priv++;
            CHECK_CONTAINS(o->uri, "type=private");
            if (strcmp(o->label, "with-cert") == 0) {
                CHECK(o->matched);
                CHECK_STR(o->keytype, "EC P-256");
                matched_priv++;
            } else {
                CHECK(!o->matched);
                CHECK_STR(o->keytype, "RSA 3072");
            }
        } else if (o->cls == TOK_OBJ_PUBLIC_KEY) {
            pub++;
        } else {
            certs++;
            CHECK(o->cert != NULL);
            if (o->matched)
                matched_cert++;
        }
    }
    CHECK_INT(priv, 2);
    CHECK_INT(pub, 2);
    CHECK_INT(certs, 2);
    CHECK_INT(matched_priv, 1);
    CHECK_INT(matched_cert, 1);
    tok_object_list_free(list);
    sk_X509_free(chain);
    X509_free(leaf);
    tok_key_free(k1);
    tok_key_free(k2);
}

TEST("/tok/cert/find_key_for_certificate")
{
    struct tok_key *key, *found = NULL;
    X509 *leaf = NULL;

    key = key_and_leaf("signer", 30, &leaf);
    CHECK_INT(tok_key_find_by_public(ctx, X509_get0_pubkey(leaf), &found),
              PE_OK);
    CHECK_STR(tok_key_uri(found), tok_key_uri(key));
    tok_key_free(found);
    X509_free(leaf);
    tok_key_free(key);
}
