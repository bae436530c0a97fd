/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca.h - one interface for every CA enrollment protocol.
 *
 * A protocol lives in one agent/ca_<protocol>.c file that knows all of its
 * wire details (paths, JSON field names, error codes) and fills a struct
 * ca_ops.  The enrollment flow only sees this file:
 *
 *   ca_new(&cfg, &ca);
 *   ca->ops->prepare(ca);                 log in, show terms (before keygen)
 *   ca->ops->submit(ca, &req, &id);       CSR in, request id out
 *   ca->ops->poll(ca, id, &st);           pending / issued / rejected
 *   ca->ops->download(ca, id, &buf, &n);  the bundle as the CA sends it
 *   ca_free(ca);
 *
 * EST or ACME join by adding a file and one line in ca_new().
 */
#ifndef P11E_CA_H
#define P11E_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "http.h"
#include "rc.h"
#include "secret.h"

enum ca_protocol {
    CA_PROTO_REST, /* SCM REST enrollment endpoint, OAuth client credentials */
    CA_PROTO_FORM, /* SCM self-enrollment form, e-mail one-time code */
};

/* "rest", "form". */
const char *ca_protocol_name(enum ca_protocol p);

/* Parse a protocol name; PE_E_CONFIG if unknown. */
enum pe_rc ca_protocol_parse(const char *name, enum ca_protocol *pp);

/* What a form (or a protocol with terms to accept) shows the person. */
struct ca_terms {
    const char *organization, *department, *profile;
    const long *terms; /* allowed terms in days */
    size_t nterms;
    long default_term;
    const char *eula_id, *eula_text;
    const char *first_name, *last_name; /* of the person, if known */
};

/* Callbacks into the command (the person at the terminal, or files). */
struct ca_ui {
    void *arg;
    /* The one-time code mailed to email (new struct secret, secret_free). */
    enum pe_rc (*get_code)(void *arg, const char *email, struct secret **pcode);
    /* get_code asks a person, who may be asked again after a wrong code */
    bool code_typed;
    /* Show the terms; PE_OK when accepted, else a sentence why not. */
    enum pe_rc (*accept_terms)(void *arg, const struct ca_terms *terms);
};

struct ca_config {
    enum ca_protocol protocol;
    const char *url;                    /* REST base URL or form URL */
    const char *client_id;              /* REST */
    const struct secret *client_secret; /* REST (borrowed) */
    const char *token_url; /* REST: OAuth token URL; NULL: from the 401 */
    const char *email;     /* form: the invited person; REST: applicant */
    const char *format;    /* download format (?format=), NULL: default */
    struct http_config http;
    struct ca_ui ui;
};

/* The request fields beside the CSR (borrowed, NULL/0 when not given). */
struct ca_request {
    const unsigned char *csr_der;
    size_t csr_len;
    const char *email; /* REST: the applicant's contact (required there) */
    const char *first_name, *last_name, *title, *san_email;
    long term; /* days; 0: the default */
    const char *hsm_type, *attestation_b64;
};

enum ca_state { CA_STATE_PENDING, CA_STATE_ISSUED, CA_STATE_REJECTED };

struct ca_status {
    enum ca_state state;
    char word[32];    /* the CA's own status word, e.g. "Applied" */
    char reason[256]; /* rejected: the CA's description, else "" */
    long retry_after; /* seconds the CA asked us to wait; -1: none */
};

struct ca;

struct ca_ops {
    const char *name;
    /* Authenticate and check terms before anything is made (optional). */
    enum pe_rc (*prepare)(struct ca *ca);
    /* Submit; a new request id string in *pid (free()). */
    enum pe_rc (*submit)(struct ca *ca, const struct ca_request *req,
                         char **pid);
    /* Status of request id.  A retry-later answer is PE_OK with state
     * pending and retry_after set. */
    enum pe_rc (*poll)(struct ca *ca, const char *id, struct ca_status *st);
    /* The issued bundle as sent (*pbuf, free()).  Not issued yet:
     * PE_PENDING with st (may be NULL) filled as for poll. */
    enum pe_rc (*download)(struct ca *ca, const char *id, unsigned char **pbuf,
                           size_t *plen, struct ca_status *st);
    void (*free)(struct ca *ca);
};

struct ca {
    const struct ca_ops *ops;
    struct ca_config cfg; /* strings borrowed from the caller's config */
    struct http_client *http;
    void *impl;      /* the protocol's own state */
    time_t deadline; /* CLOCK_MONOTONIC; 0: none (ca_set_deadline) */
};

/* A client for cfg->protocol (cfg and its strings must outlive it);
 * allocates *pca (ca_free). */
enum pe_rc ca_new(const struct ca_config *cfg, struct ca **pca);

