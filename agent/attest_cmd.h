/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest_cmd.h - a key attestation made by an outside command.
 *
 * Luna (`cmu getpkc`), nShield (`nfkmattest`) and cloud HSMs make their
 * attestation with vendor tools, not through PKCS#11.  --attestation-cmd
 * names a shell command whose standard output is taken as the package.
 */
#ifndef P11E_ATTEST_CMD_H
#define P11E_ATTEST_CMD_H

#include <stddef.h>

#include "rc.h"

/* The most an attestation command may print. */
#define ATTEST_CMD_MAX (256 * 1024)

/* Seconds an attestation command may run unless --attestation-timeout
 * says otherwise. */
#define ATTEST_CMD_TIMEOUT 60

/*
 * Run cmd with /bin/sh -c (posix_spawn, no fork after C_Initialize) and
 * collect its standard output (at most ATTEST_CMD_MAX bytes) into a new
 * buffer (*pout, free()).  Its environment is PATH, HOME, LANG and
 * P11ENROLL_KEY_URI, P11ENROLL_KEY_ID (hex) and P11ENROLL_TOKEN_URI only;
 * it gets /dev/null, the pipe and our standard error as descriptors 0-2
 * and no other.  After timeout_s seconds (0: ATTEST_CMD_TIMEOUT) it and
 * what it started are killed.  A command that fails, times out, prints
 * nothing or too much: PE_E_TOKEN.
 */
enum pe_rc attest_cmd_run(const char *cmd, const char *key_uri,
                          const char *key_id_hex, const char *token_uri,
                          long timeout_s, unsigned char **pout, size_t *plen);

#endif
