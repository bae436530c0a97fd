/* SPDX-License-Identifier: Apache-2.0 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    s->buf = malloc(len + 1);
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
    if (s->buf != NULL) {
        OPENSSL_cleanse(s->buf, s->len);
        free(s->buf);
    }
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

enum pe_rc secret_read(const struct secret_source *src, bool allow_empty,
                       struct secret **psecret)
{
    char *buf = NULL;
    size_t len = 0;
    int fd = -1;
    long n;
    char *end;
    const char *val;
    enum pe_rc rc = PE_E_PIN_SOURCE;

    *psecret = NULL;
    if (src->kind == SECRET_PINPAD) {
        struct secret *s = calloc(1, sizeof(*s));

        if (s == NULL)
            return PE_E_NOMEM;
        *psecret = s;
        return PE_OK;
    }
    buf = malloc(SECRET_MAX + 1);
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
        val = getenv(src->arg);
        if (val == NULL) {
            rc = pe_failf(PE_E_PIN_SOURCE,
                          "The environment variable %s is "
                          "not set.",
                          src->arg);
            goto out;
        }
        len = strlen(val);
        if (len > SECRET_MAX) {
            rc = pe_failf(PE_E_PIN_SOURCE, "The secret in %s is too long.",
                          src->arg);
            goto out;
        }
        memcpy(buf, val, len);
        rc = PE_OK;
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
    OPENSSL_cleanse(buf, SECRET_MAX + 1);
    free(buf);
    return rc;
}