/* Free; NULL is a no-op. */
void ca_free(struct ca *ca);

/*
 * After deadline (CLOCK_MONOTONIC seconds) ca makes no more retries and
 * sleeps no more: each call it is asked for is tried once, so a run
 * returns within its --wait plus one HTTP timeout whatever the CA does.
 */
void ca_set_deadline(struct ca *ca, time_t deadline);

/* ---- shared helpers for the ca_<protocol>.c files --------------------- */

/* Constructors of the protocols (ca_rest.c, ca_form.c). */
enum pe_rc ca_rest_init(struct ca *ca);
enum pe_rc ca_form_init(struct ca *ca);

/*
 * An SCM error body {"code": N, "description": "..."}: *pcode and the
 * description into desc (printable, truncated); false if body is not one.
 */
bool ca_parse_error(const char *body, size_t len, long *pcode, char *desc,
                    size_t descsz);

/*
 * A non-2xx answer p to what (e.g. "the download") that is not a final
 * refusal: no SCM error JSON ("<who> answered what with HTTP N") or a
 * retry-later error, as one sentence; true with *prc set.  Else false with
 * the error's code and description for the protocol's own wording.
 */
bool ca_fail_transient(const struct http_response *p, const char *who,
                       const char *what, long *pcode, char *desc, size_t descsz,
                       enum pe_rc *prc);

/* A protocol's sentence for a non-2xx answer p to what; final is the
 * result of a final refusal (rest_fail, form_fail). */
typedef enum pe_rc (*ca_fail_fn)(const struct http_response *p,
                                 const char *what, enum pe_rc final);

/*
 * The answer p to a status request (docs/PROTOCOL.md §1; the form's too)
 * into *st: 200 {"status", "statusReason"}, or a retry-later error as
 * pending "busy"; Retry-After into st->retry_after.  Else fail(p, ...).
 */
enum pe_rc ca_status_answer(const struct http_response *p, ca_fail_fn fail,
                            struct ca_status *st);

/*
 * The answer p to a download: 200 hands p's body over (*pbuf, free()),
 * 404/400 with a retry-later code is PE_PENDING with st (may be NULL)
 * pending, Retry-After honoured; else fail(p, "the download", ...).
 */
enum pe_rc ca_download_answer(struct http_response *p, ca_fail_fn fail,
                              unsigned char **pbuf, size_t *plen,
                              struct ca_status *st);

/* Map a status word to a state (case-insensitive); PE_E_CA_PROTOCOL if
 * the word is unknown. */
enum pe_rc ca_state_of_word(const char *word, enum ca_state *pstate);

/* true for SCM error codes and HTTP statuses that mean "try again later"
 * (-103, -109, -1400, -140, -195; 429, 5xx). */
bool ca_retry_later(long http_status, long code);

/* base64 of len bytes on one line, no newline (free()). */
enum pe_rc ca_b64(const unsigned char *data, size_t len, char **pb64);

/* Longest request id accepted from a CA. */
#define CA_ID_MAX 64
/* Tries of ca_http() and the longest wait between two. */
#define CA_HTTP_TRIES    4
#define CA_HTTP_WAIT_MAX 60

/*
 * http_do with retries: up to CA_HTTP_TRIES on 429/502/503/504 (honouring
 * Retry-After, at most CA_HTTP_WAIT_MAX s) and, when idempotent, on
 * connection failures; says so on the terminal.  No wait goes past the
 * deadline (ca_set_deadline).  The last answer or failure is returned as
 * http_do does; PE_E_INTERRUPTED when a signal stopped a wait.
 */
enum pe_rc ca_http(struct ca *ca, const struct http_request *req,
                   bool idempotent, struct http_response *presp);

/* Parse the body of resp as a JSON object (*pj, json_decref);
 * PE_E_CA_PROTOCOL naming what (e.g. "the status request") otherwise. */
enum pe_rc ca_json_object(const struct http_response *resp, const char *what,
                          json_t **pj);

/* Member key of obj as a string of at most maxlen bytes without control
 * characters (borrowed from obj); absent: NULL, an error if required. */
enum pe_rc ca_json_str(json_t *obj, const char *key, size_t maxlen,
                       bool required, const char *what, const char **pv);

/* Member key of obj as an integer in [min, max]; absent: dflt. */
enum pe_rc ca_json_long(json_t *obj, const char *key, long min, long max,
                        long dflt, const char *what, long *pv);

/* A request id we accept: 1..CA_ID_MAX of [A-Za-z0-9._-]. */
bool ca_id_valid(const char *id);

/* url + "/" + path with exactly one slash between (free()). */
enum pe_rc ca_url_join(const char *base, const char *path, char **purl);

#endif
