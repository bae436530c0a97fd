/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - libcurl wrapper: verified TLS, bounded answers, no secret leaks.
 */
#include "http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "interrupt.h"
#include "log.h"

#define CONNECT_TIMEOUT_DEFAULT 20L
#define TIMEOUT_DEFAULT         120L
#define TRACE_BODY_MAX          400

struct http_client {
    CURL *curl;
    char *ca_file;
    long connect_timeout_s;
    long timeout_s;
    size_t max_body;
};

struct sink {
    char *buf;
    size_t len;
    size_t cap;
    size_t max;
    bool overflow;
};

static void *heap_malloc(size_t n)
{
    return malloc(n);
}

static void *heap_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}

static char *heap_strdup(const char *s)
{
    return strdup(s);
}

/* libcurl's request buffers hold the Authorization header and small POST
 * bodies (client secret, one-time code), jansson's strings the token
 * answer: both give their memory back wiped (common/secret.c). */
enum pe_rc http_global_init(void)
{
    json_set_alloc_funcs(heap_malloc, secret_heap_free);
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, heap_malloc, secret_heap_free,
                             secret_heap_realloc, heap_strdup,
                             heap_calloc) != CURLE_OK)
        return pe_failf(PE_E_INTERNAL, "libcurl could not be initialised.");
    return PE_OK;
}

bool http_url_is_https(const char *url)
{
    return url != NULL && strncasecmp(url, "https://", 8) == 0;
}

enum pe_rc http_url_host(const char *url, char **phost)
{
    CURLU *u = curl_url();
    char *host = NULL, *p;
    enum pe_rc rc = PE_E_NOMEM;

    *phost = NULL;
    if (u == NULL)
        return PE_E_NOMEM;
    /* libcurl's own parser: the host it would connect to is the host the
     * policy judges, whatever userinfo or escapes the URL holds */
    if (url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        host == NULL || host[0] == '\0') {
        rc = pe_failf(PE_E_CONFIG, "The URL \"%.200s\" names no host.",
                      url != NULL ? url : "");
        goto out;
    }
    for (p = host; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    if (p - host > 1 && p[-1] == '.')
        p[-1] = '\0'; /* "host." is the same host as "host" */
    p = host[0] == '[' ? strndup(host + 1, strcspn(host + 1, "]"))
                       : strdup(host);
    if (p == NULL)
        goto out;
    *phost = p;
    rc = PE_OK;
out:
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

enum pe_rc http_client_new(const struct http_config *cfg,
                           struct http_client **pc)
{
    struct http_client *c;

    *pc = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return PE_E_NOMEM;
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        http_client_free(c);
        return PE_E_NOMEM;
    }
    if (cfg != NULL && cfg->ca_file != NULL) {
        c->ca_file = strdup(cfg->ca_file);
        if (c->ca_file == NULL) {
            http_client_free(c);
            return PE_E_NOMEM;
        }
    }
    c->connect_timeout_s = cfg != NULL && cfg->connect_timeout_s > 0
                               ? cfg->connect_timeout_s
                               : CONNECT_TIMEOUT_DEFAULT;
    c->timeout_s =
        cfg != NULL && cfg->timeout_s > 0 ? cfg->timeout_s : TIMEOUT_DEFAULT;
    c->max_body = HTTP_BODY_MAX;
    if (cfg != NULL && cfg->max_body > 0 && cfg->max_body < HTTP_BODY_MAX)
        c->max_body = cfg->max_body;
    *pc = c;
    return PE_OK;
}

void http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c->ca_file);
    free(c);
}

void http_response_clear(struct http_response *r)
{
    if (r == NULL)
        return;
    if (r->body != NULL)
        OPENSSL_cleanse(r->body, r->len);
    free(r->body);
    free(r->content_type);
    free(r->retry_after);
    free(r->www_authenticate);
    memset(r, 0, sizeof(*r));
}

