/* SPDX-License-Identifier: Apache-2.0 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "interrupt.h"
#include "log.h"

enum pe_rc secret_source_parse(const char *spec, struct secret_source *psrc)
{
    memset(psrc, 0, sizeof(*psrc));
    if (spec == NULL || spec[0] == '\0')
        return pe_failf(PE_E_USAGE, "An empty secret source was given.");
    if (strncmp(spec, "file:", 5) == 0) {
        psrc->kind = SECRET_FILE;
        psrc->arg = spec + 5;
        /* RFC 7512 pin-source may be a file: URI (file:///path) */
        if (strncmp(psrc->arg, "//", 2) == 0)
            psrc->arg += 2;
    } else if (strncmp(spec, "fd:", 3) == 0) {
        psrc->kind = SECRET_FD;
        psrc->arg = spec + 3;
    } else if (strncmp(spec, "env:", 4) == 0) {
        psrc->kind = SECRET_ENV;
        psrc->arg = spec + 4;
    } else if (strcmp(spec, "prompt") == 0) {
        psrc->kind = SECRET_PROMPT;
    } else if (strcmp(spec, "pinpad") == 0) {
        psrc->kind = SECRET_PINPAD;
    } else if (spec[0] == '/') {
        psrc->kind = SECRET_FILE;
        psrc->arg = spec;
    } else {
        return pe_failf(PE_E_USAGE,
                        "Secret source \"%s\" is not one of file:PATH, "
                        "fd:N, env:NAME, prompt or pinpad.",
                        spec);
    }
    if (psrc->kind != SECRET_PROMPT && psrc->kind != SECRET_PINPAD &&
        psrc->arg[0] == '\0')
        return pe_failf(PE_E_USAGE, "Secret source \"%s\" names nothing.",
                        spec);
    return PE_OK;
}

/*
 * Heap functions that wipe a block before it goes back to malloc: handed
 * to OpenSSL (secret_harden_process), libcurl and jansson (agent/http.c),
 * whose request, TLS record and JSON buffers hold Authorization headers,
 * token answers and one-time codes we cannot reach to wipe ourselves.
 */
void secret_heap_free(void *p)
{
    if (p == NULL)
        return;
    explicit_bzero(p, malloc_usable_size(p));
    free(p);
}

void *secret_heap_realloc(void *p, size_t n)
{
    size_t old;
    void *q;

    if (p == NULL)
        return malloc(n);
    if (n == 0) {
        secret_heap_free(p);
        return NULL;
    }
    old = malloc_usable_size(p);
    if (n <= old)
        return p; /* the block stays where it is: nothing left behind */
    q = malloc(n);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old);
    secret_heap_free(p);
    return q;
}

#ifndef __SANITIZE_ADDRESS__
static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return secret_heap_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    secret_heap_free(p);
}
#endif

enum pe_rc secret_harden_process(void)
{
    struct rlimit none = {0, 0};

    /* before OpenSSL allocates anything; a sanitizer build keeps its own
     * allocator, which checks more */
#ifndef __SANITIZE_ADDRESS__
    if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1)
        log_debug(LOG_CAT_SECRET, "OpenSSL allocated before its heap was set");
#endif
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return pe_failf(PE_E_INTERNAL, "Cannot turn core files off: %s.",
                        strerror(errno));
#ifndef __SANITIZE_ADDRESS__
    /* LeakSanitizer attaches to the process with ptrace, which a process
     * that is not dumpable refuses: sanitizer builds keep only the limit */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return pe_failf(PE_E_INTERNAL, "Cannot turn core files off: %s.",
                        strerror(errno));
#endif
    return PE_OK;
}

/* Bytes of a locked allocation holding n bytes: whole pages, because
 * mlock and MADV_DONTDUMP work on pages and a page shared with other data
 * would be dumped or unlocked with it. */
static size_t locked_size(size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t ps = page > 0 ? (size_t)page : 4096;

    return (n + ps - 1) / ps * ps;
}

