/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_form.c - SCM's code-signing self-enrollment form with an e-mail
 * invitation (docs/PROTOCOL.md section 2).
 *
 * Every wire detail of the form is here: auth/email sends a one-time code
 * to the invited address, auth/verify trades it for a session (a bearer
 * token), config describes organization, department, terms and the EULA,
 * enroll takes the CSR and the fields, certificates/{id}[/status] as in the
 * REST API.  The code comes from the person (ca_ui.get_code); the terms are
 * shown to the person (ca_ui.accept_terms) before anything is made.
 */
#include "ca.h"
#include "ca_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "log.h"

/* auth/verify: wrong code, more tries left (docs/PROTOCOL.md) */
#define FORM_WRONG_CODE (-970)
#define SESSION_MAX     8192
#define TERMS_MAX       16
#define EULA_MAX        (64 * 1024)
#define FIELD_MAX       256

struct form {
    struct secret *session;
    time_t session_expires;
    bool terms_ok;
    long terms[TERMS_MAX];
    size_t nterms;
    long default_term;
    char *eula_id;
    char *first_name, *last_name; /* of the invited person, from config */
};

static struct form *F(struct ca *ca)
{
    return ca->impl;
}

/* POST/GET path under the form URL with an optional JSON body. */
static enum pe_rc form_req(struct ca *ca, const char *method, const char *path,
                           json_t *body, bool secret_body, bool with_session,
                           struct http_response *resp)
{
    struct http_request req = {0};
    char *url = NULL, *text = NULL;
    enum pe_rc rc;

    rc = ca_url_join(ca->cfg.url, path, &url);
    if (rc != PE_OK)
        return rc;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
        req.content_type = "application/json";
        req.body = text;
        req.body_len = strlen(text);
    }
    req.method = method;
    req.url = url;
    req.accept = strncmp(path, "certificates/", 13) == 0 &&
                         strstr(path, "/status") == NULL
                     ? "application/x-pem-file, application/pkcs7-mime, */*"
                     : "application/json";
    req.body_secret = secret_body;
    req.answer_secret = secret_body;
    if (with_session)
        req.bearer = F(ca)->session != NULL ? F(ca)->session->buf : NULL;
    rc = ca_http(ca, &req, strcmp(method, "GET") == 0, resp);
out:
    if (text != NULL) {
        if (secret_body)
            OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    free(url);
    return rc;
}

/* A non-2xx answer as one sentence (a ca_fail_fn). */
static enum pe_rc form_fail(const struct http_response *p, const char *what,
                            enum pe_rc final)
{
    char desc[256];
    long code = 0;
    enum pe_rc rc;

    if (ca_fail_transient(p, "The form", what, &code, desc, sizeof(desc), &rc))
        return rc;
    if (p->status == 401 || p->status == 403)
        final = PE_E_CA_AUTH;
    return pe_failf(final, "The form refused %s: %s", what,
                    ca_text_clean(desc, false));
}

/*
 * The answer to auth/email, the first request to --form, when it says the
 * URL is no form: 404 or 405 (a path the server does not know), or a
 * refusal that is not a form's JSON error (a web page).  The sentence
 * names the URL: the e-mail address is not what is wrong.
 */
static bool form_not_there(const struct ca *ca, const struct http_response *p,
                           enum pe_rc *prc)
{
    char desc[256] = "";
    long code = 0;
    bool json = ca_parse_error(p->body, p->len, &code, desc, sizeof(desc));

    if (p->status != 404 && p->status != 405 &&
        (json || ca_retry_later(p->status, 0)))
        return false;
    *prc = pe_failf(PE_E_CONFIG,
                    "%s is not an enrollment form (HTTP %ld%s%s); give "
                    "--form the form's URL from the invitation, e.g. "
                    "https://cert-manager.com/customer/NAME/cs/FORM.",
                    ca->cfg.url, p->status, json ? ": " : "",
                    json ? ca_text_clean(desc, false) : "");
    return true;
}

/* The code of the person (*pcode) traded at auth/verify; the answer in
 * *presp, the request's body in *pbody (wiped by the caller). */
