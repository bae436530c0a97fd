/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_settings.c - settings resolved in one place: the command line
 * over the config files (enroll_args.c merges those two) over the journal
 * record.  A new record is filled from the options; an existing one takes
 * what is given now, where its state still allows it, so that a `resume`,
 * a rerun or a renewal can correct a wrong URL, trust file or key type
 * instead of being stuck with it.
 */
#include "enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define DEFAULT_LABEL "p11enroll"

enum pe_rc enroll_state_dir(const struct enroll_opts *o, char **pdir)
{
    if (o->state_dir != NULL) {
        *pdir = strdup(o->state_dir);
        return *pdir != NULL ? PE_OK : PE_E_NOMEM;
    }
    return journal_default_dir(pdir);
}

/* "/CN=a/O=b" from the single subject options ('/' escaped). */
static enum pe_rc subject_dn(const struct enroll_opts *o, char **pdn)
{
    const char *names[] = {"CN", "O", "OU", "C", "L", "ST"};
    const char *vals[] = {o->cn, o->o, o->ou, o->c, o->l, o->st};
    char buf[2048], *p = buf;
    const char *s;
    size_t i, left = sizeof(buf);
    int n;

    *pdn = NULL;
    if (o->subject != NULL) {
        *pdn = strdup(o->subject);
        return *pdn != NULL ? PE_OK : PE_E_NOMEM;
    }
    buf[0] = '\0';
    for (i = 0; i < 6; i++) {
        if (vals[i] == NULL)
            continue;
        n = snprintf(p, left, "/%s=", names[i]);
        if (n < 0 || (size_t)n >= left)
            return pe_failf(PE_E_USAGE, "The subject is too long.");
        p += n;
        left -= (size_t)n;
        for (s = vals[i]; *s != '\0'; s++) {
            if (left < 3)
                return pe_failf(PE_E_USAGE, "The subject is too long.");
            if (*s == '/' || *s == '\\') {
                *p++ = '\\';
                left--;
            }
            *p++ = *s;
            left--;
        }
        *p = '\0';
    }
    if (buf[0] == '\0')
        return PE_OK; /* decided later from the names */
    *pdn = strdup(buf);
    return *pdn != NULL ? PE_OK : PE_E_NOMEM;
}

/* path into *pfield, made absolute against the working directory when
 * relative, so a later resume or renew from elsewhere finds the file;
 * prefix ("file:" or "") goes in front.  NULL clears the field. */
static enum pe_rc set_path(char **pfield, const char *prefix, const char *path)
{
    char cwd[4096], buf[8300];

    if (path == NULL || path[0] == '/' || path[0] == '\0') {
        if (path == NULL)
            return journal_set(pfield, NULL);
        snprintf(buf, sizeof(buf), "%s%s", prefix, path);
        return journal_set(pfield, buf);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return pe_failf(PE_E_IO,
                        "Cannot tell the working directory to "
                        "record \"%s\".",
                        path);
    if (snprintf(buf, sizeof(buf), "%s%s/%s", prefix, cwd, path) >=
        (int)sizeof(buf))
        return pe_failf(PE_E_IO, "The path \"%s\" is too long.", path);
    return journal_set(pfield, buf);
}

/* "file:P" or "env:V" of a PIN source into *pfield; others are not kept
 * (an fd is gone, a prompt asks again). */
static enum pe_rc remember_source(const struct secret_source *src,
                                  char **pfield)
{
    char spec[4200];

    if (src->kind == SECRET_FILE)
        return set_path(pfield, "file:", src->arg);
    if (src->kind != SECRET_ENV)
        return PE_OK;
    snprintf(spec, sizeof(spec), "env:%s", src->arg);
    return journal_set(pfield, spec);
}

/* Replace *pfield with val when val is given and differs; *pchanged set. */
static enum pe_rc take(char **pfield, const char *val, bool *pchanged)
{
    if (val == NULL || (*pfield != NULL && strcmp(*pfield, val) == 0))
        return PE_OK;
    *pchanged = true;
    return journal_set(pfield, val);
}

/* A path option, made absolute, into *pfield when given. */
static enum pe_rc take_path(char **pfield, const char *path, bool *pchanged)
{
    char *old = NULL;
    enum pe_rc rc;