static size_t sink_write(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t add = size * n, ncap;
    char *nbuf;

    if (add > s->max - s->len) {
        s->overflow = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        ncap = s->cap == 0 ? 4096 : s->cap;
        while (ncap < s->len + add + 1)
            ncap *= 2;
        nbuf = malloc(ncap);
        if (nbuf == NULL)
            return 0;
        if (s->buf != NULL) {
            memcpy(nbuf, s->buf, s->len);
            OPENSSL_cleanse(s->buf, s->len);
            free(s->buf);
        }
        s->buf = nbuf;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

static enum pe_rc map_curl(CURLcode cc, const char *errbuf, const char *url,
                           const struct sink *s)
{
    const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);

    if (s->overflow)
        return pe_failf(PE_E_CA_PROTOCOL,
                        "The answer from %s is larger than the %zu bytes "
                        "accepted.",
                        url, s->max);
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return pe_failf(PE_E_CA_TLS,
                        "The TLS certificate of %s is not trusted: %s "
                        "(give the server's CA with --ca-file).",
                        url, why);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return pe_failf(PE_E_CONFIG, "The URL %s cannot be used: %s.", url,
                        why);
    case CURLE_OUT_OF_MEMORY:
        return PE_E_NOMEM;
    case CURLE_WRITE_ERROR:
        return PE_E_NOMEM; /* the sink refuses only on overflow or ENOMEM */
    case CURLE_OPERATION_TIMEDOUT:
        return pe_failf(PE_E_CA_UNREACHABLE, "%s did not answer in time: %s.",
                        url, why);
    case CURLE_ABORTED_BY_CALLBACK:
        return PE_E_INTERRUPTED; /* stop_transfer */
    default:
        return pe_failf(PE_E_CA_UNREACHABLE, "Cannot reach %s: %s.", url, why);
    }
}