static enum pe_rc form_verify(struct ca *ca, struct secret **pcode,
                              json_t **pbody, struct http_response *presp)
{
    enum pe_rc rc;

    rc = ca->cfg.ui.get_code(ca->cfg.ui.arg, ca->cfg.email, pcode);
    if (rc != PE_OK)
        return rc;
    *pbody = json_pack("{s:s, s:s%}", "email", ca->cfg.email, "code",
                       (*pcode)->buf, (*pcode)->len);
    if (*pbody == NULL)
        return PE_E_NOMEM;
    rc = form_req(ca, "POST", "auth/verify", *pbody, true, false, presp);
    if (rc == PE_OK && presp->status != 200)
        rc = form_fail(presp, "the one-time code", PE_E_CA_AUTH);
    return rc;
}

/* A wrong code (SCM error -970) that a person typed and may type again. */
static bool form_code_again(struct ca *ca, const struct http_response *p)
{
    char desc[8];
    long code = 0;

    return ca->cfg.ui.code_typed && p->status == 401 &&
           ca_parse_error(p->body, p->len, &code, desc, sizeof(desc)) &&
           code == FORM_WRONG_CODE;
}

/* The form's words on a refused code, for the person to read. */
static void form_say_refusal(const struct http_response *p)
{
    char desc[256];
    long code = 0;

    ca_parse_error(p->body, p->len, &code, desc, sizeof(desc));
    say("The form refused the code: %s", desc);
}

/* e-mail -> one-time code -> session. */
static enum pe_rc form_login(struct ca *ca)
{
    struct form *f = F(ca);
    struct http_response resp = {0};
    struct secret *code = NULL;
    json_t *body = NULL, *j = NULL;
    const char *sess;
    long expires;
    enum pe_rc rc;

    if (f->session != NULL && time(NULL) < f->session_expires)
        return PE_OK;
    if (ca->cfg.email == NULL || ca->cfg.email[0] == '\0')
        return pe_failf(PE_E_USAGE, "The form needs your invited e-mail "
                                    "address (--email).");
    if (ca->cfg.ui.get_code == NULL)
        return pe_failf(PE_E_USAGE, "The form needs the one-time code from "
                                    "the e-mail (--otp-file, or a terminal).");
    body = json_pack("{s:s}", "email", ca->cfg.email);
    if (body == NULL)
        return PE_E_NOMEM;
    rc = form_req(ca, "POST", "auth/email", body, false, false, &resp);
    json_decref(body);
    body = NULL;
    if (rc != PE_OK)
        goto out;
    if ((resp.status < 200 || resp.status > 299) &&
        !form_not_there(ca, &resp, &rc))
        rc = form_fail(&resp, "the e-mail address", PE_E_CA_AUTH);
    if (resp.status < 200 || resp.status > 299)
        goto out;
    http_response_clear(&resp);
    say("A one-time code was sent to %s.", ca->cfg.email);
    for (;;) {
        rc = form_verify(ca, &code, &body, &resp);
        if (rc == PE_OK || !form_code_again(ca, &resp))
            break;
        /* a mistyped code: the form allows more tries, so ask again */
        form_say_refusal(&resp);
        json_string_set(json_object_get(body, "code"), "");
        json_decref(body);
        body = NULL;
        secret_free(code);
        code = NULL;
        http_response_clear(&resp);
    }
    if (rc != PE_OK)
        goto out;
    rc = ca_json_object(&resp, "the one-time code", &j);
    if (rc == PE_OK)
        rc = ca_json_str(j, "session", SESSION_MAX, true, "the one-time code",
                         &sess);
    if (rc == PE_OK)
        rc = ca_json_long(j, "expires_in", 1, 86400 * 31, 600,
                          "the one-time code", &expires);
    if (rc != PE_OK)
        goto out;
    secret_free(f->session);
    f->session = NULL;
    rc = secret_from_bytes(sess, strlen(sess), &f->session);
    if (rc != PE_OK)
        goto out;
    f->session_expires = time(NULL) + (expires > 30 ? expires - 10 : expires);
    log_debug(LOG_CAT_HTTP, "form session: *** (valid %ld s)", expires);
out:
    if (json_is_string(json_object_get(j, "session")))
        json_string_set(json_object_get(j, "session"), "");
    if (json_is_string(json_object_get(body, "code")))
        json_string_set(json_object_get(body, "code"), "");
    json_decref(j);
    json_decref(body);
    secret_free(code);
    http_response_clear(&resp);
    return rc;
}