    if (path == NULL)
        return PE_OK;
    if (*pfield != NULL) {
        old = strdup(*pfield);
        if (old == NULL)
            return PE_E_NOMEM;
    }
    rc = set_path(pfield, "", path);
    if (rc == PE_OK && (old == NULL || strcmp(old, *pfield) != 0))
        *pchanged = true;
    free(old);
    return rc;
}

/* The token's module: a p11-kit name as given, a file by absolute path. */
static enum pe_rc take_module(struct journal_rec *rec, const char *module)
{
    bool changed = false;

    if (module != NULL && strchr(module, '/') == NULL)
        return take(&rec->module, module, &changed);
    return take_path(&rec->module, module, &changed);
}

/* Where the secrets come from: only sources that can be read again later
 * are remembered (an fd is gone, a prompt asks again). */
static enum pe_rc take_sources(const struct enroll_opts *o,
                               struct journal_rec *rec)
{
    enum pe_rc rc = PE_OK;

    if (o->secret_spec != NULL && strncmp(o->secret_spec, "file:", 5) == 0)
        rc = set_path(&rec->secret_source, "file:", o->secret_spec + 5);
    else if (o->secret_spec != NULL && strncmp(o->secret_spec, "fd:", 3) != 0)
        rc = journal_set(&rec->secret_source, o->secret_spec);
    if (rc == PE_OK)
        rc = remember_source(&o->tok.pin, &rec->pin_source);
    if (rc == PE_OK)
        rc = remember_source(&o->tok.so_pin, &rec->so_pin_source);
    return rc;
}

/* One option into one record field, as take or take_path does. */
struct take_row {
    char **field;
    const char *value;
    bool path;
};

static enum pe_rc take_rows(const struct take_row *t, size_t n, bool *pchanged)
{
    enum pe_rc rc = PE_OK;
    size_t i;

    for (i = 0; i < n && rc == PE_OK; i++)
        rc = t[i].path ? take_path(t[i].field, t[i].value, pchanged)
                       : take(t[i].field, t[i].value, pchanged);
    return rc;
}

/*
 * --trust-bundle-root: consent to the root the last refusal showed (its
 * SHA-256), or to any root when none was refused yet; kept until a bundle
 * was installed or refused again (enroll_trust.c).  It replaces --trust.
 */
static enum pe_rc take_bundle_root(struct journal_rec *rec)
{
    enum pe_rc rc;

    if (rec->untrusted_root != NULL &&
        strcmp(rec->untrusted_root, "missing") == 0)
        return pe_failf(PE_E_USAGE,
                        "The bundle of enrollment %s carried no root to "
                        "accept; give --trust FILE with the CA's root "
                        "certificate.",
                        rec->id);
    rc = journal_set(&rec->trust, NULL);
    if (rc == PE_OK)
        rc = journal_set(&rec->accept_bundle_root, rec->untrusted_root != NULL
                                                       ? rec->untrusted_root
                                                       : "any");
    return rc;
}

/* What may change in any state that is not final: how to reach things,
 * never what was ordered. */
static enum pe_rc take_access(const struct enroll_opts *o,
                              struct journal_rec *rec)
{
    const struct take_row t[] = {
        {&rec->client_id, o->form == NULL ? o->client_id : NULL, false},
        {&rec->token_url, o->token_url, false},
        {&rec->format, o->format, false},
        {&rec->ca_file, o->ca_file, true},
        {&rec->trust, o->trust, true},
        {&rec->out_cert, o->out_cert, true},
        {&rec->out_chain, o->out_chain, true},
        {&rec->hsm_type, o->hsm_type, false},
        {&rec->attestation_cmd, o->attestation_cmd, false},
        {&rec->attestation_file, o->attestation_file, true},
    };
    bool changed = false;
    enum pe_rc rc;

