/* SPDX-License-Identifier: Apache-2.0 */
/*
 * list.c - every key and certificate on the token, with their URIs and
 * which certificate belongs to which key (for `p11enroll list`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "log.h"
#include "tok_int.h"

#define MAX_OBJECTS 512

static void describe_key(struct tok_object *o)
{
    int bits, id;
    char group[32];

    if (o->pub == NULL)
        return;
    bits = EVP_PKEY_get_bits(o->pub);
    id = EVP_PKEY_get_base_id(o->pub);
    if (id == EVP_PKEY_RSA) {
        snprintf(o->keytype, sizeof(o->keytype), "RSA %d", bits);
    } else if (id == EVP_PKEY_EC) {
        if (EVP_PKEY_get_group_name(o->pub, group, sizeof(group), NULL) != 1)
            group[0] = '\0';
        /* other curves are shown cut to the field (16 bytes) */
        snprintf(o->keytype, sizeof(o->keytype), "EC %.12s",
                 strcmp(group, "prime256v1") == 0  ? "P-256"
                 : strcmp(group, "secp384r1") == 0 ? "P-384"
                 : strcmp(group, "secp521r1") == 0 ? "P-521"
                                                   : group);
    }
}

/* Public key of a private key: its public object, else itself. */
static EVP_PKEY *priv_public(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                             const unsigned char *id, size_t idlen)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_ID, (void *)(uintptr_t)id, idlen}};
    CK_OBJECT_HANDLE hp;
    CK_ULONG n = 0;
    EVP_PKEY *pub = NULL;

    if (idlen > 0 && tok_find(ctx, t, 2, &hp, 1, &n) == CKR_OK && n == 1 &&
        tok_obj_public(ctx, hp, &pub) == PE_OK)
        return pub;
    if (tok_obj_public(ctx, h, &pub) == PE_OK)
        return pub;
    pe_clear();
    return NULL;
}

static enum pe_rc fill(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                       CK_OBJECT_CLASS cls, struct tok_object *o)
{
    unsigned char *label = NULL, *v = NULL;
    const unsigned char *p;
    size_t llen = 0, vlen = 0;
    CK_RV rv;

    o->cls = cls == CKO_CERTIFICATE  ? TOK_OBJ_CERT
             : cls == CKO_PUBLIC_KEY ? TOK_OBJ_PUBLIC_KEY
                                     : TOK_OBJ_PRIVATE_KEY;
    rv = tok_attr_get(ctx, h, CKA_ID, &o->id, &o->idlen);
    if (rv == CKR_OK)
        rv = tok_attr_get(ctx, h, CKA_LABEL, &label, &llen);
    if (rv != CKR_OK)
        return tok_ckfail(ctx, rv, "Reading an object's attributes");
    o->label = calloc(1, llen + 1);
    if (o->label == NULL) {
        free(label);
        return PE_E_NOMEM;
    }
    if (llen > 0)
        memcpy(o->label, label, llen);
    free(label);
    o->uri = tok_format_object_uri(ctx, cls, o->id, o->idlen, o->label);
    if (o->uri == NULL)
        return PE_E_NOMEM;
    if (cls == CKO_CERTIFICATE) {
        if (tok_attr_get(ctx, h, CKA_VALUE, &v, &vlen) == CKR_OK) {
            p = v;
            o->cert = d2i_X509(NULL, &p, (long)vlen);
        }
        free(v);
        if (tok_attr_ulong(ctx, h, CKA_CERTIFICATE_CATEGORY, &o->category) !=
            CKR_OK)
            o->category = 0;
        return PE_OK;
    }
    if (cls == CKO_PRIVATE_KEY) {
        o->pub = priv_public(ctx, h, o->id, o->idlen);
        if (tok_attr_bool(ctx, h, CKA_ALWAYS_AUTHENTICATE, &o->always_auth) !=
            CKR_OK)
            o->always_auth = false;
    } else if (tok_obj_public(ctx, h, &o->pub) != PE_OK) {
        o->pub = NULL;
        pe_clear();
    }
    describe_key(o);
    return PE_OK;
}

static void match_all(struct tok_object_list *list)
{
    size_t i, j;
    EVP_PKEY *cp;

    for (i = 0; i < list->n; i++) {
        struct tok_object *c = &list->v[i];

        if (c->cls != TOK_OBJ_CERT || c->cert == NULL)
            continue;
        cp = X509_get0_pubkey(c->cert);
        for (j = 0; cp != NULL && j < list->n; j++) {
            struct tok_object *k = &list->v[j];

            if (k->cls == TOK_OBJ_CERT || k->pub == NULL ||
                EVP_PKEY_eq(k->pub, cp) != 1)
                continue;
            k->matched = true;
            if (k->cls == TOK_OBJ_PRIVATE_KEY)
                c->matched = true;
        }
    }
}

static enum pe_rc list_once(struct tok_ctx *ctx, struct tok_object_list *list)
{
    static const CK_OBJECT_CLASS classes[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY,
                                              CKO_CERTIFICATE};
    CK_OBJECT_CLASS cls;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &yes, sizeof(yes)}};
    CK_OBJECT_HANDLE *h;
    CK_ULONG n, i;
    size_t c;
    enum pe_rc rc = PE_OK;
    CK_RV rv;

    h = calloc(MAX_OBJECTS, sizeof(*h));
    list->v = calloc(3 * MAX_OBJECTS, sizeof(*list->v));
    if (h == NULL || list->v == NULL) {
        free(h);
        return PE_E_NOMEM;
    }
    for (c = 0; c < 3 && rc == PE_OK; c++) {
        cls = classes[c];
        rv = tok_find(ctx, t, 2, h, MAX_OBJECTS, &n);
        if (rv != CKR_OK) {
            rc = tok_ckfail(ctx, rv, "Listing the token's objects");
            break;
        }
        for (i = 0; i < n && rc == PE_OK; i++)
            rc = fill(ctx, h[i], cls, &list->v[list->n++]);
    }
    free(h);
    if (rc == PE_OK)
        match_all(list);
    return rc;
}

static void objects_clear(struct tok_object_list *list)
{
    size_t i;

    for (i = 0; i < list->n; i++) {
        free(list->v[i].id);
        free(list->v[i].label);
        free(list->v[i].uri);
        EVP_PKEY_free(list->v[i].pub);
        X509_free(list->v[i].cert);
    }
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

enum pe_rc tok_list_objects(struct tok_ctx *ctx, struct tok_object_list **plist)
{
    struct tok_object_list *list;
    enum pe_rc rc;

    *plist = NULL;
    list = calloc(1, sizeof(*list));
    if (list == NULL)
        return PE_E_NOMEM;
    tok_op_begin(ctx);
    rc = list_once(ctx, list);
    if (rc != PE_OK && tok_recover_once(ctx)) {
        objects_clear(list);
        rc = list_once(ctx, list);
    }
    if (rc != PE_OK) {
        tok_object_list_free(list);
        return rc;
    }
    *plist = list;
    return PE_OK;
}

void tok_object_list_free(struct tok_object_list *list)
{
    if (list == NULL)
        return;
    objects_clear(list);
    free(list);
}
