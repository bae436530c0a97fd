/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_tokens.c - `p11enroll tokens`: the modules and their tokens, with
 * the URIs to select them and their flags.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "jsonout.h"
#include "tok.h"

static void tokens_usage(FILE *f)
{
    fprintf(f, "Usage: p11enroll tokens [--module PATH|NAME] [--json]\n"
               "\n"
               "Lists the PKCS#11 modules (p11-kit's registered ones, or the "
               "one\n"
               "given) and their tokens, with the pkcs11: URI that selects "
               "each\n"
               "token and its flags.\n"
               "--module: list only this module (a path, or a p11-kit "
               "module name).\n"
               "--json: the same as JSON (docs/json-schema.md).\n");
}

static json_t *flags_json(unsigned long flags)
{
    char buf[512], *tok, *save = NULL;
    json_t *a = json_array();

    tok_flags_str(flags, buf, sizeof(buf));
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(tok));
    return a;
}

static enum pe_rc print_json(const struct tok_token_list *list)
{
    json_t *root = json_object(), *mods = json_array();
    size_t i, j;

    for (i = 0; i < list->nmodules; i++) {
        json_t *m = json_object(), *toks = json_array();

        json_object_set_new(m, "name", json_string(list->modules[i]));
        if (list->module_paths[i] != NULL)
            json_object_set_new(m, "path", json_string(list->module_paths[i]));
        for (j = 0; j < list->n; j++) {
            const struct tok_token_entry *e = &list->v[j];
            json_t *t;

            if (strcmp(e->module, list->modules[i]) != 0)
                continue;
            t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "uri", e->uri,
                          "label", e->label, "manufacturer", e->manufacturer,
                          "model", e->model, "serial", e->serial, "slot_id",
                          (json_int_t)e->slot_id);
            if (t == NULL)
                continue;
            json_object_set_new(t, "flags", flags_json(e->flags));
            json_object_set_new(t, "trust_store", json_boolean(e->trust_store));
            json_array_append_new(toks, t);
        }
        json_object_set_new(m, "tokens", toks);
        json_array_append_new(mods, m);
    }
    json_object_set_new(root, "modules", mods);
    return jsonout_print("tokens", root, PE_OK);
}

static void print_text(const struct tok_token_list *list)
{
    char flags[512];
    size_t i, j, n;

    for (i = 0; i < list->nmodules; i++) {
        if (list->module_paths[i] != NULL &&
            strcmp(list->module_paths[i], list->modules[i]) != 0)
            printf("Module %s (%s)\n", list->modules[i], list->module_paths[i]);
        else
            printf("Module %s\n", list->modules[i]);
        for (j = 0, n = 0; j < list->n; j++) {
            const struct tok_token_entry *e = &list->v[j];

            if (strcmp(e->module, list->modules[i]) != 0)
                continue;
            n++;
            printf("  Token \"%s\" (%s %s, serial %s, slot %lu)%s%s\n",
                   e->label, e->manufacturer, e->model, e->serial, e->slot_id,
                   (e->flags & TOK_F_TOKEN_INITIALIZED) ? ""
                                                        : " not initialised",
                   e->trust_store ? ": p11-kit trust store, CA certificates "
                                    "only, never used for keys"
                                  : "");
            printf("    URI:   %s\n", e->uri);
            printf("    Flags: %s\n",
                   tok_flags_str(e->flags, flags, sizeof(flags)));
        }
        if (n == 0)
            printf("  (no token present)\n");
    }
    if (list->nmodules == 0)
        printf("No PKCS#11 module is registered with p11-kit; give one "
               "with --module.\n");
}

enum pe_rc cmd_tokens(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"module", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tok_token_list *list = NULL;
    const char *module = NULL;
    bool json = false;
    enum pe_rc rc;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            module = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            tokens_usage(stdout);
            return PE_OK;
        case ':':
            return pe_failf(PE_E_USAGE, "Option \"%s\" needs a value.",
                            argv[optind - 1]);
        default:
            return pe_failf(PE_E_USAGE, "Unknown option \"%s\" for tokens.",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        return pe_failf(PE_E_USAGE, "Unexpected argument \"%s\" for tokens.",
                        argv[optind]);
    rc = tok_list_tokens(module, &list);
    if (rc != PE_OK)
        return json ? jsonout_print("tokens", NULL, rc) : rc;
    if (json)
        rc = print_json(list);
    else
        print_text(list);
    tok_token_list_free(list);
    return rc;
}