    rc = take_module(rec, o->tok.module);
    if (rc == PE_OK)
        rc = take_rows(t, sizeof(t) / sizeof(t[0]), &changed);
    if (rc == PE_OK && o->trust_bundle_root)
        rc = take_bundle_root(rec);
    if (rc == PE_OK && o->trust != NULL)
        rc = journal_set(&rec->accept_bundle_root, NULL);
    /* one way of attestation replaces the other */
    if (rc == PE_OK && o->attestation_file != NULL)
        rc = journal_set(&rec->attestation_cmd, NULL);
    if (rc == PE_OK && o->attestation_cmd != NULL)
        rc = journal_set(&rec->attestation_file, NULL);
    if (rc == PE_OK)
        rc = take_sources(o, rec);
    return rc;
}

/* The request's own fields; *pchanged when one of them changed. */
static enum pe_rc take_request(const struct enroll_opts *o,
                               struct journal_rec *rec, bool *pchanged)
{
    const struct take_row t[] = {
        {&rec->email, o->email, false},
        {&rec->first_name, o->first_name, false},
        {&rec->last_name, o->last_name, false},
        {&rec->title, o->title, false},
        {&rec->san_email, o->san_email, false},
    };
    char *dn = NULL;
    enum pe_rc rc;

    rc = take_rows(t, sizeof(t) / sizeof(t[0]), pchanged);
    if (rc == PE_OK)
        rc = subject_dn(o, &dn);
    if (rc == PE_OK)
        rc = take(&rec->subject, dn, pchanged);
    if (rc == PE_OK && o->term > 0 && o->term != rec->term) {
        rec->term = o->term;
        *pchanged = true;
    }
    free(dn);
    return rc;
}

/* The CA: only while nothing can have reached it. */
static enum pe_rc take_ca(const struct enroll_opts *o, struct journal_rec *rec)
{
    const char *url = o->form != NULL ? o->form : o->endpoint;
    const char *proto = o->form != NULL ? "form" : "rest";
    bool changed = false;
    enum pe_rc rc;

    /* the paths of the API are ours to add (docs/PROTOCOL.md) */
    if (o->endpoint != NULL && strstr(o->endpoint, "/api/v1") != NULL)
        return pe_failf(PE_E_USAGE,
                        "--endpoint is the endpoint's base URL, e.g. "
                        "https://<customer>.enroll.<region>.sectigo.com, "
                        "without /api/v1/...: \"%s\".",
                        o->endpoint);
    if (url == NULL ||
        (rec->url != NULL && strcmp(rec->url, url) == 0 &&
         rec->protocol != NULL && strcmp(rec->protocol, proto) == 0))
        return PE_OK;
    if (rec->status >= JOURNAL_SUBMITTING)
        return pe_failf(PE_E_USAGE,
                        "Enrollment %s was submitted to %s already; its CA "
                        "cannot change now (forget it with: p11enroll forget "
                        "%s, and enroll again).",
                        rec->id, rec->url ? rec->url : "?", rec->id);
    rc = take(&rec->url, url, &changed);
    if (rc == PE_OK)
        rc = take(&rec->protocol, proto, &changed);
    /* a pin, a refusal or a consent was about the old CA's root: another
     * CA's bundles verify to its own (docs/PROTOCOL.md section 3) */
    if (rc == PE_OK)
        rc = journal_set(&rec->pinned_root, NULL);
    if (rc == PE_OK)
        rc = journal_set(&rec->pinned_root_sha256, NULL);
    if (rc == PE_OK)
        rc = journal_set(&rec->untrusted_root, NULL);
    if (rc == PE_OK)
        rc = journal_set(&rec->accept_bundle_root, NULL);
    if (rc == PE_OK && o->form != NULL)
        rc = journal_set(&rec->client_id, NULL);
    return rc;
}

/* The key (--key-type, --key-id, --slot): only while none was made. */
static enum pe_rc take_key(const struct enroll_opts *o, struct journal_rec *rec)
{
    bool made = rec->status > JOURNAL_NEW || rec->keygen != NULL;
    const char *want;
    char *slot_id = NULL;
    enum pe_rc rc = PE_OK;

