/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scm_sim.h - what the parts of scm-sim share.
 *
 * scm-sim is a reference Sectigo Certificate Manager enrollment server (see
 * README.md beside this file).  main.c owns the HTTPS daemon and dispatches
 * each request, with the one state lock held, to rest.c, form.c or admin.c.
 * A handler reads a struct sim_req and fills a struct sim_reply.
 */
#ifndef SCM_SIM_H
#define SCM_SIM_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SIM_BODY_MAX (64 * 1024) /* largest request body accepted */

struct sim_config;
struct sim_ca;
struct sim_auth;
struct sim_faults;

/* The whole server.  Everything but port/base_url is guarded by lock. */
struct sim {
    char *state_dir;
    char base_url[64]; /* https://127.0.0.1:<port> */
    unsigned short port;
    pthread_mutex_t lock;
    struct sim_config *cfg;
    struct sim_ca *ca;
    struct sim_auth *auth;
    struct sim_faults *faults;
    unsigned long next_id;      /* next request id */
    STACK_OF(X509) * mfr_roots; /* Key Attestation manufacturer roots */
};

/* One parsed HTTP request, borrowed by the handlers. */
struct sim_req {
    const char *method;
    const char *path;   /* without the query */
    const char *format; /* ?format= or NULL */
    const char *auth;   /* Authorization header or NULL */
    const char *ctype;  /* Content-Type or NULL */
    const char *body;   /* NUL-terminated copy of the body */
    size_t len;
    bool loopback; /* the client's address is a loopback address */
};

/* What a handler answers; body is malloc'ed and freed by main.c. */
struct sim_reply {
    unsigned int status;
    char *body;
    size_t len;
    const char *ctype;
    char *www_auth;   /* WWW-Authenticate value, malloc'ed, or NULL */
    long retry_after; /* seconds, or -1 for none */
    bool pem;         /* a PEM download: the truncated_pem fault may apply */
    bool no_store;    /* add Cache-Control: no-store */
    const char *note; /* extra word for the log line (static), or NULL */
};

/* ---- reply.c: building answers -------------------------------------- */

/* Set rp to status and the JSON text of j; steals j. */
void reply_json(struct sim_reply *rp, unsigned int status, json_t *j);

/* Set rp to status and {"code": code, "description": "..."}. */
void reply_error(struct sim_reply *rp, unsigned int status, int code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set rp to status and a copy of len bytes of data with content type. */
void reply_bytes(struct sim_reply *rp, unsigned int status, const char *ctype,
                 const void *data, size_t len);

/* Parse rq's body as a JSON object; on failure fill rp (400) and NULL. */
json_t *reply_parse_body(const struct sim_req *rq, struct sim_reply *rp);

/* ---- hint.c: what to give p11enroll ---------------------------------- */

/* Print to f the p11enroll command lines of the REST account and the form
 * that s serves first (README "What to give p11enroll"); writes the
 * account's secret to <state>/client-secret (0600) for the line to name. */
void hint_print(FILE *f, const struct sim *s);

/* ---- util.c: small helpers ------------------------------------------ */

/* Random lower-case hex string of 2*nbytes characters (malloc'ed). */
char *util_random_hex(size_t nbytes);

/* A uniformly random number below n (n > 0). */
unsigned long util_random_below(unsigned long n);

/* Decode strict base64 (no whitespace); malloc'ed, NULL if invalid. */
unsigned char *util_b64_decode(const char *in, size_t inlen, size_t *plen);

/* Encode base64 on one line; malloc'ed NUL-terminated. */
char *util_b64_encode(const unsigned char *in, size_t len);

/* Read a whole file of at most max bytes, NUL-terminated; NULL on error. */
char *util_read_file(const char *path, size_t max, size_t *plen);

/*
 * Write data to path atomically (temp file, rename), mode 0600.  With sync
 * the temp file is fsynced first, so the data also outlives a machine crash:
 * the CA's keys and certificates.  Requests and mails are written without:
 * they survive the server's own restart or kill (the page cache keeps
 * them), which is what the tests need, and an fsync per request would be
 * counted in every client's timings.
 */
int util_write_file(const char *path, const void *data, size_t len, bool sync);

/* mkdir -p with mode 0700; 0 or -1. */
int util_mkdirs(const char *path);

/* malloc'ed printf; NULL when out of memory. */
char *util_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Value of name in an application/x-www-form-urlencoded body, decoded
 * and malloc'ed, or NULL when absent. */
char *util_form_value(const char *body, const char *name);

/* Constant-time comparison of two NUL-terminated strings. */
bool util_secret_eq(const char *a, const char *b);

/* true if s is a plausible e-mail address (local@domain, no spaces). */
bool util_valid_email(const char *s);

/* Seconds since the epoch. */
time_t util_now(void);

/* ---- log (main.c) ----------------------------------------------------- */

/* One line to stderr with a time stamp; never pass secrets. */
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
