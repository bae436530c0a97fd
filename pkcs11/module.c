/* SPDX-License-Identifier: Apache-2.0 */
/*
 * module.c - load PKCS#11 modules through p11-kit (managed mode: p11-kit
 * initialises them with OS locking and reference-counts C_Initialize).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tok_int.h"

static enum pe_rc mod_add(struct tok_modset *set, CK_FUNCTION_LIST *fl,
                          const char *given)
{
    struct tok_mod *v, *m;
    char *name, *path;

    v = realloc(set->v, (set->n + 1) * sizeof(*v));
    if (v == NULL)
        return PE_E_NOMEM;
    set->v = v;
    m = &set->v[set->n];
    memset(m, 0, sizeof(*m));
    m->fl = fl;
    name = p11_kit_module_get_name(fl);
    path = p11_kit_module_get_filename(fl);
    if (name == NULL)
        name = strdup(given != NULL ? given : (path != NULL ? path : "?"));
    m->name = name;
    m->path = path;
    set->n++;
    return m->name != NULL ? PE_OK : PE_E_NOMEM;
}

static enum pe_rc mod_init(struct tok_mod *m, bool required)
{
    CK_RV rv;

    rv = p11_kit_module_initialize(m->fl);
    log_debug(LOG_CAT_PKCS11, "C_Initialize %s: %s", m->name, ckr_name(rv));
    if (rv != CKR_OK) {
        if (!required) {
            log_warn("The PKCS#11 module %s did not initialise (%s); "
                     "skipping it.",
                     m->name, ckr_name(rv));
            return PE_OK;
        }
        return pe_failf(PE_E_MODULE,
                        "The PKCS#11 module %s did not initialise: %s.",
                        m->name, ckr_name(rv));
    }
    m->inited = true;
    return PE_OK;
}

/* p11-kit's reason for a module that did not load without the path it
 * repeats: "couldn't load module: PATH: " and a dlerror() that names PATH
 * again; what follows the last "PATH: " is the reason. */
static const char *load_reason(const char *path, const char *msg)
{
    const char *p, *last = msg;
    size_t n = strlen(path);

    for (p = strstr(msg, path); p != NULL; p = strstr(p + 1, path))
        if (p[n] == ':' && p[n + 1] == ' ')
            last = p + n + 2;
    return last;
}

static enum pe_rc load_path(struct tok_modset *set, const char *path)
{
    CK_FUNCTION_LIST *fl;
    const char *msg;
    enum pe_rc rc;

    fl = p11_kit_module_load(path, 0);
    if (fl == NULL) {
        msg = p11_kit_message();
        msg = msg != NULL ? load_reason(path, msg) : "";
        return pe_failf(PE_E_MODULE, "Cannot load the PKCS#11 module %s%s%s.",
                        path, msg[0] != '\0' ? ": " : "", msg);
    }
    rc = mod_add(set, fl, path);
    if (rc != PE_OK) {
        p11_kit_module_release(fl);
        return rc;
    }
    return mod_init(&set->v[set->n - 1], true);
}

static enum pe_rc load_registered(struct tok_modset *set, const char *name)
{
    CK_FUNCTION_LIST *fl;
    enum pe_rc rc;
    size_t i;

    set->loaded = p11_kit_modules_load(NULL, 0);
    if (set->loaded == NULL)
        return pe_failf(PE_E_MODULE,
                        "p11-kit could not load its registered "
                        "modules: %s.",
                        p11_kit_message() ? p11_kit_message() : "?");
    if (name != NULL) {
        fl = p11_kit_module_for_name(set->loaded, name);
        if (fl == NULL)
            return pe_failf(PE_E_MODULE,
                            "No PKCS#11 module named \"%s\" is "
                            "registered with p11-kit; give its path with "
                            "--module.",
                            name);
        rc = mod_add(set, fl, name);
        if (rc != PE_OK)
            return rc;
        return mod_init(&set->v[0], true);
    }
    for (i = 0; set->loaded[i] != NULL; i++) {
        rc = mod_add(set, set->loaded[i], NULL);
        if (rc != PE_OK)
            return rc;
        rc = mod_init(&set->v[set->n - 1], false);
        if (rc != PE_OK)
            return rc;
    }
    return PE_OK;
}

enum pe_rc tok_modset_load(const char *module, P11KitUri *uri,
                           struct tok_modset **pset)
{
    struct tok_modset *set;
    const char *name = NULL;
    enum pe_rc rc;

    *pset = NULL;
    set = calloc(1, sizeof(*set));
    if (set == NULL)
        return PE_E_NOMEM;
    if (module == NULL && uri != NULL) {
        module = p11_kit_uri_get_module_path(uri);
        if (module == NULL)
            name = p11_kit_uri_get_module_name(uri);
    }
    if (module != NULL && strchr(module, '/') != NULL)
        rc = load_path(set, module);
    else
        rc = load_registered(set, module != NULL ? module : name);
    if (rc != PE_OK) {
        tok_modset_free(set);
        return rc;
    }
    *pset = set;
    return PE_OK;
}

void tok_modset_free(struct tok_modset *set)
{
    size_t i;
    CK_RV rv;

    if (set == NULL)
        return;
    for (i = 0; i < set->n; i++) {
        if (set->v[i].inited) {
            rv = p11_kit_module_finalize(set->v[i].fl);
            log_debug(LOG_CAT_PKCS11, "C_Finalize %s: %s", set->v[i].name,
                      ckr_name(rv));
        }
        if (set->loaded == NULL)
            p11_kit_module_release(set->v[i].fl);
        free(set->v[i].name);
        free(set->v[i].path);
    }
    if (set->loaded != NULL)
        p11_kit_modules_release(set->loaded);
    free(set->v);
    free(set);
}

