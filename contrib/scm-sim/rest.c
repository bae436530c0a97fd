/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rest.c - the REST enrollment endpoint (docs/PROTOCOL.md section 1) and its
 * OAuth 2.0 client-credentials token endpoint.
 */
#include "auth.h"
#include "config.h"
#include "handlers.h"
#include "issue.h"
#include "store.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_PREFIX "/api/v1/certificates"

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void oauth_error(struct sim_reply *rp, unsigned int status,
                        const char *error, const char *desc)
{
    reply_json(
        rp, status,
        json_pack("{s:s, s:s}", "error", error, "error_description", desc));
    rp->no_store = true;
}

/* client_id and client_secret from HTTP Basic (client_secret_basic). */
static void basic_credentials(const char *hdr, char **pid, char **psecret)
{
    unsigned char *dec = NULL;
    char *colon;
    size_t len = 0;

    if (hdr == NULL || strncasecmp(hdr, "Basic ", 6) != 0)
        return;
    dec = util_b64_decode(hdr + 6, strlen(hdr + 6), &len);
    if (dec == NULL)
        return;
    dec[len] = '\0';
    colon = strchr((char *)dec, ':');
    if (colon != NULL) {
        *colon = '\0';
        *pid = strdup((char *)dec);
        *psecret = strdup(colon + 1);
    }
    OPENSSL_cleanse(dec, len);
    free(dec);
}

void rest_token(struct sim *s, const struct sim_req *rq, struct sim_reply *rp)
{
    char *grant = NULL, *id = NULL, *secret = NULL, tok[80];
    json_t *acct;

    if (strcmp(rq->method, "POST") != 0) {
        oauth_error(rp, 405, "invalid_request", "use POST");
        return;
    }
    if (rq->ctype == NULL ||
        strncasecmp(rq->ctype, "application/x-www-form-urlencoded", 33) != 0) {
        oauth_error(rp, 400, "invalid_request",
                    "the body must be application/x-www-form-urlencoded");
        return;
    }
    grant = util_form_value(rq->body, "grant_type");
    basic_credentials(rq->auth, &id, &secret);
    if (id == NULL) {
        id = util_form_value(rq->body, "client_id");
        secret = util_form_value(rq->body, "client_secret");
    }
    if (grant == NULL || strcmp(grant, "client_credentials") != 0) {
        oauth_error(rp, 400, "unsupported_grant_type",
                    "only grant_type=client_credentials is supported");
        goto out;
    }
    acct = config_find(s->cfg, "restAccounts", "clientId", id, 0);
    if (acct == NULL || secret == NULL ||
        !util_secret_eq(config_member(acct, "clientSecret", ""), secret)) {
        oauth_error(rp, 401, "invalid_client",
                    "Invalid client or Invalid client credentials");
        rp->note = "bad-credentials";
        goto out;
    }
    if (auth_issue(s->auth, "rest", id, s->cfg->token_lifetime, tok,
                   sizeof(tok)) == NULL) {
        oauth_error(rp, 503, "temporarily_unavailable", "token store full");
        goto out;
    }
    reply_json(rp, 200,
               json_pack("{s:s, s:s, s:I, s:s}", "access_token", tok,
                         "token_type", "Bearer", "expires_in",
                         (json_int_t)s->cfg->token_lifetime, "scope", ""));
    rp->no_store = true;
    OPENSSL_cleanse(tok, sizeof(tok));
out:
    free(grant);
    free(id);
    wipe_free(secret);
}

/* The token URL a 401 names: our own, or the config's "authorizationUri"
 * (a test of a client that must not follow it to another host). */
char *rest_authorization_uri(const struct sim *s)
{
    const char *given = config_str(s->cfg, "authorizationUri");

    if (given != NULL && given[0] != '\0')
        return util_printf("%s", given);
    return util_printf("%s/oauth2/token", s->base_url);
}

static void unauthorized(struct sim *s, struct sim_reply *rp,
                         enum auth_result res)
{
    char *uri = rest_authorization_uri(s);

    rp->www_auth = util_printf(
        "Bearer authorization_uri=\"%s\"%s", uri != NULL ? uri : "",
        res == AUTH_EXPIRED ? ", error=\"invalid_token\", "
                              "error_description=\"The access token expired\""
                            : "");
    free(uri);
    reply_error(rp, 401, -3,
                res == AUTH_EXPIRED
                    ? "Not authorized: the access token has expired"
                    : "Not authorized: a valid bearer access token is "
                      "required");
}

