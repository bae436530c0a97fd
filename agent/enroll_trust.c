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
                       struct bundle_check *popts)
{
    memset(popts, 0, sizeof(*popts));
    popts->trust = a->trust;
    popts->pinned = a->pinned;
    popts->pins = true;
    popts->bundle_root = rec->accept_bundle_root != NULL;
    /* the person accepts the root they were shown, not one that came
     * with a later download (enroll_settings.c stores which) */
    if (rec->accept_bundle_root != NULL &&
        strcmp(rec->accept_bundle_root, "any") != 0)
        popts->expect_root = rec->accept_bundle_root;
}

enum pe_rc enroll_trust_refused(struct journal_rec *rec, enum pe_rc rc,
                                const struct install_result *res)
{
    enum pe_rc rc2;

    if (rc != PE_E_VERIFY || !res->root.refused)
        return rc;
    rc2 =
        journal_set(&rec->untrusted_root,
                    res->root.sha256[0] != '\0' ? res->root.sha256 : "missing");
    if (rc2 == PE_OK)
        rc2 = journal_set(&rec->accept_bundle_root, NULL);
    return rc2 != PE_OK ? rc2 : rc;
}

enum pe_rc enroll_pin_prepare(const struct journal_rec *rec,
                              const struct install_result *res,
                              struct enroll_pin *pin)
{
    X509 *root = sk_X509_value(res->chain, sk_X509_num(res->chain) - 1);
    enum pe_rc rc;

    memset(pin, 0, sizeof(*pin));
    if (rec->accept_bundle_root == NULL)
        return PE_OK;
    /* a root that the system's store or an earlier pin vouched for is no
     * root the person accepted from this bundle */
    if (root == NULL || !res->root.by_bundle_root) {
        say("The chain verified to a root already trusted, not to one only "
            "the bundle carries; nothing is pinned.");
        return PE_OK;
    }
    rc = bundle_cert_pem(root, &pin->pem);
    if (rc == PE_OK) {
        pin->sha256 = strdup(res->root.sha256);
        if (pin->sha256 == NULL)
            rc = PE_E_NOMEM;
    }
    if (rc != PE_OK) {
        enroll_pin_clear(pin);
        return rc;
    }
    bundle_name_str(X509_get_subject_name(root), pin->name, sizeof(pin->name));
    return PE_OK;
}

void enroll_pin_commit(struct journal_rec *rec, struct enroll_pin *pin)
{
    char fp[BUNDLE_SHA256_FP];

    /* setting NULL allocates nothing, so none of these can fail */
    (void)journal_set(&rec->untrusted_root, NULL);
    (void)journal_set(&rec->accept_bundle_root, NULL);
    if (pin->pem == NULL)
        return;
    free(rec->pinned_root);
    free(rec->pinned_root_sha256);
    rec->pinned_root = pin->pem;
    rec->pinned_root_sha256 = pin->sha256;
    pin->pem = pin->sha256 = NULL;
    say("Pinned the root \"%s\" (SHA-256 %s): renewals and later "
        "enrollments at %s verify to it.",
        pin->name, bundle_sha256_fp(rec->pinned_root_sha256, fp),
        rec->url ? rec->url : "?");
}

void enroll_pin_clear(struct enroll_pin *pin)
{
    free(pin->pem);
    free(pin->sha256);
    memset(pin, 0, sizeof(*pin));
}
