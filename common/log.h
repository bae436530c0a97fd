/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - developer traces and user-facing messages.
 *
 * Two channels.  log_error/warn/info/debug are traces for developers, on
 * stderr; debug lines are printed only for the categories named in
 * P11ENROLL_DEBUG (comma-separated: pkcs11,http,csr,journal,secret,all;
 * "time" adds the milliseconds since start in front of every trace line).
 * say()/progress() are what the person reads.  Nothing here ever prints a
 * PIN, a client secret or an Authorization header: callers pass "***".
 */
#ifndef P11E_LOG_H
#define P11E_LOG_H

#include <stdbool.h>

enum log_cat {
    LOG_CAT_GENERAL = 1u << 0,
    LOG_CAT_PKCS11 = 1u << 1,
    LOG_CAT_HTTP = 1u << 2,
    LOG_CAT_CSR = 1u << 3,
    LOG_CAT_JOURNAL = 1u << 4,
    LOG_CAT_SECRET = 1u << 5,
    LOG_CAT_TIME = 1u << 6, /* not a category of lines: a time stamp */
};

/* Read P11ENROLL_DEBUG once; quiet suppresses info and progress. */
void log_init(bool quiet, bool verbose);

/* true when debug lines of cat would be printed. */
bool log_enabled(enum log_cat cat);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(enum log_cat cat, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line for the person at the terminal (stderr; stdout stays data). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