static char *header_dup(CURL *curl, const char *name)
{
    struct curl_header *h = NULL;

    if (curl_easy_header(curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
        h == NULL || h->value == NULL)
        return NULL;
    return strdup(h->value);
}

/* An HTTP date header as time_t; 0 when absent or unreadable. */
static time_t header_time(CURL *curl, const char *name)
{
    struct curl_header *h = NULL;
    time_t t;

    if (curl_easy_header(curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
        h == NULL || h->value == NULL)
        return 0;
    t = curl_getdate(h->value, NULL);
    return t == (time_t)-1 ? 0 : t;
}

static void trace_body(const char *what, const char *body, size_t len,
                       bool secret)
{
    if (!log_enabled(LOG_CAT_HTTP) || len == 0)
        return;
    if (secret) {
        log_debug(LOG_CAT_HTTP, "%s body: *** (%zu bytes, secret)", what, len);
        return;
    }
    if (memchr(body, '\0', len) != NULL) {
        log_debug(LOG_CAT_HTTP, "%s body: %zu bytes of binary", what, len);
        return;
    }
    log_debug(LOG_CAT_HTTP, "%s body: %.*s%s", what,
              (int)(len > TRACE_BODY_MAX ? TRACE_BODY_MAX : len), body,
              len > TRACE_BODY_MAX ? "..." : "");
}

static void wipe_slist(struct curl_slist *l)
{
    struct curl_slist *p;

    for (p = l; p != NULL; p = p->next)
        OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

/* Headers for req into *plist; the Authorization line is wiped later. */
static enum pe_rc build_headers(const struct http_request *req,
                                struct curl_slist **plist)
{
    struct curl_slist *l = NULL, *n;
    char line[256];
    char *auth = NULL;
    size_t alen;
    enum pe_rc rc = PE_E_NOMEM;

    /* curl sends "Expect: 100-continue" for large bodies; we do not. */
    n = curl_slist_append(l, "Expect:");
    if (n == NULL)
        goto out;
    l = n;
    if (req->content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
        n = curl_slist_append(l, line);
        if (n == NULL)
            goto out;
        l = n;
    }
    if (req->accept != NULL) {
        snprintf(line, sizeof(line), "Accept: %s", req->accept);
        n = curl_slist_append(l, line);
        if (n == NULL)
            goto out;
        l = n;
    }
    if (req->bearer != NULL) {
        alen = strlen("Authorization: Bearer ") + strlen(req->bearer) + 1;
        auth = malloc(alen);
        if (auth == NULL)
            goto out;
        snprintf(auth, alen, "Authorization: Bearer %s", req->bearer);
        n = curl_slist_append(l, auth);
        if (n == NULL)
            goto out;
        l = n;
    }
    *plist = l;
    l = NULL;
    rc = PE_OK;
out:
    if (auth != NULL) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }
    wipe_slist(l);
    return rc;
}

/* A transfer ends early once Ctrl-C or SIGTERM arrived. */
static int stop_transfer(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                         curl_off_t ultotal, curl_off_t ulnow)
{
    (void)arg;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return interrupt_pending() ? 1 : 0;
}

static enum pe_rc set_options(struct http_client *c,
                              const struct http_request *req,
                              struct curl_slist *headers, struct sink *s,
                              char *errbuf)
{
    CURL *h = c->curl;
    bool secret = req->bearer != NULL || req->body_secret;
    CURLcode cc = CURLE_OK;

    curl_easy_reset(h);
#define OPT(o, v)                                                              \
    do {                                                                       \
        if (cc == CURLE_OK)                                                    \
            cc = curl_easy_setopt(h, o, v);                                    \
    } while (0)
    OPT(CURLOPT_URL, req->url);
    OPT(CURLOPT_PROTOCOLS_STR, secret ? "https" : "http,https");
    OPT(CURLOPT_SSL_VERIFYPEER, 1L);
    OPT(CURLOPT_SSL_VERIFYHOST, 2L);
    OPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file != NULL)
        OPT(CURLOPT_CAINFO, c->ca_file);
    OPT(CURLOPT_FOLLOWLOCATION, 0L);
    OPT(CURLOPT_NOSIGNAL, 1L);
    OPT(CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
    OPT(CURLOPT_TIMEOUT, c->timeout_s);
    OPT(CURLOPT_USERAGENT, "p11enroll/" P11E_VERSION);
    OPT(CURLOPT_ERRORBUFFER, errbuf);
    OPT(CURLOPT_WRITEFUNCTION, sink_write);
    OPT(CURLOPT_WRITEDATA, s);
    OPT(CURLOPT_XFERINFOFUNCTION, stop_transfer);
    OPT(CURLOPT_NOPROGRESS, 0L);
    OPT(CURLOPT_HTTPHEADER, headers);
    if (strcmp(req->method, "POST") == 0) {
        OPT(CURLOPT_POST, 1L);
        OPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        OPT(CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body != NULL) {
            OPT(CURLOPT_POSTFIELDS, req->body);
            OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
    }
#undef OPT
    if (cc != CURLE_OK)
        return pe_failf(PE_E_INTERNAL, "libcurl refused an option: %s.",
                        curl_easy_strerror(cc));
    return PE_OK;
}

enum pe_rc http_do(struct http_client *c, const struct http_request *req,
                   struct http_response *presp)
{
    struct curl_slist *headers = NULL;
    struct sink s = {NULL, 0, 0, 0, false};
    char errbuf[CURL_ERROR_SIZE];
    char *ct = NULL;
    CURLcode cc;
    enum pe_rc rc;

    memset(presp, 0, sizeof(*presp));
    errbuf[0] = '\0';
    s.max = c->max_body;
    if ((req->bearer != NULL || req->body_secret) &&
        !http_url_is_https(req->url))
        return pe_failf(PE_E_CONFIG,
                        "Refusing to send credentials to %s: only https:// "
                        "URLs may carry secrets.",
                        req->url);
    rc = build_headers(req, &headers);
    if (rc != PE_OK)
        goto out;
    rc = set_options(c, req, headers, &s, errbuf);
    if (rc != PE_OK)
        goto out;
    log_debug(LOG_CAT_HTTP, "> %s %s%s", req->method, req->url,
              req->bearer != NULL ? " (Authorization: ***)" : "");
    trace_body(">", req->body, req->body_len, req->body_secret);
    cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        rc = map_curl(cc, errbuf, req->url, &s);
        log_debug(LOG_CAT_HTTP, "< failed: %s", pe_detail());
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &presp->status);
    if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
        ct != NULL) {
        presp->content_type = strdup(ct);
        if (presp->content_type == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
    }
    presp->retry_after = header_dup(c->curl, "Retry-After");
    presp->www_authenticate = header_dup(c->curl, "WWW-Authenticate");
    presp->date = header_time(c->curl, "Date");
    if (s.buf == NULL) {
        s.buf = calloc(1, 1);
        if (s.buf == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
    }
    presp->body = s.buf;
    presp->len = s.len;
    s.buf = NULL;
    log_debug(LOG_CAT_HTTP, "< %ld %s (%zu bytes)%s%s", presp->status,
              presp->content_type ? presp->content_type : "-", presp->len,
              presp->retry_after ? " Retry-After: " : "",
              presp->retry_after ? presp->retry_after : "");
    trace_body("<", presp->body, presp->len, req->answer_secret);
    rc = PE_OK;
out:
    /* curl keeps pointers to headers and errbuf: drop them now. */
    curl_easy_reset(c->curl);
    wipe_slist(headers);
    if (s.buf != NULL) {
        OPENSSL_cleanse(s.buf, s.len);
        free(s.buf);
    }
    return rc;
}

long http_retry_after_seconds(const char *value, time_t now)
{
    char *end = NULL;
    long secs;
    time_t t;

    if (value == NULL)
        return -1;
    while (isspace((unsigned char)*value))
        value++;
    if (isdigit((unsigned char)*value)) {
        secs = strtol(value, &end, 10);
        while (end != NULL && isspace((unsigned char)*end))
            end++;
        if (end == NULL || *end != '\0' || secs < 0)
            return -1;
        return secs > 86400 ? 86400 : secs;
    }
    t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
        return -1;
    if (t <= now)
        return 0;
    return t - now > 86400 ? 86400 : (long)(t - now);
}

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

enum pe_rc http_auth_param(const char *header, const char *name, char **pvalue)
{
    size_t nlen = strlen(name), vlen;
    const char *p, *v, *e;

    *pvalue = NULL;
    if (header == NULL)
        return PE_OK;
    for (p = header; (p = find_ci(p, name)) != NULL; p += nlen) {
        /* a whole parameter name: preceded by start, space or comma */
        if (p != header && !isspace((unsigned char)p[-1]) && p[-1] != ',')
            continue;
        v = p + nlen;
        while (*v == ' ')
            v++;
        if (*v != '=')
            continue;
        v++;
        while (*v == ' ')
            v++;
        if (*v == '"') {
            v++;
            e = strchr(v, '"');
            if (e == NULL)
                return pe_failf(PE_E_CA_PROTOCOL,
                                "The WWW-Authenticate header has an "
                                "unterminated %s.",
                                name);
        } else {
            e = v + strcspn(v, " ,\t");
        }
        vlen = (size_t)(e - v);
        *pvalue = strndup(v, vlen);
        return *pvalue == NULL ? PE_E_NOMEM : PE_OK;
    }
    return PE_OK;
}

enum pe_rc http_form_add(struct secret **pbody, const char *name,
                         const char *value, size_t value_len)
{
    struct secret *old = *pbody, *nbody = NULL;
    char *ename = NULL, *evalue = NULL, *buf = NULL;
    size_t oldlen = old != NULL ? old->len : 0, len = 0;
    enum pe_rc rc = PE_E_NOMEM;

    if (value_len > INT32_MAX)
        return pe_failf(PE_E_INTERNAL, "A form value is too long.");
    ename = curl_easy_escape(NULL, name, 0);
    evalue = curl_easy_escape(NULL, value, (int)value_len);
    if (ename == NULL || evalue == NULL)
        goto out;
    len = oldlen + (oldlen > 0 ? 1 : 0) + strlen(ename) + 1 + strlen(evalue);
    buf = malloc(len + 1);
    if (buf == NULL)
        goto out;
    snprintf(buf, len + 1, "%s%s%s=%s", oldlen > 0 ? old->buf : "",
             oldlen > 0 ? "&" : "", ename, evalue);
    rc = secret_from_bytes(buf, len, &nbody);
    if (rc != PE_OK)
        goto out;
    secret_free(old);
    *pbody = nbody;
    rc = PE_OK;
out:
    if (evalue != NULL)
        OPENSSL_cleanse(evalue, strlen(evalue));
    curl_free(ename);
    curl_free(evalue);
    if (buf != NULL) {
        OPENSSL_cleanse(buf, len);
        free(buf);
    }
    return rc;
}