void *secret_mem_alloc(size_t n)
{
    size_t size = locked_size(n);
    void *p = NULL;

    if (posix_memalign(&p, size > 4096 ? 4096 : size, size) != 0)
        return NULL;
    /* Best effort: RLIMIT_MEMLOCK may be small, and a core file is off
     * anyway (secret_harden_process); the bytes are still wiped. */
    if (mlock(p, size) != 0)
        log_debug(LOG_CAT_SECRET, "mlock of a secret: %s", strerror(errno));
    (void)madvise(p, size, MADV_DONTDUMP);
    return p;
}

void secret_mem_free(void *p, size_t n)
{
    size_t size = locked_size(n);

    if (p == NULL)
        return;
    OPENSSL_cleanse(p, size);
    (void)madvise(p, size, MADV_DODUMP);
    (void)munlock(p, size);
    free(p);
}

enum pe_rc secret_from_bytes(const void *data, size_t len,
                             struct secret **psecret)
{
    struct secret *s;

    *psecret = NULL;
    if (len > SECRET_MAX)
        return pe_failf(PE_E_PIN_SOURCE,
                        "The secret is longer than %d "
                        "bytes.",
                        SECRET_MAX);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return PE_E_NOMEM;
    s->buf = secret_mem_alloc(len + 1);
    if (s->buf == NULL) {
        free(s);
        return PE_E_NOMEM;
    }
    if (len > 0)
        memcpy(s->buf, data, len);
    s->buf[len] = '\0';
    s->len = len;
    *psecret = s;
    return PE_OK;
}

void secret_free(struct secret *s)
{
    if (s == NULL)
        return;
    if (s->buf != NULL)
        secret_mem_free(s->buf, s->len + 1);
    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}

bool secret_can_prompt(void)
{
    return isatty(STDIN_FILENO) != 0;
}