/* Fill rec from the enroll body and the account; -1 with rp on error. */
static int build_record(struct sim *s, const json_t *body, const json_t *acct,
                        json_t *rec, struct sim_reply *rp)
{
    static const char *const copy[] = {
        "email",   "firstName",   "lastName", "title", "sanEmailAddress",
        "hsmType", "attestation", "csr",      NULL};
    const char *email = json_string_value(json_object_get(body, "email"));
    json_t *profile;

    if (issue_check_fields(body, rp) != 0)
        return -1;
    if (email == NULL || email[0] == '\0') {
        reply_error(rp, 400, -7, "email is required but missing");
        return -1;
    }
    if (issue_check_request_csr(s, body, acct, &profile, rp) != 0 ||
        issue_fill_record(s, body, copy, email, acct, rec, rp) != 0)
        return -1;
    json_object_set(rec, "term", json_object_get(acct, "term"));
    return 0;
}

static void enroll(struct sim *s, const struct sim_req *rq, const char *client,
                   struct sim_reply *rp)
{
    json_t *body = reply_parse_body(rq, rp), *rec = NULL;
    json_t *acct = config_find(s->cfg, "restAccounts", "clientId", client, 0);
    char *owner = util_printf("rest:%s", client);

    if (body == NULL || owner == NULL)
        goto out;
    rec = json_pack("{s:s, s:s}", "owner", owner, "via", "rest");
    if (rec == NULL || build_record(s, body, acct, rec, rp) != 0)
        goto out;
    issue_submit(s, rq, rec, rp);
out:
    json_decref(rec);
    json_decref(body);
    free(owner);
}

static void revoke(struct sim *s, const struct sim_req *rq, const char *owner,
                   const char *id, struct sim_reply *rp)
{
    json_t *body = reply_parse_body(rq, rp), *rec = NULL;
    const char *msg = json_string_value(json_object_get(body, "message"));

    if (body == NULL)
        return;
    if (msg == NULL || msg[0] == '\0' || strlen(msg) > 512) {
        reply_error(rp, 400, -7, "message is required (1..512 characters)");
        goto out;
    }
    rec = store_load(s, id);
    if (rec == NULL || strcmp(config_member(rec, "owner", ""), owner) != 0) {
        reply_error(rp, 404, -105, "Unknown certificate ID %.40s", id);
        goto out;
    }
    if (strcmp(config_member(rec, "status", ""), "Issued") != 0) {
        reply_error(rp, 400, -110,
                    "only an issued certificate can be "
                    "revoked");
        goto out;
    }
    json_object_set_new(rec, "status", json_string("Revoked"));
    json_object_set_new(rec, "statusReason", json_string(msg));
    store_save(s, rec);
    reply_json(rp, 200, json_object());
out:
    json_decref(rec);
    json_decref(body);
}

void rest_handle(struct sim *s, const struct sim_req *rq, struct sim_reply *rp)
{
    const char *rest = rq->path + strlen(API_PREFIX), *client = NULL;
    char id[32], *owner = NULL;
    enum auth_result res;
    size_t n;

    res = auth_check(s->auth, "rest", rq->auth, &client);
    if (res != AUTH_OK) {
        unauthorized(s, rp, res);
        return;
    }
    if (*rest == '\0' || strcmp(rest, "/") == 0) {
        if (strcmp(rq->method, "POST") == 0)
            enroll(s, rq, client, rp);
        else
            reply_error(rp, 405, -2, "use POST to enroll");
        return;
    }
    n = strcspn(rest + 1, "/");
    if (rest[0] != '/' || n == 0 || n >= sizeof(id)) {
        reply_error(rp, 404, -105, "Unknown certificate ID");
        return;
    }
    memcpy(id, rest + 1, n);
    id[n] = '\0';
    rest += 1 + n;
    owner = util_printf("rest:%s", client);
    if (owner == NULL) {
        reply_error(rp, 500, -1, "out of memory");
        return;
    }
    if (strcmp(rest, "/status") == 0 && strcmp(rq->method, "GET") == 0)
        issue_status(s, owner, id, rp);
    else if (*rest == '\0' && strcmp(rq->method, "GET") == 0)
        issue_download(s, owner, id, rq->format, rp);
    else if (*rest == '\0' && strcmp(rq->method, "DELETE") == 0)
        revoke(s, rq, owner, id, rp);
    else
        reply_error(rp, 404, -2, "no such operation");
    free(owner);
}
