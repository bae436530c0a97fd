/* SPDX-License-Identifier: Apache-2.0 */
/*
 * form.c - the code-signing self-enrollment form with an e-mail invitation
 * (docs/PROTOCOL.md section 2): one-time code by "mail" (an .eml file in
 * outbox/), session, form config, enroll, status, download.
 */
#include "auth.h"
#include "config.h"
#include "handlers.h"
#include "issue.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The form of path and the rest after "<form>/"; NULL if none matches. */
static json_t *form_of(struct sim *s, const char *path, const char **prest)
{
    char prefix[256], uri[64];
    size_t n;

    snprintf(prefix, sizeof(prefix), "/customer/%s/cs/",
             config_str(s->cfg, "customerUri"));
    if (strncmp(path, prefix, strlen(prefix)) != 0)
        return NULL;
    path += strlen(prefix);
    n = strcspn(path, "/");
    if (n == 0 || n >= sizeof(uri))
        return NULL;
    memcpy(uri, path, n);
    uri[n] = '\0';
    *prest = path[n] == '/' ? path + n + 1 : path + n;
    return config_find(s->cfg, "forms", "uri", uri, 0);
}

bool form_match(struct sim *s, const char *path)
{
    char prefix[256];

    snprintf(prefix, sizeof(prefix), "/customer/%s/cs/",
             config_str(s->cfg, "customerUri"));
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Write the one-time code mail into outbox/; 0 or -1. */
static int send_code(struct sim *s, const json_t *form, const char *email,
                     const char *code)
{
    static unsigned long seq;
    json_t *person = config_find(s->cfg, "persons", "email", email, 1);
    char date[64], stamp[32], safe[128], *path = NULL, *text = NULL;
    time_t now = util_now();
    struct tm tm;
    size_t i;
    int rc;

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    for (i = 0; email[i] != '\0' && i < sizeof(safe) - 1; i++)
        safe[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
                         "Z0123456789@.-_",
                         email[i]) != NULL
                      ? email[i]
                      : '_';
    safe[i] = '\0';
    path = util_printf("%s/outbox/%s-%04lu-%s.eml", s->state_dir, stamp, ++seq,
                       safe);
    text = util_printf(
        "From: Sectigo Certificate Manager (scm-sim) "
        "<no-reply@scm-sim.invalid>\r\n"
        "To: <%s>\r\n"
        "Subject: Your one-time code for the %s code signing enrollment\r\n"
        "Date: %s\r\n"
        "Message-ID: <%s.%lu@scm-sim.invalid>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Hello %s %s,\r\n\r\n"
        "to confirm your e-mail address, enter this one-time code in the\r\n"
        "enrollment form:\r\n\r\n"
        "One-time code: %s\r\n\r\n"
        "The code is valid for %ld minutes.  The form is at\r\n"
        "%s/customer/%s/cs/%s\r\n",
        email, config_str(s->cfg, "organization"), date, stamp, seq,
        config_member(person, "firstName", ""),
        config_member(person, "lastName", ""), code,
        (s->cfg->otp_lifetime + 59) / 60, s->base_url,
        config_str(s->cfg, "customerUri"), config_member(form, "uri", ""));
    rc = path != NULL && text != NULL
             ? util_write_file(path, text, strlen(text), false)
             : -1;
    if (text != NULL)
        OPENSSL_cleanse(text, strlen(text));
    free(text);
    free(path);
    return rc;
}

static void auth_email(struct sim *s, const struct sim_req *rq,
                       const json_t *form, struct sim_reply *rp)
{
    json_t *body = reply_parse_body(rq, rp);
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *uri = config_member(form, "uri", "");
    char code[7];
    long wait = 0;
    int made = -1;

    if (body == NULL)
        return;
    if (email == NULL || !util_valid_email(email)) {
        reply_error(rp, 400, -7, "email is required: an e-mail address");
    } else if (config_invitation(s->cfg, uri, email) == NULL) {
        reply_error(rp, 403, -16,
                    "There is no invitation for %s on this "
                    "enrollment form",
                    email);
    } else if ((made = auth_otp_new(s->auth, uri, email, s->cfg->otp_lifetime,
                                    s->cfg->otp_tries, s->cfg->otp_per_hour,
                                    code, &wait)) == -2) {
        reply_error(rp, 429, -1400,
                    "Too many one-time codes or wrong tries for %s; try "
                    "again later",
                    email);
        rp->retry_after = wait;
        rp->note = "otp-rate-limit";
    } else if (made != 0 || send_code(s, form, email, code) != 0) {
        reply_error(rp, 503, -195, "cannot send the e-mail now, try later");
    } else {
        reply_json(rp, 202,
                   json_pack("{s:s, s:I}", "status", "sent", "expires_in",
                             (json_int_t)s->cfg->otp_lifetime));
        OPENSSL_cleanse(code, sizeof(code));
    }
    json_decref(body);
}

static void auth_verify(struct sim *s, const struct sim_req *rq,
                        const json_t *form, struct sim_reply *rp)
{
    json_t *body = reply_parse_body(rq, rp);
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *code = json_string_value(json_object_get(body, "code"));
    char realm[128], tok[80], lower[256];
    enum auth_result res;
    long left = 0;
    size_t k;

    if (body == NULL)
        return;
    if (email == NULL || code == NULL) {
        reply_error(rp, 400, -7, "email and code are required");
        goto out;
    }
    /* one owner per person, however the address is spelt */
    snprintf(lower, sizeof(lower), "%s", email);
    for (k = 0; lower[k] != '\0'; k++)
        lower[k] = (char)tolower((unsigned char)lower[k]);
    res = auth_otp_verify(s->auth, config_member(form, "uri", ""), email, code,
                          &left);
    snprintf(realm, sizeof(realm), "form:%s", config_member(form, "uri", ""));
    if (res == AUTH_WRONG) {
        reply_error(rp, 401, -970, "Wrong one-time code; %ld %s left", left,
                    left == 1 ? "try" : "tries");
    } else if (res == AUTH_EXPIRED) {
        reply_error(rp, 401, -971,
                    "The one-time code has expired; "
                    "request a new one");
    } else if (res != AUTH_OK) {
        reply_error(rp, 401, -971,
                    "The one-time code is no longer valid "
                    "(too many wrong tries, or none was sent); request a "
                    "new one");
    } else if (auth_issue(s->auth, realm, lower, s->cfg->session_lifetime, tok,
                          sizeof(tok)) == NULL) {
        reply_error(rp, 503, -195, "session store full, try later");
    } else {
        reply_json(rp, 200,
                   json_pack("{s:s, s:s, s:I}", "session", tok, "token_type",
                             "Bearer", "expires_in",
                             (json_int_t)s->cfg->session_lifetime));
        rp->no_store = true;
        OPENSSL_cleanse(tok, sizeof(tok));
    }
out:
    json_decref(body);
}

/* The session's e-mail address, or NULL with a 401 in rp. */
static const char *session_of(struct sim *s, const struct sim_req *rq,
                              const json_t *form, struct sim_reply *rp)
{
    const char *email = NULL;
    enum auth_result res;
    char realm[128];

    snprintf(realm, sizeof(realm), "form:%s", config_member(form, "uri", ""));
    res = auth_check(s->auth, realm, rq->auth, &email);
    if (res == AUTH_OK)
        return email;
    rp->www_auth =
        util_printf("Bearer realm=\"scm-sim form\"%s",
                    rq->auth != NULL ? ", error=\"invalid_token\"" : "");
    reply_error(rp, 401, -3,
                res == AUTH_EXPIRED
                    ? "The session has expired; confirm your e-mail address "
                      "again"
                    : "Not authorized: confirm your e-mail address first "
                      "(auth/email, auth/verify)");
    return NULL;
}

static void form_config(struct sim *s, const struct sim_req *rq,
                        const json_t *form, struct sim_reply *rp)
{
    json_t *profile = config_find(s->cfg, "profiles", "name",
                                  config_member(form, "profile", ""), 0);
    json_t *terms = json_object_get(profile, "terms"), *out, *req, *person;
    const char *email = NULL;
    char realm[128];

    req = json_deep_copy(json_object_get(form, "requiredFields"));
    if (req == NULL)
        req = json_array();
    json_array_append_new(req, json_string("eulaAccepted"));
    out = json_pack(
        "{s:s, s:s, s:s, s:O, s:I, s:o, s:s, s:s, s:b}", "organization",
        config_str(s->cfg, "organization"), "department",
        config_member(form, "department", ""), "profile",
        config_member(form, "profile", ""), "terms", terms, "defaultTerm",
        json_integer_value(json_array_get(terms, 0)), "requiredFields", req,
        "eulaId", config_member(form, "eulaId", "scm-sim-eula-1"), "eulaText",
        config_member(form, "eulaText", ""), "keyAttestation",
        json_is_true(json_object_get(profile, "keyAttestation")));
    snprintf(realm, sizeof(realm), "form:%s", config_member(form, "uri", ""));
    if (out != NULL &&
        auth_check(s->auth, realm, rq->auth, &email) == AUTH_OK) {
        person = config_find(s->cfg, "persons", "email", email, 1);
        json_object_set_new(
            out, "person",
            json_pack("{s:s, s:s, s:s}", "email", email, "firstName",
                      config_member(person, "firstName", ""), "lastName",
                      config_member(person, "lastName", "")));
    }
    reply_json(rp, 200, out);
}

/* Check the form-only rules: required fields, EULA, term. */
static int check_enroll(struct sim *s, const json_t *form, const json_t *body,
                        struct sim_reply *rp)
{
    json_t *profile = config_find(s->cfg, "profiles", "name",
                                  config_member(form, "profile", ""), 0);
    json_t *term = json_object_get(body, "term"), *el, *v;
    const char *eula = json_string_value(json_object_get(body, "eulaId"));
    size_t i;

    json_array_foreach(json_object_get(form, "requiredFields"), i, el)
    {
        v = json_object_get(body, json_string_value(el));
        if (v == NULL || json_is_null(v) ||
            (json_is_string(v) && json_string_length(v) == 0)) {
            reply_error(rp, 400, -7, "%s is required but missing",
                        json_string_value(el));
            return -1;
        }
    }
    if (!json_is_true(json_object_get(body, "eulaAccepted"))) {
        reply_error(rp, 400, -7,
                    "The EULA must be accepted "
                    "(eulaAccepted: true)");
        return -1;
    }
    if (eula != NULL &&
        strcmp(eula, config_member(form, "eulaId", "scm-sim-eula-1")) != 0) {
        reply_error(rp, 400, -2, "eulaId %.40s is not the EULA of this form",
                    eula);
        return -1;
    }
    if (term != NULL &&
        (!json_is_integer(term) ||
         !config_term_allowed(profile, (long)json_integer_value(term)))) {
        reply_error(rp, 400, -36,
                    "Invalid term for the profile: see "
                    "\"terms\" in the form config");
        return -1;
    }
    return issue_check_fields(body, rp);
}

static void form_enroll(struct sim *s, const struct sim_req *rq,
                        const json_t *form, const char *email,
                        struct sim_reply *rp)
{
    static const char *const copy[] = {
        "firstName", "lastName",    "title", "sanEmailAddress",
        "hsmType",   "attestation", "csr",   NULL};
    json_t *body = reply_parse_body(rq, rp), *rec = NULL, *profile = NULL;
    char *owner = NULL;

    if (body == NULL || check_enroll(s, form, body, rp) != 0 ||
        issue_check_request_csr(s, body, form, &profile, rp) != 0)
        goto out;
    owner = util_printf("form:%s:%s", config_member(form, "uri", ""), email);
    rec = json_pack("{s:s, s:s, s:s}", "owner", owner ? owner : "", "via",
                    "form", "email", email);
    if (owner == NULL || rec == NULL ||
        issue_fill_record(s, body, copy, email, form, rec, rp) != 0)
        goto out;
    json_object_set(rec, "term",
                    json_object_get(body, "term") != NULL
                        ? json_object_get(body, "term")
                        : json_array_get(json_object_get(profile, "terms"), 0));
    issue_submit(s, rq, rec, rp);
out:
    free(owner);
    json_decref(rec);
    json_decref(body);
}

/* certificates/{id}[/status] */
static void form_certificates(struct sim *s, const struct sim_req *rq,
                              const json_t *form, const char *email,
                              const char *rest, struct sim_reply *rp)
{
    char id[32], *owner;
    size_t n = strcspn(rest, "/");

    if (n == 0 || n >= sizeof(id)) {
        reply_error(rp, 404, -105, "Unknown certificate ID");
        return;
    }
    memcpy(id, rest, n);
    id[n] = '\0';
    owner = util_printf("form:%s:%s", config_member(form, "uri", ""), email);
    if (owner == NULL) {
        reply_error(rp, 500, -1, "out of memory");
        return;
    }
    if (strcmp(rest + n, "/status") == 0)
        issue_status(s, owner, id, rp);
    else if (rest[n] == '\0')
        issue_download(s, owner, id, rq->format, rp);
    else
        reply_error(rp, 404, -2, "no such operation");
    free(owner);
}

void form_handle(struct sim *s, const struct sim_req *rq, struct sim_reply *rp)
{
    const char *rest = "", *email;
    bool post = strcmp(rq->method, "POST") == 0;
    bool get = strcmp(rq->method, "GET") == 0;
    json_t *form = form_of(s, rq->path, &rest);

    if (form == NULL) {
        reply_error(rp, 404, -2, "no such enrollment form");
        return;
    }
    if (strcmp(rest, "auth/email") == 0 && post) {
        auth_email(s, rq, form, rp);
    } else if (strcmp(rest, "auth/verify") == 0 && post) {
        auth_verify(s, rq, form, rp);
    } else if (strcmp(rest, "config") == 0 && get) {
        form_config(s, rq, form, rp);
    } else if (strcmp(rest, "enroll") == 0 && post) {
        email = session_of(s, rq, form, rp);
        if (email != NULL)
            form_enroll(s, rq, form, email, rp);
    } else if (strncmp(rest, "certificates/", 13) == 0 && get) {
        email = session_of(s, rq, form, rp);
        if (email != NULL)
            form_certificates(s, rq, form, email, rest + 13, rp);
    } else {
        reply_error(rp, 404, -2, "no such operation on this form");
    }
}
