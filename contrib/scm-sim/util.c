/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.c - random numbers, base64, files and form decoding for scm-sim.
 */
#include "scm_sim.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *util_random_hex(size_t nbytes)
{
    unsigned char buf[64];
    char *out = NULL;
    size_t i;

    if (nbytes > sizeof(buf) || RAND_bytes(buf, (int)nbytes) != 1)
        return NULL;
    out = malloc(2 * nbytes + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", buf[i]);
    OPENSSL_cleanse(buf, sizeof(buf));
    return out;
}

unsigned long util_random_below(unsigned long n)
{
    unsigned long v = 0;

    if (n == 0 || RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
        return 0;
    return v % n; /* the bias is irrelevant for n far below 2^64 */
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

unsigned char *util_b64_decode(const char *in, size_t inlen, size_t *plen)
{
    unsigned char *out = NULL;
    size_t i, n = 0, pad = 0;
    unsigned long acc = 0;
    int bits = 0, v;

    if (inlen == 0 || inlen % 4 != 0)
        return NULL;
    if (in[inlen - 1] == '=')
        pad++;
    if (in[inlen - 2] == '=')
        pad++;
    out = malloc(inlen / 4 * 3 + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; i < inlen - pad; i++) {
        v = b64_value((unsigned char)in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    *plen = n;
    return out;
}

char *util_b64_encode(const unsigned char *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);

    if (out == NULL)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}

char *util_read_file(const char *path, size_t max, size_t *plen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t n;

    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    buf = malloc(max + 1);
    if (buf == NULL)
        goto out;
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    if (plen != NULL)
        *plen = n;
out:
    fclose(f);
    return buf;
}

int util_write_file(const char *path, const void *data, size_t len, bool sync)
{
    char tmp[4096];
    int fd = -1, rc = -1;
    const char *p = data;
    ssize_t w;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (len > 0) {
        w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        p += w;
        len -= (size_t)w;
    }
    if (sync && fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int util_mkdirs(const char *path)
{
    char buf[4096];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        buf[i] = path[i];
    }
    return 0;
}

char *util_printf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    out = malloc((size_t)n + 1);
    if (out == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode one form-urlencoded value of n bytes; malloc'ed. */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t i, o = 0;
    int hi, lo;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n &&
                   (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
                   (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

char *util_form_value(const char *body, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = body, *end;

    while (p != NULL && *p != '\0') {
        end = strchr(p, '&');
        if (end == NULL)
            end = p + strlen(p);
        if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
            p[nlen] == '=')
            return form_decode(p + nlen + 1, (size_t)(end - p) - nlen - 1);
        p = *end == '&' ? end + 1 : NULL;
    }
    return NULL;
}

bool util_secret_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

bool util_valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    size_t i, n = strlen(s);

    if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL || strchr(at + 1, '.') == NULL)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' ||
            c == '\\' || c == ',' || c == ';' || c == '/')
            return false;
    }
    return true;
}

time_t util_now(void)
{
    return time(NULL);
}
