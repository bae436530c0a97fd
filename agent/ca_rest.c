/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_rest.c - SCM's REST enrollment endpoint (docs/PROTOCOL.md).
 *
 * Every wire detail of that API is here: the paths under /api/v1/
 * certificates, the OAuth 2.0 client-credentials token request (its URL
 * discovered from the authorization_uri of a 401's WWW-Authenticate), the
 * JSON field names, and SCM's error codes.  The client secret travels only
 * in the form body of the token request, over verified HTTPS, and only to
 * a token server the user named (--token-url) or one that
 * ca_rest_check_token_url allows: a hostile endpoint cannot aim it
 * elsewhere.
 */
#include "ca.h"
#include "ca_rest.h"
#include "ca_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"

#define API_PATH "api/v1/certificates"
#define SECTIGO_TOKEN_URL                                                      \
    "https://auth.sso.sectigo.com/auth/realms/apiclients/protocol/"            \
    "openid-connect/token"
#define TOKEN_MAX 8192
#define URL_MAX   2048

struct rest {
    char *token_url;      /* discovered or configured */
    struct secret *token; /* the access token */
    time_t token_expires;
};

static struct rest *R(struct ca *ca)
{
    return ca->impl;
}

static void rest_drop_token(struct rest *r)
{
    secret_free(r->token);
    r->token = NULL;
    r->token_expires = 0;
}

static bool host_is_under(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);

    return strcmp(host, domain) == 0 || (h > d + 1 && host[h - d - 1] == '.' &&
                                         strcmp(host + h - d, domain) == 0);
}

enum pe_rc ca_rest_check_token_url(const char *endpoint, const char *token_url)
{
    char *ehost = NULL, *thost = NULL;
    enum pe_rc rc;

    rc = http_url_host(endpoint, &ehost);
    if (rc == PE_OK)
        rc = http_url_host(token_url, &thost);
    if (rc != PE_OK)
        goto out;
    if (!http_url_is_https(token_url) || strlen(token_url) > URL_MAX) {
        rc = pe_failf(PE_E_CA_AUTH,
                      "The endpoint names a token URL that is not https:// "
                      "(\"%.80s\"); the client secret is not sent there.",
                      token_url);
        goto out;
    }
    if (strcmp(ehost, thost) == 0 ||
        (strcmp(thost, CA_REST_SECTIGO_AUTH_HOST) == 0 &&
         host_is_under(ehost, "sectigo.com"))) {
        rc = PE_OK;
        goto out;
    }
    rc = pe_failf(PE_E_CA_AUTH,
                  "The endpoint %s names the token server %s, which is "
                  "neither its own host nor Sectigo's; the client secret "
                  "is not sent there.  If you trust that server, give its "
                  "token URL with --token-url (or token-url in the config "
                  "file).",
                  ehost, thost);
out:
    free(ehost);
    free(thost);
    return rc;
}

/*
 * Learn the token URL, once a run: the documented status call
 * (docs/PROTOCOL.md) without a token answers 401 with the
 * authorization_uri of WWW-Authenticate.  Request id 0 names no request;
 * the call only reads.
 */
static enum pe_rc rest_discover(struct ca *ca)
{
    struct rest *r = R(ca);
    struct http_request req = {0};
    struct http_response resp = {0};
    char *url = NULL, *uri = NULL;
    enum pe_rc rc;

    rc = ca_url_join(ca->cfg.url, API_PATH "/0/status", &url);
    if (rc != PE_OK)
        return rc;
    req.method = "GET";
    req.url = url;
    req.accept = "application/json";
    rc = ca_http(ca, &req, true, &resp);
    if (rc != PE_OK)
        goto out;
    rc = http_auth_param(resp.www_authenticate, "authorization_uri", &uri);
    if (rc != PE_OK)
        goto out;
    if (uri == NULL) {
        rc = ca_rest_check_token_url(ca->cfg.url, SECTIGO_TOKEN_URL);
        if (rc != PE_OK) {
            rc = pe_failf(PE_E_CA_AUTH,
                          "The endpoint %s named no token server "
                          "(authorization_uri) in its 401; give its token "
                          "URL with --token-url (or token-url in the config "
                          "file).",
                          ca->cfg.url);
            goto out;
        }
        log_info("The endpoint named no authorization_uri; using Sectigo's "
                 "token URL.");
        uri = strdup(SECTIGO_TOKEN_URL);
        if (uri == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
    }
    rc = ca_rest_check_token_url(ca->cfg.url, uri);
    if (rc != PE_OK)
        goto out;
    free(r->token_url);
    r->token_url = uri;
    uri = NULL;
    log_debug(LOG_CAT_HTTP, "token URL: %s", r->token_url);
    rc = PE_OK;
out:
    free(uri);
    free(url);
    http_response_clear(&resp);
    return rc;
}

/* An OAuth error answer as one sentence. */
static enum pe_rc rest_token_error(struct ca *ca, const struct http_response *p)
{
    json_t *j = json_loadb(p->body, p->len, 0, NULL);
    const char *jerr = json_string_value(json_object_get(j, "error"));
    const char *jdesc =
        json_string_value(json_object_get(j, "error_description"));
    char errbuf[64], descbuf[204];
    const char *err = NULL, *desc = NULL;
    enum pe_rc rc;

