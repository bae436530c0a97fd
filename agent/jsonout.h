/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonout.h - the one envelope every command's --json output uses
 * (docs/json-schema.md):
 *
 *   {"schema": "p11enroll/2", "command": "doctor",
 *    "result": {...} | null,
 *    "error": null | {"code": 8, "name": "PE_E_PIN_INCORRECT",
 *                     "message": "The token refused the PIN."}}
 *
 * "error" is null exactly when the process exits 0; "code" is the exit
 * code, "name" the stable pe_rc name, "message" the one sentence that
 * also goes to standard error.
 */
#ifndef P11E_JSONOUT_H
#define P11E_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "rc.h"

/* The schema name; the number changes only when a member changes meaning
 * or goes away (new members may appear at any time). */
#define JSONOUT_SCHEMA "p11enroll/2"

/* The machine-readable form docs/p11enroll.schema.json checks: member
 * names in snake_case, times as RFC 3339 in UTC, unknown times null. */

/* {"code", "name", "message"} for rc (message: pe_sentence(rc)); NULL for
 * PE_OK or out of memory.  New reference. */
json_t *jsonout_error(enum pe_rc rc);

/* The envelope for command with result (reference taken; NULL becomes
 * null) and the outcome rc.  New reference, NULL when out of memory. */
json_t *jsonout_envelope(const char *command, json_t *result, enum pe_rc rc);

/* Print the envelope on stdout, indented, one trailing newline; takes
 * result.  Returns rc unchanged (PE_E_NOMEM if it could not be made). */
enum pe_rc jsonout_print(const char *command, json_t *result, enum pe_rc rc);

/* Whether jsonout_print ran in this process (main() prints the envelope
 * for a failure that came before the command printed one). */
bool jsonout_printed(void);

/* Whether argv (argv[0] the command) asks for --json, before any "--".
 * Used where parsing failed and the parsed flag is not known. */
bool jsonout_wanted(int argc, char **argv);

/* t as an RFC 3339 string, or null for 0 (not known).  New reference. */
json_t *jsonout_time(time_t t);

/* A time p11enroll stored as text (util_time_parse's forms) as RFC 3339,
 * or null when s is NULL or not a time.  New reference. */
json_t *jsonout_time_text(const char *s);

/* A certificate as export and install report it: subject and issuer
 * (RFC 2253), serial (upper-case hex) and not_after.  New reference. */
json_t *jsonout_cert(X509 *x);

/* The snake_case form of a camelCase name ("tokenUri" -> "token_uri")
 * into buf; "" when it does not fit.  Returns buf. */
const char *jsonout_snake(const char *name, char *buf, size_t size);

#endif