    if (o->key_id == NULL && o->slot == NULL) {
        if (o->key_type == NULL ||
            (rec->key_type != NULL && strcmp(rec->key_type, o->key_type) == 0))
            return PE_OK;
        /* step_key checks a key made before a crash against the type */
        if (rec->status > JOURNAL_NEW)
            return pe_failf(PE_E_USAGE,
                            "Enrollment %s has its key already; to make a "
                            "%s key instead, forget it (p11enroll forget %s "
                            "--remove-key) and enroll again.",
                            rec->id, o->key_type, rec->id);
        return journal_set(&rec->key_type, o->key_type);
    }
    if (o->slot != NULL)
        rc = enroll_slot_key_id(o->slot, &slot_id);
    if (rc != PE_OK)
        return rc;
    want = o->key_id != NULL ? o->key_id : slot_id;
    if (made && strcmp(rec->key_id_hex ? rec->key_id_hex : "", want) != 0)
        rc = pe_failf(PE_E_USAGE,
                      "Enrollment %s may have made its key already; its key "
                      "cannot change now (forget it with: p11enroll forget "
                      "%s --remove-key, and enroll again).",
                      rec->id, rec->id);
    if (rc == PE_OK)
        rc = journal_set(&rec->key_id_hex, want);
    if (rc == PE_OK)
        rc = journal_set(&rec->key_origin,
                         o->key_id != NULL ? "reused" : "generated");
    if (rc == PE_OK && o->key_id != NULL)
        rc = journal_set(&rec->key_type, NULL);
    free(slot_id);
    return rc;
}

enum pe_rc enroll_use_key(struct journal_rec *rec, const char *key_id_hex)
{
    struct enroll_opts o;

    memset(&o, 0, sizeof(o));
    o.key_id = key_id_hex;
    return take_key(&o, rec);
}

enum pe_rc enroll_inherit(const struct journal_rec *old,
                          struct journal_rec *rec)
{
    const struct {
        char **to;
        const char *from;
    } t[] = {
        {&rec->protocol, old->protocol},
        {&rec->url, old->url},
        {&rec->client_id, old->client_id},
        {&rec->email, old->email},
        {&rec->first_name, old->first_name},
        {&rec->last_name, old->last_name},
        {&rec->title, old->title},
        {&rec->san_email, old->san_email},
        {&rec->subject, old->subject},
        {&rec->format, old->format},
        {&rec->token_url, old->token_url},
        {&rec->ca_file, old->ca_file},
        {&rec->trust, old->trust},
        {&rec->pinned_root, old->pinned_root},
        {&rec->pinned_root_sha256, old->pinned_root_sha256},
        {&rec->out_cert, old->out_cert},
        {&rec->out_chain, old->out_chain},
        {&rec->secret_source, old->secret_source},
        {&rec->pin_source, old->pin_source},
        {&rec->so_pin_source, old->so_pin_source},
        {&rec->module, old->module},
        {&rec->key_label, old->key_label},
        {&rec->key_type, old->key_type},
        {&rec->hsm_type, old->hsm_type},
        {&rec->attestation_file, old->attestation_file},
        {&rec->attestation_cmd, old->attestation_cmd},
    };
    enum pe_rc rc = PE_OK;
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]) && rc == PE_OK; i++)
        rc = journal_set(t[i].to, t[i].from);
    rec->term = old->term;
    return rc;
}

enum pe_rc enroll_fill_record(const struct enroll_opts *o,
                              struct journal_rec *rec)
{
    bool changed = false;
    enum pe_rc rc;

    rc = journal_set(&rec->token_uri, o->tok.token);
    if (rc == PE_OK)
        rc = journal_set(&rec->key_origin,
                         o->key_id != NULL ? "reused" : "generated");
    /* no --key-type: the first type the token can make (step_key) */
    if (rc == PE_OK && o->key_id == NULL)
        rc = journal_set(&rec->key_type, o->key_type);
    if (rc == PE_OK)
        rc = journal_set(&rec->key_label,
                         o->label != NULL ? o->label : DEFAULT_LABEL);
    if (rc == PE_OK)
        rc = take_key(o, rec);
    if (rc == PE_OK)
        rc = take_ca(o, rec);
    if (rc == PE_OK)
        rc = take_access(o, rec);
    if (rc == PE_OK)
        rc = take_request(o, rec, &changed);
    return rc;
}