    /* the server's words reach the terminal: no control characters */
    if (jerr != NULL) {
        snprintf(errbuf, sizeof(errbuf), "%s", jerr);
        err = ca_text_clean(errbuf, false);
    }
    if (jdesc != NULL) {
        snprintf(descbuf, sizeof(descbuf), "%s", jdesc);
        desc = ca_text_clean(descbuf, false);
    }

    if (p->status == 400 || p->status == 401 || p->status == 403)
        rc = pe_failf(PE_E_CA_AUTH,
                      "The token server refused client ID \"%s\": %.60s%s"
                      "%.200s%s.",
                      ca->cfg.client_id, err != NULL ? err : "refused",
                      desc != NULL ? " (" : "", desc != NULL ? desc : "",
                      desc != NULL ? ")" : "");
    else
        rc = pe_failf(ca_retry_later(p->status, 0) ? PE_E_CA_UNREACHABLE
                                                   : PE_E_CA_PROTOCOL,
                      "The token server %s answered HTTP %ld.",
                      R(ca)->token_url, p->status);
    json_decref(j);
    return rc;
}

/* Client credentials -> access token. */
static enum pe_rc rest_get_token(struct ca *ca)
{
    struct rest *r = R(ca);
    struct http_request req = {0};
    struct http_response resp = {0};
    struct secret *body = NULL;
    const struct secret *cs = ca->cfg.client_secret;
    const char *tok;
    json_t *j = NULL;
    long expires;
    enum pe_rc rc;

    if (ca->cfg.client_id == NULL || cs == NULL || cs->buf == NULL)
        return pe_failf(PE_E_USAGE, "The REST endpoint needs --client-id and "
                                    "a client secret (--client-secret-file, "
                                    "-fd or -env).");
    if (r->token_url == NULL) {
        rc = rest_discover(ca);
        if (rc != PE_OK)
            return rc;
    }
    rc = http_form_add(&body, "grant_type", "client_credentials", 18);
    if (rc == PE_OK)
        rc = http_form_add(&body, "client_id", ca->cfg.client_id,
                           strlen(ca->cfg.client_id));
    if (rc == PE_OK)
        rc = http_form_add(&body, "client_secret", cs->buf, cs->len);
    if (rc != PE_OK)
        goto out;
    req.method = "POST";
    req.url = r->token_url;
    req.content_type = "application/x-www-form-urlencoded";
    req.accept = "application/json";
    req.body = body->buf;
    req.body_len = body->len;
    req.body_secret = true;
    req.answer_secret = true;
    /* asking for a token again has no side effect: retry like a GET */
    rc = ca_http(ca, &req, true, &resp);
    if (rc != PE_OK)
        goto out;
    if (resp.status != 200) {
        rc = rest_token_error(ca, &resp);
        goto out;
    }
    rc = ca_json_object(&resp, "the token request", &j);
    if (rc == PE_OK)
        rc = ca_json_str(j, "access_token", TOKEN_MAX, true,
                         "the token request", &tok);
    if (rc == PE_OK)
        rc = ca_json_long(j, "expires_in", 1, 86400 * 366, 300,
                          "the token request", &expires);
    if (rc != PE_OK)
        goto out;
    if (strpbrk(tok, " \r\n\t") != NULL) {
        rc = pe_failf(PE_E_CA_PROTOCOL, "The access token holds spaces.");
        goto out;
    }
    rest_drop_token(r);
    rc = secret_from_bytes(tok, strlen(tok), &r->token);
    if (rc != PE_OK)
        goto out;
    /* renew a little before the server says it ends */
    r->token_expires = time(NULL) + (expires > 30 ? expires - 15 : expires);
    log_debug(LOG_CAT_HTTP, "access token: *** (valid %ld s)", expires);
out:
    if (j != NULL) {
        /* the token's copy inside the JSON tree is not wiped by jansson */
        json_t *t = json_object_get(j, "access_token");
        if (json_is_string(t))
            json_string_set(t, "");
    }
    json_decref(j);
    secret_free(body);
    http_response_clear(&resp);
    return rc;
}

static enum pe_rc rest_ensure_token(struct ca *ca)
{
    struct rest *r = R(ca);

