/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lifeopt.c - doctor's and renew's own options, taken out of argv before
 * enroll_parse_args sees the rest.
 */
#include "lifeopt.h"

#include <stdlib.h>
#include <string.h>

#include "expiry.h"

/* true (and *pval set) when argv[*pk] is --NAME VALUE or --NAME=VALUE. */
static bool is_opt(const char *name, int argc, char **argv, int *pk,
                   const char **pval)
{
    const char *a = argv[*pk];
    size_t len = strlen(name);

    if (strncmp(a, name, len) == 0 && a[len] == '=') {
        *pval = a + len + 1;
        return true;
    }
    if (strcmp(a, name) != 0)
        return false;
    *pval = *pk + 1 < argc ? argv[++*pk] : NULL;
    return true;
}

enum pe_rc lifeopt_split(int argc, char **argv, bool renew, struct lifeopt *lo)
{
    const char *val;
    bool rest = false;
    int k;
    enum pe_rc rc;

    memset(lo, 0, sizeof(*lo));
    lo->within_s = EXPIRY_WINDOW_AUTO;
    lo->argv = calloc((size_t)argc + 1, sizeof(char *));
    if (lo->argv == NULL)
        return PE_E_NOMEM;
    lo->argv[lo->argc++] = argv[0];
    for (k = 1; k < argc; k++) {
        const char *a = argv[k];

        if (!rest && strcmp(a, "--") == 0) {
            rest = true;
        } else if (!rest && renew &&
                   is_opt("--notify-cmd", argc, argv, &k, &val)) {
            if (val == NULL || val[0] == '\0')
                return pe_failf(PE_E_USAGE, "Option \"--notify-cmd\" needs "
                                            "a command.");
            lo->notify_cmd = val;
            continue;
        } else if (!rest && is_opt("--within", argc, argv, &k, &val)) {
            if (val == NULL)
                return pe_failf(PE_E_USAGE, "Option \"--within\" needs a "
                                            "value.");
            rc = expiry_parse_window(val, &lo->within_s);
            if (rc != PE_OK)
                return rc;
            continue;
        } else if (!rest &&
                   (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            lo->help = true;
            continue;
        } else if (!rest && renew && strcmp(a, "--rekey") == 0) {
            lo->rekey = true;
            continue;
        } else if (!rest && renew && strcmp(a, "--reuse-key") == 0) {
            lo->reuse_key = true;
            continue;
        } else if (!rest && renew && strcmp(a, "--retire-old") == 0) {
            lo->retire_old = true;
            continue;
        } else if (!rest && renew && strcmp(a, "--dry-run") == 0) {
            lo->dry_run = true;
            continue;
        } else if (!rest && renew && strcmp(a, "--yes") == 0) {
            lo->yes = true;
            continue;
        }
        lo->argv[lo->argc++] = argv[k];
    }
    if (lo->rekey && lo->reuse_key)
        return pe_failf(PE_E_USAGE, "Give --rekey or --reuse-key, not both.");
    return PE_OK;
}

void lifeopt_free(struct lifeopt *lo)
{
    free(lo->argv);
    lo->argv = NULL;
    lo->argc = 0;
}