/* Read up to SECRET_MAX bytes of the first line of fd into buf. */
static enum pe_rc read_line_fd(int fd, char *buf, size_t *plen,
                               const char *what)
{
    size_t len = 0;
    ssize_t n;
    char c;

    for (;;) {
        n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR && interrupt_pending()) {
            OPENSSL_cleanse(buf, len);
            return PE_E_INTERRUPTED;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pe_failf(PE_E_PIN_SOURCE,
                            "Reading the secret from %s "
                            "failed: %s.",
                            what, strerror(errno));
        if (n == 0 || c == '\n')
            break;
        if (len >= SECRET_MAX) {
            OPENSSL_cleanse(buf, len);
            return pe_failf(PE_E_PIN_SOURCE,
                            "The secret in %s is longer "
                            "than %d bytes.",
                            what, SECRET_MAX);
        }
        buf[len++] = c;
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    *plen = len;
    return PE_OK;
}

static enum pe_rc read_prompt(const char *prompt, char *buf, size_t *plen)
{
    struct termios old, quiet;
    int fd;
    bool restore = false;
    enum pe_rc rc;

    fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return pe_failf(PE_E_PIN_SOURCE,
                        "No terminal to ask for the %s on; "
                        "give a PIN source (--pin-file, --pin-fd, "
                        "--pin-env).",
                        prompt ? prompt : "secret");
    if (tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    dprintf(fd, "%s: ", prompt ? prompt : "Secret");
    rc = read_line_fd(fd, buf, plen, "the terminal");
    dprintf(fd, "\n");
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    return rc;
}

/*
 * A secret read from an environment variable is wiped from the environment
 * (and from /proc/PID/environ) and the variable removed, so that no child
 * inherits it; its value is kept here, locked, for the reads that follow
 * in the same run (renew enrolls several certificates).
 */
#define ENV_CACHE_N 4

static struct {
    char name[128];
    struct secret *value;
} env_cache[ENV_CACHE_N];

static void env_cache_clear(void)
{
    size_t i;

    for (i = 0; i < ENV_CACHE_N; i++) {
        secret_free(env_cache[i].value);
        env_cache[i].value = NULL;
        env_cache[i].name[0] = '\0';
    }
}

/* The value of name into buf (*plen), taken out of the environment. */
static enum pe_rc read_env(const char *name, char *buf, size_t *plen)
{
    static bool registered;
    char *val;
    size_t i, len;
    enum pe_rc rc = PE_OK;

    for (i = 0; i < ENV_CACHE_N; i++) {
        if (env_cache[i].value != NULL &&
            strcmp(env_cache[i].name, name) == 0) {
            memcpy(buf, env_cache[i].value->buf, env_cache[i].value->len);
            *plen = env_cache[i].value->len;
            goto out;
        }
    }
    val = getenv(name);
    if (val == NULL) {
        rc = pe_failf(PE_E_PIN_SOURCE,
                      "The environment variable %s is not set.", name);
        goto out;
    }
    len = strlen(val);
    if (len > SECRET_MAX) {
        rc = pe_failf(PE_E_PIN_SOURCE, "The secret in %s is too long.", name);
        goto out;
    }
    memcpy(buf, val, len);
    *plen = len;
    OPENSSL_cleanse(val, len);
    unsetenv(name);
    for (i = 0; i < ENV_CACHE_N; i++)
        if (env_cache[i].value == NULL)
            break;
    if (i < ENV_CACHE_N && strlen(name) < sizeof(env_cache[i].name) &&
        secret_from_bytes(buf, len, &env_cache[i].value) == PE_OK) {
        snprintf(env_cache[i].name, sizeof(env_cache[i].name), "%s", name);
        if (!registered)
            registered = atexit(env_cache_clear) == 0;
    }
out:
    return rc;
}

/* A secret file others can read is refused, as ssh refuses such a key:
 * whoever can read it has the secret already, and it should be fixed. */
static enum pe_rc check_file_private(int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return pe_failf(PE_E_PIN_SOURCE,
                        "Cannot check the secret file "
                        "\"%s\": %s.",
                        path, strerror(errno));
    if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        return pe_failf(PE_E_PIN_SOURCE,
                        "The secret file \"%s\" can be read by group or "
                        "others (mode %04o); make it private: chmod 600 %s",
                        path, (unsigned)(st.st_mode & 07777), path);
    return PE_OK;
}

enum pe_rc secret_read(const struct secret_source *src, bool allow_empty,
                       struct secret **psecret)
{
    char *buf = NULL;
    size_t len = 0;
    int fd = -1;
    long n;
    char *end;
    enum pe_rc rc = PE_E_PIN_SOURCE;

    *psecret = NULL;
    if (src->kind == SECRET_PINPAD) {
        struct secret *s = calloc(1, sizeof(*s));

        if (s == NULL)
            return PE_E_NOMEM;
        *psecret = s;
        return PE_OK;
    }
    buf = secret_mem_alloc(SECRET_MAX + 1);
    if (buf == NULL)
        return PE_E_NOMEM;

    switch (src->kind) {
    case SECRET_FILE:
        fd = open(src->arg, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = pe_failf(PE_E_PIN_SOURCE,
                          "Cannot open the secret file "
                          "\"%s\": %s.",
                          src->arg, strerror(errno));
            goto out;
        }
        rc = check_file_private(fd, src->arg);
        if (rc == PE_OK)
            rc = read_line_fd(fd, buf, &len, src->arg);
        break;
    case SECRET_FD:
        errno = 0;
        n = strtol(src->arg, &end, 10);
        if (errno != 0 || *end != '\0' || n < 0 || n > INT_MAX) {
            rc = pe_failf(PE_E_USAGE, "\"%s\" is not a file descriptor.",
                          src->arg);
            goto out;
        }
        rc = read_line_fd((int)n, buf, &len, "the file descriptor");
        break;
    case SECRET_ENV:
        rc = read_env(src->arg, buf, &len);
        break;
    case SECRET_PROMPT:
        rc = read_prompt(src->prompt, buf, &len);
        break;
    default:
        rc = pe_failf(PE_E_PIN_SOURCE, "No secret source was given.");
        break;
    }
    if (rc != PE_OK)
        goto out;
    if (len == 0 && !allow_empty) {
        rc = pe_failf(PE_E_PIN_SOURCE, "The secret read was empty.");
        goto out;
    }
    rc = secret_from_bytes(buf, len, psecret);
    log_debug(LOG_CAT_SECRET, "read a secret of %zu bytes: ***", len);
out:
    if (fd >= 0)
        close(fd);
    secret_mem_free(buf, SECRET_MAX + 1);
    return rc;
}