    if (r->token != NULL && time(NULL) < r->token_expires)
        return PE_OK;
    return rest_get_token(ca);
}

/*
 * An authorised call: with the token, and once more with a fresh one when
 * the endpoint answers 401 (expired or revoked token).  The fresh token
 * comes from the same token URL: a 401 cannot move the client secret to
 * another server.
 */
static enum pe_rc rest_call(struct ca *ca, struct http_request *req,
                            bool idempotent, struct http_response *resp)
{
    enum pe_rc rc;
    int round;

    for (round = 0; round < 2; round++) {
        rc = rest_ensure_token(ca);
        if (rc != PE_OK)
            return rc;
        req->bearer = R(ca)->token->buf;
        rc = ca_http(ca, req, idempotent, resp);
        req->bearer = NULL;
        if (rc != PE_OK || resp->status != 401)
            return rc;
        log_info("The endpoint refused the access token; getting a new one.");
        rest_drop_token(R(ca));
        if (round == 0)
            http_response_clear(resp);
    }
    return pe_failf(PE_E_CA_AUTH,
                    "The endpoint %s refuses fresh access tokens for client "
                    "ID \"%s\".",
                    ca->cfg.url, ca->cfg.client_id);
}

/* A non-2xx answer as one sentence and its result code (a ca_fail_fn). */
static enum pe_rc rest_fail(const struct http_response *p, const char *what,
                            enum pe_rc final)
{
    char desc[256];
    long code = 0;
    enum pe_rc rc;

    if (ca_fail_transient(p, "The CA", what, &code, desc, sizeof(desc), &rc))
        return rc;
    return pe_failf(final, "The CA refused %s: %s (code %ld, HTTP %ld).", what,
                    ca_text_clean(desc, false), code, p->status);
}

static enum pe_rc rest_prepare(struct ca *ca)
{
    return rest_ensure_token(ca);
}

/* The JSON text of the enroll body for rq (free()). */
static enum pe_rc rest_enroll_body(const struct ca_request *rq, char **ptext)
{
    json_t *body = NULL;
    char *csr = NULL;
    enum pe_rc rc;

    *ptext = NULL;
    rc = ca_b64(rq->csr_der, rq->csr_len, &csr);
    if (rc != PE_OK)
        return rc;
    body = json_pack("{s:s, s:s}", "csr", csr, "email", rq->email);
    if (body == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
#define OPT_FIELD(name, val)                                                   \
    if ((val) != NULL && (val)[0] != '\0' &&                                   \
        json_object_set_new(body, name, json_string(val)) != 0)                \
        rc = pe_failf(PE_E_USAGE, "The %s is not valid UTF-8.", name);
    OPT_FIELD("firstName", rq->first_name);
    OPT_FIELD("lastName", rq->last_name);
    OPT_FIELD("title", rq->title);
    OPT_FIELD("sanEmailAddress", rq->san_email);
    OPT_FIELD("hsmType", rq->hsm_type);
    OPT_FIELD("attestation", rq->attestation_b64);
#undef OPT_FIELD
    if (rc != PE_OK)
        goto out;
    *ptext = json_dumps(body, JSON_COMPACT);
    rc = *ptext != NULL ? PE_OK : PE_E_NOMEM;
out:
    json_decref(body);
    free(csr);
    return rc;
}

/* The request id of an enroll answer (*pid, free()). */
static enum pe_rc rest_cert_id(json_t *j, char **pid)
{
    json_t *v;
    const char *id;

