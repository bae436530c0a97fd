/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tokopt.c - the shared token and PIN options of every token command.
 */
#include "tokopt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void tokopt_init(struct tokopt *o)
{
    memset(o, 0, sizeof(*o));
}

bool tokopt_is(int c)
{
    return c >= TOKOPT_TOKEN && c < TOKOPT_END;
}

static enum pe_rc set_spec(char *buf, const char *kind, const char *arg,
                           const char *what)
{
    int n;

    if (buf[0] != '\0')
        return pe_failf(PE_E_USAGE, "Give one %s source only.", what);
    if (arg == NULL || arg[0] == '\0')
        return pe_failf(PE_E_USAGE, "An empty %s source was given.", what);
    n = snprintf(buf, TOKOPT_SPEC_MAX, "%s%s%s", kind ? kind : "",
                 kind ? ":" : "", arg);
    if (n < 0 || n >= TOKOPT_SPEC_MAX)
        return pe_failf(PE_E_USAGE, "The %s source is too long.", what);
    return PE_OK;
}

enum pe_rc tokopt_set(struct tokopt *o, int c, const char *arg)
{
    switch (c) {
    case TOKOPT_TOKEN:
        o->token = arg;
        return PE_OK;
    case TOKOPT_MODULE:
        /* e.g. $(dpkg -L ykcs11 | grep ...) when the package is missing */
        if (arg[0] == '\0')
            return pe_failf(PE_E_USAGE,
                            "--module is empty: give the module's path or "
                            "its p11-kit name (p11enroll tokens lists them).");
        o->module = arg;
        return PE_OK;
    case TOKOPT_FAMILY:
        o->family = arg;
        return PE_OK;
    case TOKOPT_PIN_FILE:
        return set_spec(o->pin_spec, "file", arg, "PIN");
    case TOKOPT_PIN_FD:
        return set_spec(o->pin_spec, "fd", arg, "PIN");
    case TOKOPT_PIN_ENV:
        return set_spec(o->pin_spec, "env", arg, "PIN");
    case TOKOPT_PIN_SOURCE:
        return set_spec(o->pin_spec, NULL, arg, "PIN");
    case TOKOPT_PINPAD:
        return set_spec(o->pin_spec, NULL, "pinpad", "PIN");
    case TOKOPT_SO_PIN_FILE:
        return set_spec(o->so_spec, "file", arg, "SO PIN");
    case TOKOPT_SO_PIN_FD:
        return set_spec(o->so_spec, "fd", arg, "SO PIN");
    case TOKOPT_SO_PIN_ENV:
        return set_spec(o->so_spec, "env", arg, "SO PIN");
    case TOKOPT_SO_PIN_SOURCE:
        return set_spec(o->so_spec, NULL, arg, "SO PIN");
    default:
        return pe_failf(PE_E_INTERNAL, "tokopt_set: option %d", c);
    }
}

enum pe_rc tokopt_finish(struct tokopt *o)
{
    enum pe_rc rc;
    enum tok_family f;

    if (o->pin_spec[0] != '\0') {
        rc = secret_source_parse(o->pin_spec, &o->pin);
        if (rc != PE_OK)
            return rc;
    }
    if (o->so_spec[0] != '\0') {
        rc = secret_source_parse(o->so_spec, &o->so_pin);
        if (rc != PE_OK)
            return rc;
    }
    if (o->family != NULL)
        return tok_family_parse(o->family, &f);
    return PE_OK;
}

enum pe_rc tokopt_open(const struct tokopt *o, struct tok_ctx **pctx)
{
    enum tok_family f;
    enum pe_rc rc;

    *pctx = NULL;
    if (o->family != NULL) {
        rc = tok_family_parse(o->family, &f);
        if (rc != PE_OK)
            return rc;
    }
    rc = tok_open(o->token, o->module, pctx);
    if (rc != PE_OK)
        return rc;
    if (o->family != NULL)
        tok_set_family(*pctx, f);
    return PE_OK;
}

bool tokopt_interactive(const struct tokopt *o)
{
    enum secret_kind k = o->pin.kind;

    return isatty(STDIN_FILENO) && isatty(STDERR_FILENO) &&
           (k == SECRET_NONE || k == SECRET_PROMPT || k == SECRET_PINPAD);
}

enum pe_rc tokopt_login(const struct tokopt *o, struct tok_ctx *ctx,
                        enum tok_user user)
{
    const struct secret_source *src = user == TOK_SO ? &o->so_pin : &o->pin;

    return tok_login(ctx, src->kind != SECRET_NONE ? src : NULL, user,
                     tokopt_interactive(o));
}

enum pe_rc tokopt_login_auto(const struct tokopt *o, struct tok_ctx *ctx)
{
    if (o->so_pin.kind == SECRET_NONE)
        return tokopt_login(o, ctx, TOK_USER);
    if (o->pin.kind != SECRET_NONE)
        tok_set_context_pin(ctx, &o->pin);
    return tokopt_login(o, ctx, TOK_SO);
}

enum pe_rc tokopt_getopt_other(struct tokopt *o, int c, const char *verb,
                               char **argv)
{
    if (tokopt_is(c))
        return tokopt_set(o, c, optarg);
    if (c == ':')
        return pe_failf(PE_E_USAGE, "Option \"%s\" needs a value.",
                        argv[optind - 1]);
    return pe_failf(PE_E_USAGE,
                    "Unknown option \"%s\" for %s; see p11enroll %s --help.",
                    argv[optind - 1], verb, verb);
}

enum pe_rc tokopt_find_key(struct tok_ctx *ctx, const char *key_id,
                           const char *key_uri, struct tok_key **pkey)
{
    unsigned char id[64];
    size_t idlen = 0;
    enum pe_rc rc;

    if (key_uri != NULL)
        return tok_key_find_by_uri(ctx, key_uri, pkey);
    if (key_id == NULL)
        return pe_failf(PE_E_INTERNAL, "No key was named.");
    rc = tokopt_parse_hex(key_id, id, sizeof(id), &idlen);
    if (rc != PE_OK)
        return rc;
    return tok_key_find_by_id(ctx, id, idlen, pkey);
}

void tokopt_usage(FILE *f, bool with_so)
{
    fprintf(f, "Token options:\n"
               "  --token URI          pkcs11: URI of the token (RFC 7512)\n"
               "  --module M           module path or p11-kit module name\n"
               "  --token-family F     generic|ykcs11|cloudhsm|p11kit-remote|\n"
               "                       softhsm|tpm2\n"
               "PIN (never on the command line; default: the URI's "
               "pin-source,\n"
               "the PIN pad, then a prompt on the terminal):\n"
               "  --pin-file F  --pin-fd N  --pin-env NAME  --pinpad\n"
               "  --pin-source file:PATH|fd:N|env:NAME|prompt|pinpad\n");
    if (with_so)
        fprintf(f, "  --so-pin-file F  --so-pin-fd N  --so-pin-env NAME  "
                   "--so-pin-source SPEC\n"
                   "                       SO PIN (ykcs11: management key "
                   "in hex)\n");
}

enum pe_rc tokopt_parse_hex(const char *hex, unsigned char *buf, size_t size,
                            size_t *plen)
{
    size_t n = 0;

    if (util_hex_decode(hex, buf, size, &n) != PE_OK)
        return pe_failf(PE_E_USAGE,
                        "\"%s\" is not a key ID in hex (at most %zu bytes).",
                        hex, size);
    if (n == 0)
        return pe_failf(PE_E_USAGE, "An empty key ID was given.");
    *plen = n;
    return PE_OK;
}
