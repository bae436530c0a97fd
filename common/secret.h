/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret.h - the one owner of PIN, management-key and client-secret bytes.
 *
 * Only this module allocates secret bytes; secret_free() wipes them.
 * Secrets are never taken from argv: a source names where to read one.
 */
#ifndef P11E_SECRET_H
#define P11E_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

/* Largest secret accepted from any source (a PIN file is read up to this). */
#define SECRET_MAX 4096

struct secret {
    char *buf; /* NUL-terminated; may contain no NUL inside */
    size_t len;
};

enum secret_kind {
    SECRET_NONE = 0,
    SECRET_PROMPT, /* ask on the terminal without echo */
    SECRET_FILE,   /* first line of a file */
    SECRET_FD,     /* first line read from a file descriptor */
    SECRET_ENV,    /* value of a named environment variable */
    SECRET_PINPAD, /* the token's protected authentication path */
};

struct secret_source {
    enum secret_kind kind;
    const char *arg;    /* path, fd number or variable name (borrowed) */
    const char *prompt; /* for SECRET_PROMPT, e.g. "PIN for token X" */
};

/*
 * Parse a source spec: "file:PATH", "fd:N", "env:NAME", "prompt", "pinpad",
 * or an RFC 7512 pin-source value ("file:" URI or a plain path).
 * arg points into spec (borrowed).  Returns PE_E_USAGE on a bad spec.
 */
enum pe_rc secret_source_parse(const char *spec, struct secret_source *psrc);

/*
 * Read a secret from src into a new struct secret (*psecret, to be freed
 * with secret_free).  The first line is taken, without its line ending.
 * An environment variable is wiped and removed once read (children never
 * see it); later reads of the same variable give the value read first.
 * A regular file readable by group or others is refused (PE_E_PIN_SOURCE,
 * with the chmod that fixes it).
 * An empty secret is an error (PE_E_PIN_SOURCE) unless allow_empty.
 * SECRET_PINPAD yields a secret with buf == NULL.
 */
enum pe_rc secret_read(const struct secret_source *src, bool allow_empty,
                       struct secret **psecret);

/* New secret holding a copy of the len bytes at data. */
enum pe_rc secret_from_bytes(const void *data, size_t len,
                             struct secret **psecret);

/* Wipe and free; NULL is a no-op. */
void secret_free(struct secret *s);

/*
 * Keep secrets out of core files and other processes: RLIMIT_CORE 0 and
 * PR_SET_DUMPABLE 0 (which also refuses ptrace and /proc/PID/mem to
 * processes of the same user), and OpenSSL's freed memory wiped
 * (secret_heap_free).  Call first thing in main.
 */
enum pe_rc secret_harden_process(void);

/*
 * free() and realloc() that wipe the block they give back (its whole
 * malloc_usable_size); for the heap functions of the libraries that see
 * secrets (OpenSSL, libcurl, jansson).
 */
void secret_heap_free(void *p);
void *secret_heap_realloc(void *p, size_t n);

/*
 * n bytes of memory for secret bytes: whole pages, locked (mlock, best
 * effort) and left out of core files (MADV_DONTDUMP); NULL when out of
 * memory.  Free with secret_mem_free(p, n), which wipes them first.
 */
void *secret_mem_alloc(size_t n);
void secret_mem_free(void *p, size_t n);

/* true when stdin is a terminal we may prompt on. */
bool secret_can_prompt(void);

#endif
