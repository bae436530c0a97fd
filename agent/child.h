/* SPDX-License-Identifier: Apache-2.0 */
/*
 * child.h - running a shell command we did not write, without handing it
 * a secret: the one spawn of --attestation-cmd and --otp-cmd.
 */
#ifndef P11E_CHILD_H
#define P11E_CHILD_H

#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

/* The most facts a command is given beside PATH, HOME and LANG. */
#define CHILD_FACTS_MAX 4

struct child_cmd {
    const char *cmd;    /* run with /bin/sh -c */
    const char *what;   /* for sentences: "attestation command" */
    const char *longer; /* the option for a longer wait: "--otp-timeout" */
    /* "NAME=value" strings (borrowed), NULL-terminated; no secret here */
    const char *const *facts;
    long timeout_s;
    enum pe_rc fail_rc; /* the result of a command that fails or hangs */
};

/*
 * Run c->cmd (posix_spawn, no fork after C_Initialize) with an environment
 * of PATH, HOME, LANG and c->facts only, /dev/null as its standard input,
 * a pipe to us as its standard output, our standard error, and no other
 * descriptor.  Up to max bytes of its output go to buf (caller's memory,
 * e.g. secret_mem_alloc for a code), the rest is read and dropped with
 * *ptruncated set.  After c->timeout_s seconds it and what it started are
 * killed.  A command that cannot start, fails, is killed or times out:
 * c->fail_rc and one sentence naming the command.
 */
enum pe_rc child_run(const struct child_cmd *c, unsigned char *buf, size_t max,
                     size_t *plen, bool *ptruncated);

#endif
