/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hint.c - what to give p11enroll: at start, scm-sim prints the command
 * lines of both ways in against itself (README "What to give p11enroll").
 * The REST account's secret goes to a file of the state folder, so the
 * printed line names the file, never the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "scm_sim.h"

/* The first element of the config array `list`, or NULL.  Borrowed. */
static json_t *first(const struct sim *s, const char *list)
{
    json_t *a = json_object_get(s->cfg->root, list);

    return json_is_array(a) ? json_array_get(a, 0) : NULL;
}

static void print_common(FILE *f, const struct sim *s)
{
    fprintf(f,
            "    --token \"pkcs11:token=YOUR-TOKEN\" --module YOUR-MODULE "
            "--pin-file YOUR-PIN-FILE \\\n"
            "    --ca-file %s/tls-ca.pem --trust %s/ca/roots.pem",
            s->state_dir, s->state_dir);
}

void hint_print(FILE *f, const struct sim *s)
{
    json_t *acct = first(s, "restAccounts"), *form = first(s, "forms");
    json_t *person = first(s, "persons"), *inv = first(s, "invitations");
    const char *email = config_member(person, "email", "dev@example.org");
    const char *id, *secret;
    char *path;

    fprintf(f, "# p11enroll against this server (p11enroll(1)):\n");
    if (acct != NULL) {
        id = config_member(acct, "clientId", "");
        secret = config_member(acct, "clientSecret", "");
        path = util_printf("%s/client-secret", s->state_dir);
        if (path != NULL &&
            util_write_file(path, secret, strlen(secret), false) == 0) {
            fprintf(f, "# REST endpoint, account %s:\np11enroll enroll \\\n",
                    id);
            print_common(f, s);
            fprintf(f,
                    " \\\n    --endpoint %s --client-id %s "
                    "--client-secret-file %s \\\n    --email %s\n",
                    s->base_url, id, path, email);
        }
        free(path);
    }
    if (form != NULL) {
        if (inv != NULL)
            email = config_member(inv, "email", email);
        fprintf(f,
                "# self-enrollment form (the one-time code arrives as a "
                "mail in %s/outbox):\np11enroll enroll \\\n",
                s->state_dir);
        print_common(f, s);
        fprintf(f, " \\\n    --form %s/customer/%s/cs/%s --email %s\n",
                s->base_url, config_str(s->cfg, "customerUri"),
                config_member(form, "uri", "cs"), email);
    }
    fflush(f);
}
