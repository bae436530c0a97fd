/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lifeopt.h - the options `doctor` and `renew` add to enroll's.
 *
 * Both commands take every option `enroll` takes (token, PIN, CA, config
 * files: enroll_parse_args), so they check and renew exactly what an
 * enrollment with the same options and config would do.  lifeopt_split()
 * takes their own options out of argv first:
 *
 *   --within DURATION             both (default: the earlier of 60 days or
 *                                 a third of each certificate's lifetime)
 *   --rekey --reuse-key --retire-old --dry-run --yes
 *   --notify-cmd CMD              renew only
 *   -h, --help                    both (the command prints its own usage)
 */
#ifndef P11E_LIFEOPT_H
#define P11E_LIFEOPT_H

#include <stdbool.h>

#include "rc.h"

struct lifeopt {
    long within_s; /* --within, EXPIRY_WINDOW_AUTO if not given */
    bool rekey, reuse_key, retire_old, dry_run, yes, help;
    const char *notify_cmd; /* --notify-cmd (borrowed from argv) */
    int argc;    /* what is left for enroll_parse_args, argv[0] kept */
    char **argv; /* (allocated array, borrowed strings) */
};

/* Split argv (renew: with --rekey/--reuse-key/--retire-old).  PE_E_USAGE
 * for a bad --within or --rekey with --reuse-key.  lifeopt_free() after,
 * also on failure. */
enum pe_rc lifeopt_split(int argc, char **argv, bool renew, struct lifeopt *lo);

/* Free the argv array; safe to call twice. */
void lifeopt_free(struct lifeopt *lo);

#endif