    /* certId is a string in the spec; some tenants send a number or "id" */
    v = json_object_get(j, "certId");
    if (v == NULL)
        v = json_object_get(j, "id");
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *pid = malloc(24);
        if (*pid == NULL)
            return PE_E_NOMEM;
        snprintf(*pid, 24, "%lld", (long long)json_integer_value(v));
        return PE_OK;
    }
    id = json_string_value(v);
    if (!ca_text_id_ok(id))
        return pe_failf(PE_E_CA_PROTOCOL, "The CA's answer to the enrollment "
                                          "has no usable certId.");
    *pid = strdup(id);
    return *pid != NULL ? PE_OK : PE_E_NOMEM;
}

static enum pe_rc rest_submit(struct ca *ca, const struct ca_request *rq,
                              char **pid)
{
    struct http_request req = {0};
    struct http_response resp = {0};
    char *url = NULL, *text = NULL;
    json_t *j = NULL;
    enum pe_rc rc;

    *pid = NULL;
    if (rq->email == NULL || rq->email[0] == '\0')
        return pe_failf(PE_E_USAGE, "The REST endpoint needs the applicant's "
                                    "e-mail address (--email).");
    rc = rest_enroll_body(rq, &text);
    if (rc == PE_OK)
        rc = ca_url_join(ca->cfg.url, API_PATH, &url);
    if (rc != PE_OK)
        goto out;
    req.method = "POST";
    req.url = url;
    req.content_type = "application/json";
    req.accept = "application/json";
    req.body = text;
    req.body_len = strlen(text);
    rc = rest_call(ca, &req, false, &resp);
    if (rc != PE_OK)
        goto out;
    if (resp.status == 404) {
        /* the API answers a refusal with 400 and an SCM error code; a 404
         * means the endpoint's URL is not the API's base */
        rc = pe_failf(PE_E_CONFIG,
                      "%s answers 404: %s is not the base URL of a REST "
                      "enrollment endpoint.  Give --endpoint as "
                      "https://<customer>.enroll.<region>.sectigo.com, "
                      "without a path (docs/PROTOCOL.md).",
                      url, ca->cfg.url);
        goto out;
    }
    if (resp.status < 200 || resp.status > 299) {
        rc = rest_fail(&resp, "the enrollment", PE_E_REJECTED);
        goto out;
    }
    rc = ca_json_object(&resp, "the enrollment", &j);
    if (rc == PE_OK)
        rc = rest_cert_id(j, pid);
out:
    json_decref(j);
    free(text);
    free(url);
    http_response_clear(&resp);
    return rc;
}

/* The URL of request id + suffix under API_PATH (*purl, free()). */
static enum pe_rc rest_cert_url(struct ca *ca, const char *id,
                                const char *suffix, char **purl)
{
    char path[200];

    *purl = NULL;
    if (!ca_text_id_ok(id))
        return pe_failf(PE_E_STATE, "The request id \"%.70s\" is not valid.",
                        id);
    snprintf(path, sizeof(path), "%s/%s%s", API_PATH, id, suffix);
    return ca_url_join(ca->cfg.url, path, purl);
}

/* Status of id; a retry-later answer is pending with retry_after. */
static enum pe_rc rest_poll(struct ca *ca, const char *id, struct ca_status *st)
{
    struct http_request req = {0};
    struct http_response resp = {0};
    char *url = NULL;
    enum pe_rc rc;

    memset(st, 0, sizeof(*st));
    st->retry_after = -1;
    rc = rest_cert_url(ca, id, "/status", &url);
    if (rc != PE_OK)
        return rc;
    req.method = "GET";
    req.url = url;
    req.accept = "application/json";
    rc = rest_call(ca, &req, true, &resp);
    if (rc == PE_OK)
        rc = ca_status_answer(&resp, rest_fail, st);
    ca_text_clean(st->word, false);
    ca_text_clean(st->reason, false);
    free(url);
    http_response_clear(&resp);
    return rc;
}

static enum pe_rc rest_download(struct ca *ca, const char *id,
                                unsigned char **pbuf, size_t *plen,
                                struct ca_status *st)
{
    struct http_request req = {0};
    struct http_response resp = {0};
    char suffix[64] = "", *url = NULL;
    enum pe_rc rc;

    *pbuf = NULL;
    *plen = 0;
    if (ca->cfg.format != NULL)
        snprintf(suffix, sizeof(suffix), "?format=%.40s", ca->cfg.format);
    rc = rest_cert_url(ca, id, suffix, &url);
    if (rc != PE_OK)
        return rc;
    req.method = "GET";
    req.url = url;
    req.accept = "application/x-pem-file, application/pem-certificate-chain, "
                 "application/pkcs7-mime, */*";
    rc = rest_call(ca, &req, true, &resp);
    if (rc == PE_OK)
        rc = ca_download_answer(&resp, rest_fail, pbuf, plen, st);
    if (st != NULL) {
        ca_text_clean(st->word, false);
        ca_text_clean(st->reason, false);
    }
    free(url);
    http_response_clear(&resp);
    return rc;
}

static void rest_free(struct ca *ca)
{
    struct rest *r = R(ca);

    if (r == NULL)
        return;
    rest_drop_token(r);
    free(r->token_url);
    free(r);
    ca->impl = NULL;
}

static const struct ca_ops rest_ops = {
    .name = "rest",
    .prepare = rest_prepare,
    .submit = rest_submit,
    .poll = rest_poll,
    .download = rest_download,
    .free = rest_free,
};

enum pe_rc ca_rest_init(struct ca *ca)
{
    struct rest *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return PE_E_NOMEM;
    ca->impl = r;
    ca->ops = &rest_ops;
    if (!http_url_is_https(ca->cfg.url))
        return pe_failf(PE_E_CONFIG,
                        "The REST endpoint URL must be https:// (it carries "
                        "access tokens): \"%s\".",
                        ca->cfg.url);
    if (ca->cfg.token_url != NULL) {
        if (!http_url_is_https(ca->cfg.token_url))
            return pe_failf(PE_E_CONFIG, "The token URL must be https://.");
        r->token_url = strdup(ca->cfg.token_url);
        if (r->token_url == NULL)
            return PE_E_NOMEM;
    }
    return PE_OK;
}