/* Member key of obj, if a string, replaced by ca_text_clean's copy: the
 * form's words (the EULA above all) are printed on the terminal. */
static enum pe_rc form_clean(json_t *obj, const char *key, bool multiline)
{
    const char *v = json_string_value(json_object_get(obj, key));
    char *copy;
    int bad;

    if (v == NULL)
        return PE_OK;
    copy = strdup(v);
    if (copy == NULL)
        return PE_E_NOMEM;
    bad = json_object_set_new(obj, key,
                              json_string(ca_text_clean(copy, multiline)));
    free(copy);
    return bad == 0 ? PE_OK : PE_E_NOMEM;
}

/* Parse the form's config into f and the terms shown to the person. */
static enum pe_rc form_parse_config(struct form *f, json_t *j,
                                    struct ca_terms *t)
{
    static const char *const what = "the form configuration";
    const char *eula_id = NULL, *first = NULL, *last = NULL;
    json_t *terms, *v, *person;
    size_t i;
    enum pe_rc rc;

    memset(t, 0, sizeof(*t));
    rc = form_clean(j, "organization", false);
    if (rc == PE_OK)
        rc = form_clean(j, "department", false);
    if (rc == PE_OK)
        rc = form_clean(j, "profile", false);
    if (rc == PE_OK)
        rc = form_clean(j, "eulaText", true);
    if (rc == PE_OK)
        rc = form_clean(json_object_get(j, "person"), "firstName", false);
    if (rc == PE_OK)
        rc = form_clean(json_object_get(j, "person"), "lastName", false);
    if (rc != PE_OK)
        return rc;
    rc = ca_json_str(j, "organization", FIELD_MAX, false, what,
                     &t->organization);
    if (rc == PE_OK)
        rc = ca_json_str(j, "department", FIELD_MAX, false, what,
                         &t->department);
    if (rc == PE_OK)
        rc = ca_json_str(j, "profile", FIELD_MAX, false, what, &t->profile);
    if (rc == PE_OK)
        rc = ca_json_str(j, "eulaId", FIELD_MAX, false, what, &eula_id);
    if (rc == PE_OK)
        rc = ca_json_str(j, "eulaText", EULA_MAX, false, what, &t->eula_text);
    if (rc == PE_OK)
        rc = ca_json_long(j, "defaultTerm", 0, 3650, 0, what, &f->default_term);
    if (rc != PE_OK)
        return rc;
    terms = json_object_get(j, "terms");
    if (terms != NULL && !json_is_array(terms))
        return pe_failf(PE_E_CA_PROTOCOL, "In %s, \"terms\" is not a list.",
                        what);
    f->nterms = 0;
    json_array_foreach(terms, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            json_integer_value(v) > 3650 || f->nterms >= TERMS_MAX)
            return pe_failf(PE_E_CA_PROTOCOL,
                            "In %s, \"terms\" holds an unusable value.", what);
        f->terms[f->nterms++] = (long)json_integer_value(v);
    }
    if (f->default_term == 0 && f->nterms > 0)
        f->default_term = f->terms[0];
    person = json_object_get(j, "person");
    if (json_is_object(person)) {
        rc = ca_json_str(person, "firstName", FIELD_MAX, false, what, &first);
        if (rc == PE_OK)
            rc = ca_json_str(person, "lastName", FIELD_MAX, false, what, &last);
        if (rc != PE_OK)
            return rc;
    }
    free(f->eula_id);
    free(f->first_name);
    free(f->last_name);
    f->eula_id = eula_id != NULL ? strdup(eula_id) : NULL;
    f->first_name = first != NULL ? strdup(first) : NULL;
    f->last_name = last != NULL ? strdup(last) : NULL;
    if ((eula_id != NULL && f->eula_id == NULL) ||
        (first != NULL && f->first_name == NULL) ||
        (last != NULL && f->last_name == NULL))
        return PE_E_NOMEM;
    t->terms = f->terms;
    t->nterms = f->nterms;
    t->default_term = f->default_term;
    t->eula_id = f->eula_id;
    t->first_name = f->first_name;
    t->last_name = f->last_name;
    return PE_OK;
}

