/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tokopt.h - the token and PIN options every command that touches a token
 * shares (--token, --module, --token-family, --pin-*, --so-pin-*), parsed
 * in one place.  Use inside a getopt_long loop:
 *
 *   static const struct option longopts[] = {
 *       TOKOPT_LONGOPTS,
 *       {"json", no_argument, NULL, 'j'},
 *       {NULL, 0, NULL, 0},
 *   };
 *   ...
 *   default:
 *       if (tokopt_is(c)) rc = tokopt_set(&to, c, optarg); else usage...
 *   ...
 *   rc = tokopt_finish(&to);            (after the loop)
 *   rc = tokopt_open(&to, &ctx);
 *   rc = tokopt_login(&to, ctx, TOK_USER);
 */
#ifndef P11E_TOKOPT_H
#define P11E_TOKOPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rc.h"
#include "secret.h"
#include "tok.h"

enum tokopt_id {
    TOKOPT_TOKEN = 0x2000,
    TOKOPT_MODULE,
    TOKOPT_FAMILY,
    TOKOPT_PIN_FILE,
    TOKOPT_PIN_FD,
    TOKOPT_PIN_ENV,
    TOKOPT_PIN_SOURCE,
    TOKOPT_PINPAD,
    TOKOPT_SO_PIN_FILE,
    TOKOPT_SO_PIN_FD,
    TOKOPT_SO_PIN_ENV,
    TOKOPT_SO_PIN_SOURCE,
    TOKOPT_END
};

/* Entries for a struct option array (no terminator). */
/* clang-format off */
#define TOKOPT_LONGOPTS                                                \
    {"token", required_argument, NULL, TOKOPT_TOKEN},                  \
    {"module", required_argument, NULL, TOKOPT_MODULE},                \
    {"token-family", required_argument, NULL, TOKOPT_FAMILY},          \
    {"pin-file", required_argument, NULL, TOKOPT_PIN_FILE},            \
    {"pin-fd", required_argument, NULL, TOKOPT_PIN_FD},                \
    {"pin-env", required_argument, NULL, TOKOPT_PIN_ENV},              \
    {"pin-source", required_argument, NULL, TOKOPT_PIN_SOURCE},        \
    {"pinpad", no_argument, NULL, TOKOPT_PINPAD},                      \
    {"so-pin-file", required_argument, NULL, TOKOPT_SO_PIN_FILE},      \
    {"so-pin-fd", required_argument, NULL, TOKOPT_SO_PIN_FD},          \
    {"so-pin-env", required_argument, NULL, TOKOPT_SO_PIN_ENV},        \
    {"so-pin-source", required_argument, NULL, TOKOPT_SO_PIN_SOURCE}
/* clang-format on */

#define TOKOPT_SPEC_MAX 4200

struct tokopt {
    const char *token;        /* --token URI (NULL: any one token) */
    const char *module;       /* --module PATH|NAME (NULL: URI, else p11-kit) */
    const char *family;       /* --token-family generic|ykcs11|... */
    struct secret_source pin; /* kind SECRET_NONE when not given */
    struct secret_source so_pin; /* --so-pin-*: SO PIN / management key */
    /* private: the specs the sources point into */
    char pin_spec[TOKOPT_SPEC_MAX], so_spec[TOKOPT_SPEC_MAX];
};

/* Zero *o. */
void tokopt_init(struct tokopt *o);

/* true when c (from getopt_long) is one of TOKOPT_LONGOPTS. */
bool tokopt_is(int c);

/* Record option c with its argument (borrowed: argv lives long enough).
 * A second PIN source of the same kind is PE_E_USAGE. */
enum pe_rc tokopt_set(struct tokopt *o, int c, const char *arg);

/* Parse the PIN specs once all options are in; PE_E_USAGE if bad. */
enum pe_rc tokopt_finish(struct tokopt *o);

/* tok_open with --token/--module, then the --token-family override. */
enum pe_rc tokopt_open(const struct tokopt *o, struct tok_ctx **pctx);

/* true when a person can answer prompts: stdin and stderr are terminals
 * and the PIN does not come from a file, fd or variable. */
bool tokopt_interactive(const struct tokopt *o);

/* tok_login as user (with --pin-*) or SO (with --so-pin-*); with no
 * option: the URI's pin-source, the PIN pad, then a prompt. */
enum pe_rc tokopt_login(const struct tokopt *o, struct tok_ctx *ctx,
                        enum tok_user user);

/* Log in for key work: as SO when --so-pin-* was given (ykcs11's
 * management key), with --pin-* (or, interactive, a prompt) kept for the
 * key's context-specific logins; else as user. */
enum pe_rc tokopt_login_auto(const struct tokopt *o, struct tok_ctx *ctx);

/*
 * The rest of a command's getopt_long switch: one of TOKOPT_LONGOPTS
 * (tokopt_set), a missing value (':') or an option unknown to verb, the
 * last two as PE_E_USAGE naming argv[optind - 1].
 */
enum pe_rc tokopt_getopt_other(struct tokopt *o, int c, const char *verb,
                               char **argv);

/* The existing key named by --key-uri, else by --key-id (hex); one of
 * them must be given.  Allocates *pkey (tok_key_free). */
enum pe_rc tokopt_find_key(struct tok_ctx *ctx, const char *key_id,
                           const char *key_uri, struct tok_key **pkey);

/* Lines describing the shared options, for a command's --help. */
void tokopt_usage(FILE *f, bool with_so);

/* A key ID in hex (util_hex_decode) -> bytes into buf; PE_E_USAGE naming
 * it if it is not hex, too long or empty. */
enum pe_rc tokopt_parse_hex(const char *hex, unsigned char *buf, size_t size,
                            size_t *plen);

#endif
