/* SPDX-License-Identifier: Apache-2.0 */
/*
 * optsuggest.c - see optsuggest.h.
 */
#include "optsuggest.h"

#include <string.h>

#define NAME_MAX_LEN 40

/* Edit distance of a and b (each at most NAME_MAX_LEN bytes looked at). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strnlen(a, NAME_MAX_LEN), lb = strnlen(b, NAME_MAX_LEN);
    size_t row[NAME_MAX_LEN + 1], i, j, diag, up, best;

    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            up = row[j];
            best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

enum pe_rc optsuggest_unknown(const struct option *longopts, const char *arg,
                              const char *cmd)
{
    char name[NAME_MAX_LEN + 1];
    const struct option *lo, *near = NULL;
    size_t best = (size_t)-1, d, n;

    if (strncmp(arg, "--", 2) != 0)
        return pe_failf(PE_E_USAGE,
                        "Unknown option \"%s\"; see p11enroll %s "
                        "--help.",
                        arg, cmd);
    n = strcspn(arg + 2, "=");
    if (n > NAME_MAX_LEN)
        n = NAME_MAX_LEN;
    memcpy(name, arg + 2, n);
    name[n] = '\0';
    if (strcmp(name, "pin") == 0 || strcmp(name, "so-pin") == 0)
        return pe_failf(PE_E_USAGE,
                        "A PIN is never taken on the command line, where "
                        "other users can read it: give --%s-file F, "
                        "--%s-env NAME, --%s-fd N or --%s-source, or let "
                        "p11enroll ask for it on the terminal.",
                        name, name, name, name);
    for (lo = longopts; lo->name != NULL; lo++) {
        d = distance(name, lo->name);
        /* a prefix that getopt found ambiguous is near all it starts */
        if (strncmp(lo->name, name, n) == 0 && n >= 3)
            d = 1;
        if (d < best) {
            best = d;
            near = lo;
        }
    }
    if (near != NULL && best <= 2 + n / 4)
        return pe_failf(PE_E_USAGE,
                        "Unknown option \"%s\"; did you mean --%s? (see "
                        "p11enroll %s --help)",
                        arg, near->name, cmd);
    return pe_failf(PE_E_USAGE,
                    "Unknown option \"%s\"; see p11enroll %s "
                    "--help.",
                    arg, cmd);
}
