/* SPDX-License-Identifier: Apache-2.0 */
/*
 * optsuggest.h - the one sentence for an option getopt_long did not take:
 * the nearest known option, and for --pin, where a PIN is taken from.
 */
#ifndef P11E_OPTSUGGEST_H
#define P11E_OPTSUGGEST_H

#include <getopt.h>

#include "rc.h"

/* PE_E_USAGE with a sentence for arg, an option of command cmd that is not
 * among longopts (NULL-name terminated). */
enum pe_rc optsuggest_unknown(const struct option *longopts, const char *arg,
                              const char *cmd);

#endif