enum pe_rc enroll_apply_options(const struct enroll_opts *o,
                                struct journal_rec *rec)
{
    bool changed = false;
    enum pe_rc rc;

    if (journal_status_final(rec->status))
        return PE_OK;
    /* the recorded token stays: --token (renew gives its own spelling of
     * the same URI) only fills a record that names none */
    rc = rec->token_uri == NULL ? journal_set(&rec->token_uri, o->tok.token)
                                : PE_OK;
    if (rc == PE_OK)
        rc = take_key(o, rec);
    /* the label goes on the key when it is made */
    if (rc == PE_OK && o->label != NULL && rec->status == JOURNAL_NEW &&
        rec->keygen == NULL)
        rc = journal_set(&rec->key_label, o->label);
    if (rc == PE_OK)
        rc = take_ca(o, rec);
    if (rc == PE_OK)
        rc = take_access(o, rec);
    if (rc != PE_OK)
        return rc;
    rc = take_request(o, rec, &changed);
    if (rc != PE_OK || !changed)
        return rc;
    if (rec->status >= JOURNAL_SUBMITTING)
        return pe_failf(PE_E_USAGE,
                        "Enrollment %s was submitted already; its names and "
                        "e-mail cannot change now.",
                        rec->id);
    if (rec->status == JOURNAL_CSR_BUILT) {
        /* the request it holds has the old names: build it again */
        say("The request's names changed; its CSR is built again.");
        rec->status = JOURNAL_KEY_GENERATED;
        rc = journal_set(&rec->csr_b64, NULL);
    }
    return rc;
}

/* rec is for the same token, CA and identity as o. */
static bool same_order(const struct journal_rec *r, const struct enroll_opts *o)
{
    const char *url = o->form != NULL ? o->form : o->endpoint;

    if (r->url == NULL || url == NULL || strcmp(r->url, url) != 0)
        return false;
    /* no --token: any token (the record then names the one used) */
    if (o->tok.token != NULL &&
        (r->token_uri == NULL || strcmp(o->tok.token, r->token_uri) != 0))
        return false;
    if ((o->email != NULL && r->email != NULL &&
         strcmp(o->email, r->email) != 0) ||
        (o->form == NULL && o->client_id != NULL && r->client_id != NULL &&
         strcmp(o->client_id, r->client_id) != 0))
        return false;
    /* a key asked for by another label or type is another order */
    if (o->label != NULL &&
        (r->key_label == NULL || strcmp(o->label, r->key_label) != 0))
        return false;
    if (o->key_type != NULL && r->key_type != NULL &&
        strcmp(o->key_type, r->key_type) != 0)
        return false;
    return o->key_id == NULL ||
           (r->key_id_hex != NULL && strcmp(o->key_id, r->key_id_hex) == 0);
}

/* The newest record of dir for o's order that want accepts (its id). */
static bool find_order(const char *dir, const struct enroll_opts *o,
                       bool (*want)(const struct journal_rec *r), char *id,
                       size_t idsz)
{
    struct journal_list *list = NULL;
    bool found = false;
    size_t i;

    if (journal_list(dir, &list) != PE_OK)
        return false;
    for (i = list->n; i-- > 0 && !found;) {
        if (!want(list->v[i]) || !same_order(list->v[i], o))
            continue;
        snprintf(id, idsz, "%s", list->v[i]->id);
        found = true;
    }
    journal_list_free(list);
    return found;
}

static bool unfinished(const struct journal_rec *r)
{
    return !journal_status_final(r->status);
}

static bool installed_valid(const struct journal_rec *r)
{
    time_t t;

    return r->status == JOURNAL_INSTALLED && r->cert_expires != NULL &&
           util_time_parse(r->cert_expires, &t) && t > time(NULL);
}

bool enroll_find_unfinished(const char *dir, const struct enroll_opts *o,
                            char *id, size_t idsz)
{
    return find_order(dir, o, unfinished, id, idsz);
}

bool enroll_find_installed(const char *dir, const struct enroll_opts *o,
                           char *id, size_t idsz)
{
    return find_order(dir, o, installed_valid, id, idsz);
}
