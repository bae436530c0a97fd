/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_trust.c - what an enrollment's issued chain must verify to
 * (docs/PROTOCOL.md section 3): the --trust roots, else the system's
 * trust store and the roots pinned by earlier enrollments.  A pin is made
 * only by the person's --trust-bundle-root, and inherited by renewals.
 */
#include "enroll.h"

#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "log.h"

/* The PEM pin of record from (its id names it in messages) into pinned;
 * damaged: a warning, and it is no anchor. */
static void add_pin(STACK_OF(X509) * pinned, const struct journal_rec *from)
{
    char what[80];

    if (from->pinned_root == NULL)
        return;
    snprintf(what, sizeof(what), "the root pinned by enrollment %s", from->id);
    if (bundle_parse((const unsigned char *)from->pinned_root,
                     strlen(from->pinned_root), what, pinned) != PE_OK)
        log_warn("%s; it is not trusted.", pe_detail());
}

/* The pins of rec and of every record of its folder for its URL: a root
 * the person accepted for that CA vouches for that CA's later bundles,
 * never for another CA's. */
static enum pe_rc load_pins(const struct journal_rec *rec,
                            STACK_OF(X509) * *ppinned)
{
    struct journal_list *list = NULL;
    size_t i;

    *ppinned = sk_X509_new_null();
    if (*ppinned == NULL)
        return PE_E_NOMEM;
    add_pin(*ppinned, rec);
    if (rec->dir == NULL || rec->url == NULL ||
        journal_list(rec->dir, &list) != PE_OK)
        return PE_OK;
    for (i = 0; i < list->n; i++)
        if (list->v[i]->url != NULL && strcmp(list->v[i]->url, rec->url) == 0)
            add_pin(*ppinned, list->v[i]);
    journal_list_free(list);
    return PE_OK;
}

enum pe_rc enroll_anchors_load(const struct journal_rec *rec,
                               struct enroll_anchors *pa)
{
    enum pe_rc rc = PE_OK;

    memset(pa, 0, sizeof(*pa));
    if (rec->trust != NULL) {
        pa->trust = sk_X509_new_null();
        if (pa->trust == NULL)
            return PE_E_NOMEM;
        rc = bundle_read_file(rec->trust, pa->trust);
    }
    if (rc == PE_OK)
        rc = load_pins(rec, &pa->pinned);
    if (rc != PE_OK)
        enroll_anchors_clear(pa);
    return rc;
}

void enroll_anchors_clear(struct enroll_anchors *pa)
{
    bundle_certs_free(pa->trust);
    bundle_certs_free(pa->pinned);
    memset(pa, 0, sizeof(*pa));
}

void enroll_trust_opts(const struct journal_rec *rec,
                       const struct enroll_anchors *a,
                       struct install_opts *popts)
{
    memset(popts, 0, sizeof(*popts));
    popts->trust = a->trust;
    popts->pinned = a->pinned;
    popts->pins = true;
    popts->bundle_root = rec->accept_bundle_root != NULL;
    /* the person accepts the root they were shown, not one that came
     * with a later download */
    if (rec->untrusted_root != NULL &&
        strcmp(rec->untrusted_root, "missing") != 0)
        popts->expect_root = rec->untrusted_root;
}

/* rec pins the root its chain verified to. */
static enum pe_rc pin_root(struct journal_rec *rec,
                           const struct install_result *res)
{
    X509 *root = sk_X509_value(res->chain, sk_X509_num(res->chain) - 1);
    char *pem = NULL, subj[256], fp[BUNDLE_SHA256_FP];
    enum pe_rc rc;

    if (root == NULL || X509_self_signed(root, 0) != 1)
        return pe_failf(PE_E_VERIFY,
                        "The chain verified, but not to a root; there is "
                        "nothing to pin.");
    rc = bundle_cert_pem(root, &pem);
    if (rc == PE_OK)
        rc = journal_set(&rec->pinned_root, pem);
    if (rc == PE_OK)
        rc = journal_set(&rec->pinned_root_sha256, res->root.sha256);
    if (rc == PE_OK)
        say("Pinned the root \"%s\" (SHA-256 %s): renewals and later "
            "enrollments at %s verify to it.",
            bundle_name_str(X509_get_subject_name(root), subj, sizeof(subj)),
            bundle_sha256_fp(res->root.sha256, fp), rec->url ? rec->url : "?");
    free(pem);
    return rc;
}

enum pe_rc enroll_trust_note(struct journal_rec *rec, enum pe_rc rc,
                             const struct install_result *res)
{
    enum pe_rc rc2;

    if (rc == PE_E_VERIFY && res->root.refused) {
        rc2 = journal_set(&rec->untrusted_root, res->root.sha256[0] != '\0'
                                                    ? res->root.sha256
                                                    : "missing");
        return rc2 != PE_OK ? rc2 : rc;
    }
    if (rc != PE_OK)
        return rc;
    rc = journal_set(&rec->untrusted_root, NULL);
    if (rc == PE_OK && rec->accept_bundle_root != NULL)
        rc = pin_root(rec, res);
    if (rc == PE_OK)
        rc = journal_set(&rec->accept_bundle_root, NULL);
    return rc;
}
