/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca.c - the protocol-neutral part of ca.h: construction and the helpers
 * every ca_<protocol>.c file shares.  No wire detail of a protocol here.
 */
#include "ca.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "interrupt.h"
#include "log.h"

const char *ca_protocol_name(enum ca_protocol p)
{
    return p == CA_PROTO_FORM ? "form" : "rest";
}

enum pe_rc ca_protocol_parse(const char *name, enum ca_protocol *pp)
{
    if (name != NULL && strcmp(name, "rest") == 0) {
        *pp = CA_PROTO_REST;
        return PE_OK;
    }
    if (name != NULL && strcmp(name, "form") == 0) {
        *pp = CA_PROTO_FORM;
        return PE_OK;
    }
    return pe_failf(PE_E_CONFIG, "Unknown CA protocol \"%s\" (rest, form).",
                    name != NULL ? name : "");
}

enum pe_rc ca_new(const struct ca_config *cfg, struct ca **pca)
{
    struct ca *ca;
    enum pe_rc rc;

    *pca = NULL;
    if (cfg->url == NULL || cfg->url[0] == '\0')
        return pe_failf(PE_E_USAGE, "No CA URL was given.");
    ca = calloc(1, sizeof(*ca));
    if (ca == NULL)
        return PE_E_NOMEM;
    ca->cfg = *cfg;
    rc = http_client_new(&cfg->http, &ca->http);
    if (rc != PE_OK)
        goto fail;
    rc = cfg->protocol == CA_PROTO_FORM ? ca_form_init(ca) : ca_rest_init(ca);
    if (rc != PE_OK)
        goto fail;
    *pca = ca;
    return PE_OK;
fail:
    ca_free(ca);
    return rc;
}

void ca_set_deadline(struct ca *ca, time_t deadline)
{
    ca->deadline = deadline;
}

/* Seconds left before ca's deadline (LONG_MAX without one). */
static long ca_time_left(const struct ca *ca)
{
    struct timespec ts;

    if (ca->deadline == 0)
        return LONG_MAX;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)(ca->deadline - ts.tv_sec);
}

void ca_free(struct ca *ca)
{
    if (ca == NULL)
        return;
    if (ca->ops != NULL && ca->ops->free != NULL)
        ca->ops->free(ca);
    http_client_free(ca->http);
    free(ca);
}

/* Copy s into dst, printable ASCII/UTF-8 only, at most dstsz-1 bytes. */
static void copy_printable(char *dst, size_t dstsz, const char *s)
{
    size_t i, j = 0;

    for (i = 0; s[i] != '\0' && j + 1 < dstsz; i++)
        dst[j++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    dst[j] = '\0';
}

bool ca_parse_error(const char *body, size_t len, long *pcode, char *desc,
                    size_t descsz)
{
    json_t *j, *code, *d;
    bool ok = false;

    *pcode = 0;
    if (descsz > 0)
        desc[0] = '\0';
    if (body == NULL || len == 0 || len > 65536)
        return false;
    j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j))
        goto out;
    code = json_object_get(j, "code");
    d = json_object_get(j, "description");
    if (!json_is_integer(code))
        goto out;
    *pcode = (long)json_integer_value(code);
    if (json_is_string(d) && descsz > 0)
        copy_printable(desc, descsz, json_string_value(d));
    ok = true;
out:
    json_decref(j);
    return ok;
}

enum pe_rc ca_state_of_word(const char *word, enum ca_state *pstate)
{
    static const char *const pending[] = {"Requested", "Approved", "Applied",
                                          "Init",      "Pending",  "SAApproved",
                                          "Created",   NULL};
    static const char *const rejected[] = {"Declined", "Rejected", "Revoked",
                                           "Expired",  "Invalid",  "Replaced",
                                           NULL};
    size_t i;

    if (word == NULL)
        return pe_failf(PE_E_CA_PROTOCOL, "The CA sent no status.");
    if (strcasecmp(word, "Issued") == 0) {
        *pstate = CA_STATE_ISSUED;
        return PE_OK;
    }
    for (i = 0; pending[i] != NULL; i++)
        if (strcasecmp(word, pending[i]) == 0) {
            *pstate = CA_STATE_PENDING;
            return PE_OK;
        }
    for (i = 0; rejected[i] != NULL; i++)
        if (strcasecmp(word, rejected[i]) == 0) {
            *pstate = CA_STATE_REJECTED;
            return PE_OK;
        }
    return pe_failf(PE_E_CA_PROTOCOL,
                    "The CA sent an unknown status \"%.40s\".", word);
}

