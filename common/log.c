/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned debug_mask;
static bool quiet_mode;
static bool verbose_mode;
static struct timespec t_start; /* for the "time" category */

static const struct {
    const char *name;
    unsigned mask;
} cats[] = {
    {"general", LOG_CAT_GENERAL}, {"pkcs11", LOG_CAT_PKCS11},
    {"http", LOG_CAT_HTTP},       {"csr", LOG_CAT_CSR},
    {"journal", LOG_CAT_JOURNAL}, {"secret", LOG_CAT_SECRET},
    {"time", LOG_CAT_TIME},       {"all", ~(unsigned)LOG_CAT_TIME},
};

void log_init(bool quiet, bool verbose)
{
    const char *env = getenv("P11ENROLL_DEBUG");
    char buf[256];
    char *tok, *save = NULL;
    size_t i;

    quiet_mode = quiet;
    verbose_mode = verbose;
    debug_mask = 0;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    if (env == NULL)
        return;
    snprintf(buf, sizeof(buf), "%s", env);
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
            if (strcmp(tok, cats[i].name) == 0)
                debug_mask |= cats[i].mask;
    }
}

bool log_enabled(enum log_cat cat)
{
    return (debug_mask & (unsigned)cat) != 0;
}

static void __attribute__((format(printf, 2, 0)))
vlog(const char *prefix, const char *fmt, va_list ap)
{
    struct timespec now;

    flockfile(stderr); /* whole lines, when two threads trace */
    if ((debug_mask & LOG_CAT_TIME) != 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        fprintf(stderr, "%9.3f ",
                (double)(now.tv_sec - t_start.tv_sec) * 1e3 +
                    (double)(now.tv_nsec - t_start.tv_nsec) / 1e6);
    }
    fprintf(stderr, "p11enroll: %s", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog("error: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;

    if (!verbose_mode && debug_mask == 0)
        return;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void log_debug(enum log_cat cat, const char *fmt, ...)
{
    va_list ap;

    if (!log_enabled(cat))
        return;
    va_start(ap, fmt);
    vlog("debug: ", fmt, ap);
    va_end(ap);
}

void say(const char *fmt, ...)
{
    va_list ap;

    if (quiet_mode)
        return;
    flockfile(stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}
