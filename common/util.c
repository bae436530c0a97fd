/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.c - hex, durations and RFC 3339 times (see util.h for the rules).
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

const char *util_hex_encode(const unsigned char *data, size_t len, char *buf,
                            size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (len > (size - 1) / 2)
        return buf;
    for (i = 0; i < len; i++) {
        buf[2 * i] = digits[data[i] >> 4];
        buf[2 * i + 1] = digits[data[i] & 0x0f];
    }
    buf[2 * len] = '\0';
    return buf;
}

enum pe_rc util_hex_decode(const char *hex, unsigned char *buf, size_t size,
                           size_t *plen)
{
    const char *p = hex;
    size_t n = 0;
    int hi, lo;

    while (*p != '\0') {
        if (*p == ':' || *p == '%' || *p == ' ') {
            p++;
            continue;
        }
        hi = OPENSSL_hexchar2int((unsigned char)p[0]);
        lo = hi >= 0 ? OPENSSL_hexchar2int((unsigned char)p[1]) : -1;
        if (hi < 0 || lo < 0 || n >= size)
            return pe_failf(PE_E_INPUT,
                            "\"%s\" is not hex of at most %zu bytes.", hex,
                            size);
        buf[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    *plen = n;
    return PE_OK;
}

enum pe_rc util_duration_parse(const char *s, long max, long *psecs)
{
    static const struct {
        char unit;
        long secs;
    } units[] = {{'s', 1},      {'m', 60},         {'h', 3600},
                 {'d', 86400L}, {'w', 7 * 86400L}, {'\0', 1}};
    const char *text = s != NULL ? s : "";
    char *end = NULL;
    long v;
    size_t i;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno == 0 && end != text && isdigit((unsigned char)text[0])) {
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (*end != units[i].unit ||
                (units[i].unit != '\0' && end[1] != '\0'))
                continue;
            if (v > max / units[i].secs)
                break;
            *psecs = v * units[i].secs;
            return PE_OK;
        }
        if (i < sizeof(units) / sizeof(units[0]))
            return max % 86400 == 0
                       ? pe_failf(PE_E_USAGE, "\"%s\" is longer than %ld days.",
                                  text, max / 86400)
                       : pe_failf(PE_E_USAGE,
                                  "\"%s\" is longer than %ld seconds.", text,
                                  max);
    }
    return pe_failf(PE_E_USAGE,
                    "\"%s\" is not a duration such as 90s, 15m, 12h, 30d or "
                    "2w (a bare number is seconds).",
                    text);
}

const char *util_time_rfc3339(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (size == 0)
        return buf;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "?");
    return buf;
}

/* n decimal digits at s into *pv; false if any is not a digit. */
static bool digits_at(const char *s, int n, int *pv)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *pv = v;
    return true;
}

bool util_time_parse(const char *s, time_t *pt)
{
    struct tm tm, back;
    time_t t;
    bool ok;

    memset(&tm, 0, sizeof(tm));
    ok = s != NULL && strlen(s) >= 19 && digits_at(s, 4, &tm.tm_year) &&
         s[4] == '-' && digits_at(s + 5, 2, &tm.tm_mon) && s[7] == '-' &&
         digits_at(s + 8, 2, &tm.tm_mday) &&
         digits_at(s + 11, 2, &tm.tm_hour) && s[13] == ':' &&
         digits_at(s + 14, 2, &tm.tm_min) && s[16] == ':' &&
         digits_at(s + 17, 2, &tm.tm_sec);
    if (ok)
        ok = ((s[10] == 'T' || s[10] == 't') &&
              (strcmp(s + 19, "Z") == 0 || strcmp(s + 19, "z") == 0)) ||
             (s[10] == ' ' && strcmp(s + 19, " UTC") == 0);
    if (ok) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        back = tm;
        t = timegm(&tm);
        /* timegm normalises 02-30 to 03-02: a changed field means the
         * text was not a real time */
        ok = t != (time_t)-1 && tm.tm_year == back.tm_year &&
             tm.tm_mon == back.tm_mon && tm.tm_mday == back.tm_mday &&
             tm.tm_hour == back.tm_hour && tm.tm_min == back.tm_min &&
             tm.tm_sec == back.tm_sec;
        if (ok)
            *pt = t;
    }
    return ok;
}

enum pe_rc util_time_asn1(const ASN1_TIME *t, time_t *pt)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return pe_failf(PE_E_INPUT, "A certificate has an unreadable "
                                    "validity time.");
    *pt = timegm(&tm);
    return PE_OK;
}