bool ca_retry_later(long http_status, long code)
{
    if (http_status == 429 || http_status == 502 || http_status == 503 ||
        http_status == 504 || http_status == 500)
        return true;
    return code == -103 || code == -109 || code == -1400 || code == -140 ||
           code == -195;
}

bool ca_fail_transient(const struct http_response *p, const char *who,
                       const char *what, long *pcode, char *desc, size_t descsz,
                       enum pe_rc *prc)
{
    if (!ca_parse_error(p->body, p->len, pcode, desc, descsz)) {
        *prc = pe_failf(ca_retry_later(p->status, 0) ? PE_E_CA_UNREACHABLE
                                                     : PE_E_CA_PROTOCOL,
                        "%s answered %s with HTTP %ld.", who, what, p->status);
        return true;
    }
    if (ca_retry_later(p->status, *pcode)) {
        *prc = pe_failf(PE_E_CA_UNREACHABLE,
                        "%s cannot answer %s now: %s (code %ld); try again "
                        "later.",
                        who, what, desc, *pcode);
        return true;
    }
    return false;
}

enum pe_rc ca_status_answer(const struct http_response *p, ca_fail_fn fail,
                            struct ca_status *st)
{
    static const char *const what = "the status request";
    const char *word = NULL, *reason = NULL;
    json_t *j = NULL;
    long code = 0;
    enum pe_rc rc;

    memset(st, 0, sizeof(*st));
    st->retry_after = -1;
    if (p->status != 200) {
        ca_parse_error(p->body, p->len, &code, st->reason, sizeof(st->reason));
        if (!ca_retry_later(p->status, code))
            return fail(p, what, PE_E_CA_PROTOCOL);
        st->state = CA_STATE_PENDING;
        snprintf(st->word, sizeof(st->word), "busy");
        st->retry_after = http_retry_after_seconds(p->retry_after, time(NULL));
        return PE_OK;
    }
    rc = ca_json_object(p, what, &j);
    if (rc == PE_OK)
        rc = ca_json_str(j, "status", sizeof(st->word) - 1, true, what, &word);
    if (rc == PE_OK)
        rc = ca_json_str(j, "statusReason", 1024, false, what, &reason);
    if (rc == PE_OK)
        rc = ca_state_of_word(word, &st->state);
    if (rc != PE_OK)
        goto out;
    snprintf(st->word, sizeof(st->word), "%s", word);
    if (reason != NULL)
        snprintf(st->reason, sizeof(st->reason), "%s", reason);
    st->retry_after = http_retry_after_seconds(p->retry_after, time(NULL));
out:
    json_decref(j);
    return rc;
}

enum pe_rc ca_download_answer(struct http_response *p, ca_fail_fn fail,
                              unsigned char **pbuf, size_t *plen,
                              struct ca_status *st)
{
    char desc[256];
    long code = 0;

    *pbuf = NULL;
    *plen = 0;
    if (p->status == 200) {
        *pbuf = (unsigned char *)p->body;
        *plen = p->len;
        p->body = NULL;
        p->len = 0;
        return PE_OK;
    }
    ca_parse_error(p->body, p->len, &code, desc, sizeof(desc));
    if ((p->status != 404 && p->status != 400) ||
        !ca_retry_later(p->status, code))
        return fail(p, "the download", PE_E_CA_PROTOCOL);
    if (st != NULL) {
        memset(st, 0, sizeof(*st));
        st->state = CA_STATE_PENDING;
        snprintf(st->word, sizeof(st->word), "not collectable yet");
        st->retry_after = http_retry_after_seconds(p->retry_after, time(NULL));
    }
    return PE_PENDING;
}

enum pe_rc ca_b64(const unsigned char *data, size_t len, char **pb64)
{
    size_t outlen = 4 * ((len + 2) / 3) + 1;
    char *out;

    *pb64 = NULL;
    if (len > (size_t)1 << 28)
        return pe_failf(PE_E_INTERNAL, "Data too large to encode.");
    out = malloc(outlen);
    if (out == NULL)
        return PE_E_NOMEM;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    *pb64 = out;
    return PE_OK;
}