static enum pe_rc form_prepare(struct ca *ca)
{
    struct form *f = F(ca);
    struct http_response resp = {0};
    struct ca_terms t;
    json_t *j = NULL;
    enum pe_rc rc;

    rc = form_login(ca);
    if (rc != PE_OK || f->terms_ok)
        return rc;
    rc = form_req(ca, "GET", "config", NULL, false, true, &resp);
    if (rc != PE_OK)
        goto out;
    if (resp.status != 200) {
        rc = form_fail(&resp, "the request for its configuration",
                       PE_E_CA_PROTOCOL);
        goto out;
    }
    rc = ca_json_object(&resp, "the form configuration", &j);
    if (rc == PE_OK)
        rc = form_parse_config(f, j, &t);
    if (rc != PE_OK)
        goto out;
    rc = ca->cfg.ui.accept_terms != NULL
             ? ca->cfg.ui.accept_terms(ca->cfg.ui.arg, &t)
             : pe_failf(PE_E_USAGE, "The EULA must be accepted.");
    if (rc == PE_OK)
        f->terms_ok = true;
out:
    json_decref(j);
    http_response_clear(&resp);
    return rc;
}

/* A term the form allows: the one asked for, else the form's default. */
static enum pe_rc form_term(const struct form *f, long asked, long *pterm)
{
    size_t i;

    *pterm = asked > 0 ? asked : f->default_term;
    if (f->nterms == 0 || *pterm == 0)
        return PE_OK;
    for (i = 0; i < f->nterms; i++)
        if (f->terms[i] == *pterm)
            return PE_OK;
    return pe_failf(PE_E_USAGE,
                    "The form does not offer a term of %ld days (it offers "
                    "%ld%s).",
                    *pterm, f->terms[0], f->nterms > 1 ? " and others" : "");
}

