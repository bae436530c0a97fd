/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the one place that talks HTTP(S), through libcurl.
 *
 * Peer and host name verification are always on (system trust store or a
 * given CA file); redirects are never followed; a request that carries a
 * secret (a bearer token or a secret body) is refused unless its URL is
 * https://.  Proxies come from the usual environment variables (libcurl).
 * Answers are read into a bounded buffer.  Debug traces (P11ENROLL_DEBUG=
 * http) show method, URL, status and sizes; never an Authorization header,
 * and never a body marked as secret.
 */
#ifndef P11E_HTTP_H
#define P11E_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rc.h"
#include "secret.h"

/* Hard maximum of an answer's body unless the config says less. */
#define HTTP_BODY_MAX (1024 * 1024)

struct http_client;

struct http_config {
    const char *ca_file;    /* PEM file of CAs to trust; NULL: system store */
    long connect_timeout_s; /* 0: 20 s */
    long timeout_s;         /* whole transfer; 0: 120 s */
    size_t max_body;        /* 0: HTTP_BODY_MAX (larger values are capped) */
};

struct http_request {
    const char *method;       /* "GET", "POST" or "DELETE" */
    const char *url;          /* absolute http:// or https:// URL */
    const char *content_type; /* of body; NULL when there is no body */
    const void *body;
    size_t body_len;
    const char *accept; /* Accept header, or NULL */
    const char *bearer; /* "Authorization: Bearer <this>", or NULL */
    bool body_secret;   /* the body holds a secret: https only */
    bool answer_secret; /* the answer holds a secret: never traced */
};

struct http_response {
    long status;            /* HTTP status code */
    char *body;             /* NUL-terminated (binary bodies may hold NULs) */
    size_t len;             /* of body, without the NUL */
    char *content_type;     /* or NULL */
    char *retry_after;      /* the Retry-After header's value, or NULL */
    char *www_authenticate; /* the WWW-Authenticate header's value, or NULL */
    time_t date;            /* the Date header; 0 when absent or unreadable */
};

/*
 * Initialise libcurl and its TLS library: call once, from main(), before
 * anything else runs.  (A program that does not, such as a unit test, gets
 * libcurl's own initialisation at the first client.)
 */
enum pe_rc http_global_init(void);

/* A new client with cfg copied (*pc, free with http_client_free). */
enum pe_rc http_client_new(const struct http_config *cfg,
                           struct http_client **pc);

/* Free a client; NULL is a no-op. */
void http_client_free(struct http_client *c);

/*
 * Perform req and fill *presp (clear it with http_response_clear, also
 * after a failure).  Any HTTP status is PE_OK; failures: PE_E_CA_TLS (the
 * server's certificate or name does not verify), PE_E_CA_UNREACHABLE
 * (resolve, connect, reset, timeout), PE_E_CA_PROTOCOL (answer larger than
 * the maximum), PE_E_CONFIG (bad URL, a secret for http://).
 */
enum pe_rc http_do(struct http_client *c, const struct http_request *req,
                   struct http_response *presp);

/* Free what a response holds and zero it; the body is wiped first. */
void http_response_clear(struct http_response *r);

/*
 * Seconds to wait from a Retry-After value (delta-seconds or an HTTP date,
 * relative to now), clamped to [0, 86400]; -1 if value is NULL or invalid.
 */
long http_retry_after_seconds(const char *value, time_t now);

/*
 * The value of parameter name (e.g. "authorization_uri") in a
 * WWW-Authenticate value such as `Bearer realm="x", authorization_uri="u"`,
 * as a new string (free()) in *pvalue, or NULL when absent.
 */
enum pe_rc http_auth_param(const char *header, const char *name, char **pvalue);

/*
 * Append "name=value" (URL-encoded, '&'-separated) to the form body held in
 * *pbody, a struct secret because form bodies carry client secrets; a NULL
 * *pbody starts a new one.  The old buffer is wiped.
 */
enum pe_rc http_form_add(struct secret **pbody, const char *name,
                         const char *value, size_t value_len);

/* true when url starts with "https://" (any case). */
bool http_url_is_https(const char *url);

/*
 * The host name of an absolute URL, lower-cased, without port or brackets,
 * as a new string (free()) in *phost; PE_E_CONFIG naming url when it has
 * none or does not parse.
 */
enum pe_rc http_url_host(const char *url, char **phost);

#endif