enum pe_rc ca_url_join(const char *base, const char *path, char **purl)
{
    size_t blen = strlen(base), len;
    char *url;

    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    while (*path == '/')
        path++;
    len = blen + 1 + strlen(path) + 1;
    url = malloc(len);
    if (url == NULL)
        return PE_E_NOMEM;
    snprintf(url, len, "%.*s/%s", (int)blen, base, path);
    *purl = url;
    return PE_OK;
}

enum pe_rc ca_json_object(const struct http_response *resp, const char *what,
                          json_t **pj)
{
    json_error_t err;
    json_t *j;

    *pj = NULL;
    j = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL)
        return pe_failf(PE_E_CA_PROTOCOL,
                        "The CA's answer to %s is not valid JSON: %s.", what,
                        err.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return pe_failf(PE_E_CA_PROTOCOL,
                        "The CA's answer to %s is not a JSON object.", what);
    }
    *pj = j;
    return PE_OK;
}

enum pe_rc ca_json_str(json_t *obj, const char *key, size_t maxlen,
                       bool required, const char *what, const char **pv)
{
    json_t *v = json_object_get(obj, key);
    const char *s;
    size_t i, n;

    *pv = NULL;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return PE_OK;
        return pe_failf(PE_E_CA_PROTOCOL, "The CA's answer to %s lacks \"%s\".",
                        what, key);
    }
    if (!json_is_string(v))
        return pe_failf(PE_E_CA_PROTOCOL,
                        "In the CA's answer to %s, \"%s\" is not a string.",
                        what, key);
    s = json_string_value(v);
    n = json_string_length(v);
    if (n > maxlen || (required && n == 0) || strlen(s) != n)
        return pe_failf(PE_E_CA_PROTOCOL,
                        "In the CA's answer to %s, \"%s\" is empty or longer "
                        "than %zu bytes.",
                        what, key, maxlen);
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' &&
            s[i] != '\t')
            return pe_failf(PE_E_CA_PROTOCOL,
                            "In the CA's answer to %s, \"%s\" holds control "
                            "characters.",
                            what, key);
    *pv = s;
    return PE_OK;
}

enum pe_rc ca_json_long(json_t *obj, const char *key, long min, long max,
                        long dflt, const char *what, long *pv)
{
    json_t *v = json_object_get(obj, key);
    json_int_t n;

    *pv = dflt;
    if (v == NULL || json_is_null(v))
        return PE_OK;
    if (!json_is_integer(v))
        return pe_failf(PE_E_CA_PROTOCOL,
                        "In the CA's answer to %s, \"%s\" is not an integer.",
                        what, key);
    n = json_integer_value(v);
    if (n < min || n > max)
        return pe_failf(PE_E_CA_PROTOCOL,
                        "In the CA's answer to %s, \"%s\" is out of range.",
                        what, key);
    *pv = (long)n;
    return PE_OK;
}

bool ca_id_valid(const char *id)
{
    size_t i, n = id != NULL ? strlen(id) : 0;

    if (n == 0 || n > CA_ID_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && strchr("-_.", id[i]) == NULL)
            return false;
    return true;
}

enum pe_rc ca_http(struct ca *ca, const struct http_request *req,
                   bool idempotent, struct http_response *presp)
{
    long wait;
    int attempt;
    enum pe_rc rc = PE_E_INTERNAL;

    for (attempt = 0; attempt < CA_HTTP_TRIES; attempt++) {
        if (attempt > 0)
            http_response_clear(presp);
        rc = http_do(ca->http, req, presp);
        if (rc == PE_E_CA_UNREACHABLE && idempotent &&
            attempt + 1 < CA_HTTP_TRIES) {
            wait = 1L << attempt;
        } else if (rc == PE_OK &&
                   (presp->status == 429 || presp->status == 502 ||
                    presp->status == 503 || presp->status == 504) &&
                   attempt + 1 < CA_HTTP_TRIES) {
            wait = http_retry_after_seconds(presp->retry_after, time(NULL));
            if (wait < 0)
                wait = 1L << attempt;
        } else {
            return rc;
        }
        if (wait > CA_HTTP_WAIT_MAX)
            wait = CA_HTTP_WAIT_MAX;
        if (wait > ca_time_left(ca))
            return rc; /* past the deadline: this answer stands */
        say("The CA is busy or unreachable; trying again in %ld s.", wait);
        if (interrupt_sleep(wait) != PE_OK)
            return PE_E_INTERRUPTED;
    }
    return rc;
}