static enum pe_rc form_submit(struct ca *ca, const struct ca_request *rq,
                              char **pid)
{
    struct form *f = F(ca);
    struct http_response resp = {0};
    json_t *body = NULL, *j = NULL;
    const char *id = NULL;
    char *csr = NULL;
    long term = 0;
    enum pe_rc rc;

    *pid = NULL;
    rc = form_prepare(ca);
    if (rc == PE_OK)
        rc = form_term(f, rq->term, &term);
    if (rc == PE_OK)
        rc = ca_b64(rq->csr_der, rq->csr_len, &csr);
    if (rc != PE_OK)
        goto out;
    body = json_pack("{s:s, s:b}", "csr", csr, "eulaAccepted", 1);
    if (body == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    if (term > 0)
        json_object_set_new(body, "term", json_integer(term));
#define OPT_FIELD(name, val, dflt)                                             \
    if ((val) != NULL && (val)[0] != '\0')                                     \
        json_object_set_new(body, name, json_string(val));                     \
    else if ((dflt) != NULL && (dflt)[0] != '\0')                              \
    json_object_set_new(body, name, json_string(dflt))
    OPT_FIELD("firstName", rq->first_name, f->first_name);
    OPT_FIELD("lastName", rq->last_name, f->last_name);
    OPT_FIELD("title", rq->title, (const char *)NULL);
    OPT_FIELD("sanEmailAddress", rq->san_email, ca->cfg.email);
    OPT_FIELD("eulaId", f->eula_id, (const char *)NULL);
    OPT_FIELD("hsmType", rq->hsm_type, (const char *)NULL);
    OPT_FIELD("attestation", rq->attestation_b64, (const char *)NULL);
#undef OPT_FIELD
    rc = form_req(ca, "POST", "enroll", body, false, true, &resp);
    if (rc != PE_OK)
        goto out;
    if (resp.status < 200 || resp.status > 299) {
        rc = form_fail(&resp, "the enrollment", PE_E_REJECTED);
        goto out;
    }
    rc = ca_json_object(&resp, "the enrollment", &j);
    if (rc == PE_OK)
        rc = ca_json_str(j, "certId", CA_ID_MAX, true, "the enrollment", &id);
    if (rc != PE_OK)
        goto out;
    if (!ca_text_id_ok(id)) {
        rc = pe_failf(PE_E_CA_PROTOCOL, "The form's answer to the enrollment "
                                        "has no usable certId.");
        goto out;
    }
    *pid = strdup(id);
    rc = *pid != NULL ? PE_OK : PE_E_NOMEM;
out:
    json_decref(body);
    json_decref(j);
    free(csr);
    http_response_clear(&resp);
    return rc;
}

/* GET certificates/<id><suffix> with a session; a new one after a 401. */
static enum pe_rc form_get(struct ca *ca, const char *id, const char *suffix,
                           struct http_response *resp)
{
    char path[200];
    enum pe_rc rc;
    int round;

    if (!ca_text_id_ok(id))
        return pe_failf(PE_E_STATE, "The request id \"%.70s\" is not valid.",
                        id);
    snprintf(path, sizeof(path), "certificates/%s%s", id, suffix);
    for (round = 0; round < 2; round++) {
        rc = form_login(ca);
        if (rc != PE_OK)
            return rc;
        rc = form_req(ca, "GET", path, NULL, false, true, resp);
        if (rc != PE_OK || resp->status != 401 || round == 1)
            return rc;
        log_info("The form session ended; confirming the e-mail again.");
        http_response_clear(resp);
        secret_free(F(ca)->session);
        F(ca)->session = NULL;
    }
    return rc;
}

static enum pe_rc form_poll(struct ca *ca, const char *id, struct ca_status *st)
{
    struct http_response resp = {0};
    enum pe_rc rc;

    memset(st, 0, sizeof(*st));
    st->retry_after = -1;
    rc = form_get(ca, id, "/status", &resp);
    if (rc == PE_OK)
        rc = ca_status_answer(&resp, form_fail, st);
    ca_text_clean(st->word, false);
    ca_text_clean(st->reason, false);
    http_response_clear(&resp);
    return rc;
}

static enum pe_rc form_download(struct ca *ca, const char *id,
                                unsigned char **pbuf, size_t *plen,
                                struct ca_status *st)
{
    struct http_response resp = {0};
    char suffix[64] = "";
    enum pe_rc rc;

    *pbuf = NULL;
    *plen = 0;
    if (ca->cfg.format != NULL)
        snprintf(suffix, sizeof(suffix), "?format=%.40s", ca->cfg.format);
    rc = form_get(ca, id, suffix, &resp);
    if (rc == PE_OK)
        rc = ca_download_answer(&resp, form_fail, pbuf, plen, st);
    if (st != NULL) {
        ca_text_clean(st->word, false);
        ca_text_clean(st->reason, false);
    }
    http_response_clear(&resp);
    return rc;
}

static void form_free(struct ca *ca)
{
    struct form *f = F(ca);

    if (f == NULL)
        return;
    secret_free(f->session);
    free(f->eula_id);
    free(f->first_name);
    free(f->last_name);
    free(f);
    ca->impl = NULL;
}

static const struct ca_ops form_ops = {
    .name = "form",
    .prepare = form_prepare, /* asks for the e-mailed code and the terms */
    .submit = form_submit,
    .poll = form_poll,
    .download = form_download,
    .free = form_free,
};

enum pe_rc ca_form_init(struct ca *ca)
{
    struct form *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return PE_E_NOMEM;
    ca->impl = f;
    ca->ops = &form_ops;
    if (!http_url_is_https(ca->cfg.url))
        return pe_failf(PE_E_CONFIG,
                        "The form URL must be https:// (it carries one-time "
                        "codes and sessions): \"%s\".",
                        ca->cfg.url);
    return PE_OK;
}