enum pe_rc tok_mod_reinit(struct tok_mod *mod)
{
    CK_RV rv;

    if (mod->inited) {
        rv = p11_kit_module_finalize(mod->fl);
        log_debug(LOG_CAT_PKCS11, "C_Finalize %s: %s", mod->name, ckr_name(rv));
        mod->inited = false;
    }
    return mod_init(mod, true);
}

const char *tok_module_name(const struct tok_ctx *ctx)
{
    return ctx->mod != NULL ? ctx->mod->name : "";
}

static enum pe_rc add_entry(struct tok_token_list *list, struct tok_mod *m,
                            const CK_INFO *mi, CK_SLOT_ID slot,
                            const CK_TOKEN_INFO *ti)
{
    struct tok_token_entry *v, *e;
    char buf[33];

    v = realloc(list->v, (list->n + 1) * sizeof(*v));
    if (v == NULL)
        return PE_E_NOMEM;
    list->v = v;
    e = &list->v[list->n++];
    memset(e, 0, sizeof(*e));
    e->module = strdup(m->name);
    e->module_path = m->path != NULL ? strdup(m->path) : NULL;
    e->uri = tok_format_token_uri(ti);
    tok_copy_padded(buf, sizeof(buf), ti->label, sizeof(ti->label));
    e->label = strdup(buf);
    tok_copy_padded(buf, sizeof(buf), ti->manufacturerID,
                    sizeof(ti->manufacturerID));
    e->manufacturer = strdup(buf);
    tok_copy_padded(buf, sizeof(buf), ti->model, sizeof(ti->model));
    e->model = strdup(buf);
    tok_copy_padded(buf, sizeof(buf), ti->serialNumber,
                    sizeof(ti->serialNumber));
    e->serial = strdup(buf);
    e->slot_id = slot;
    e->flags = ti->flags;
    e->trust_store =
        tok_is_trust_store(m->path != NULL ? m->path : m->name, mi, ti);
    if (e->module == NULL || e->uri == NULL || e->label == NULL ||
        e->manufacturer == NULL || e->model == NULL || e->serial == NULL)
        return PE_E_NOMEM;
    return PE_OK;
}

static enum pe_rc list_module(struct tok_token_list *list, struct tok_mod *m)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64, i;
    CK_TOKEN_INFO ti;
    CK_INFO mi;
    CK_RV rv;
    enum pe_rc rc;

    if (m->fl->C_GetInfo(&mi) != CKR_OK)
        memset(&mi, 0, sizeof(mi));
    rv = m->fl->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK) {
        log_warn("C_GetSlotList of %s: %s", m->name, ckr_name(rv));
        return PE_OK;
    }
    for (i = 0; i < n; i++) {
        rv = m->fl->C_GetTokenInfo(slots[i], &ti);
        if (rv != CKR_OK) {
            log_warn("C_GetTokenInfo of %s slot %lu: %s", m->name,
                     (unsigned long)slots[i], ckr_name(rv));
            continue;
        }
        rc = add_entry(list, m, &mi, slots[i], &ti);
        if (rc != PE_OK)
            return rc;
    }
    return PE_OK;
}

enum pe_rc tok_list_tokens(const char *module, struct tok_token_list **plist)
{
    struct tok_modset *set = NULL;
    struct tok_token_list *list;
    enum pe_rc rc;
    size_t i;

    *plist = NULL;
    list = calloc(1, sizeof(*list));
    if (list == NULL)
        return PE_E_NOMEM;
    rc = tok_modset_load(module, NULL, &set);
    if (rc != PE_OK)
        goto out;
    list->modules = calloc(set->n + 1, sizeof(char *));
    list->module_paths = calloc(set->n + 1, sizeof(char *));
    if (list->modules == NULL || list->module_paths == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    for (i = 0; i < set->n; i++) {
        if (set->v[i].path != NULL) {
            list->module_paths[list->nmodules] = strdup(set->v[i].path);
            if (list->module_paths[list->nmodules] == NULL) {
                rc = PE_E_NOMEM;
                goto out;
            }
        }
        list->modules[list->nmodules] = strdup(set->v[i].name);
        if (list->modules[list->nmodules++] == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
        if (!set->v[i].inited)
            continue;
        rc = list_module(list, &set->v[i]);
        if (rc != PE_OK)
            goto out;
    }
    *plist = list;
    list = NULL;
    rc = PE_OK;
out:
    tok_token_list_free(list);
    tok_modset_free(set);
    return rc;
}

void tok_token_list_free(struct tok_token_list *list)
{
    size_t i;

    if (list == NULL)
        return;
    for (i = 0; i < list->n; i++) {
        struct tok_token_entry *e = &list->v[i];

        free(e->module);
        free(e->module_path);
        free(e->uri);
        free(e->label);
        free(e->manufacturer);
        free(e->model);
        free(e->serial);
    }
    for (i = 0; i < list->nmodules; i++) {
        free(list->modules[i]);
        if (list->module_paths != NULL)
            free(list->module_paths[i]);
    }
    free(list->modules);
    free(list->module_paths);
    free(list->v);
    free(list);
}
