/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_renew.c - `p11enroll renew`: renew the certificates on a token that
 * end within --within, keeping the old ones until the new ones are
 * written and verified.  "Nothing to renew" is success (exit 0) and says
 * when the next renewal is due.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "enroll.h"
#include "jsonout.h"
#include "lifeopt.h"
#include "log.h"
#include "renew.h"
#include "util.h"

static void renew_usage(FILE *f)
{
    fprintf(f,
            "Usage: p11enroll renew [--token URI] [--module M] [PIN "
            "options]\n"
            "         [--within 30d] [--rekey | --reuse-key] [--retire-old]\n"
            "         [--state-dir D] [--config F] [enroll options] "
            "[--json]\n"
            "\n"
            "Renews every certificate on the token (default: every token "
            "the journal\n"
            "installed certificates on) that ends within --within, with "
            "the endpoint,\n"
            "names and subject of the enrollment that made it.  A new key "
            "by default;\n"
            "the old key and certificate stay on the token (--retire-old "
            "removes them).\n"
            "A renewal cut short is finished by the next run.  Nothing "
            "due: exit 0,\n"
            "and the output says when the next renewal is due.\n"
            "\n"
            "Options:\n"
            "  --within DURATION    renew what ends within it (default 30d; "
            "also s, m, h, w)\n"
            "  --rekey              a new key for each renewal (the "
            "default)\n"
            "  --reuse-key          keep the key; the new certificate "
            "replaces the old one\n"
            "                       once written and verified\n"
            "  --retire-old         then remove superseded certificates, "
            "and their keys\n"
            "                       when no other certificate uses them "
            "(never after a\n"
            "                       failed or pending renewal)\n"
            "  --state-dir D        journal folder (default "
            "$XDG_STATE_HOME/p11enroll)\n"
            "  --config F           config file (default "
            "/etc/p11enroll/*.conf)\n"
            "  --json               the result as JSON (docs/json-schema.md)\n"
            "Every enroll option and config key is accepted; given ones "
            "override the\n"
            "recorded enrollment's (see p11enroll enroll --help).  The "
            "client secret and\n"
            "PIN sources recorded with the enrollment are used when none "
            "is given.\n");
    tokopt_usage(f, true);
}

static void print_text(const struct renew_result *res)
{
    size_t i, acted = 0;
    char date[40];

    for (i = 0; i < res->n; i++) {
        const struct renew_item *it = &res->v[i];

        printf("%-10s %s\n", renew_outcome_name(it->outcome), it->message);
        if (it->outcome != RENEW_NOT_DUE && it->outcome != RENEW_SUPERSEDED &&
            it->outcome != RENEW_UNMANAGED && it->outcome != RENEW_RETIRED)
            acted++;
    }
    if (acted > 0)
        return;
    if (res->next_due != 0)
        printf("Nothing to renew; the next renewal is due on %s.\n",
               util_time_rfc3339(res->next_due, date, sizeof(date)));
    else
        printf("Nothing to renew: no certificate on the token.\n");
}

enum pe_rc cmd_renew(int argc, char **argv)
{
    struct renew_result res = {0};
    struct renew_opts ro = {0};
    struct enroll_opts o;
    struct lifeopt lo;
    char *dir = NULL;
    bool help = false;
    int first = 0;
    enum pe_rc rc;

    rc = lifeopt_split(argc, argv, true, &lo);
    if (rc != PE_OK || lo.help) {
        renew_usage(lo.help && rc == PE_OK ? stdout : stderr);
        lifeopt_free(&lo);
        return rc;
    }
    rc = enroll_parse_args(ENROLL_VERB_ENROLL, lo.argc, lo.argv, &o, &first,
                           &help);
    if (rc != PE_OK || help)
        goto out;
    if (o.key_id != NULL) {
        rc = pe_failf(PE_E_USAGE, "renew picks the keys itself; use "
                                  "--reuse-key to keep each certificate's "
                                  "key.");
        goto out;
    }
    rc = enroll_state_dir(&o, &dir);
    if (rc != PE_OK)
        goto out;
    ro.eo = &o;
    ro.dir = dir;
    ro.window = lo.within_s;
    ro.reuse_key = lo.reuse_key;
    ro.retire_old = lo.retire_old;
    rc = renew_run(&ro, &res);
    if (o.json)
        rc = jsonout_print("renew", renew_result_json(&res, lo.within_s), rc);
    else
        print_text(&res);
out:
    renew_result_clear(&res);
    free(dir);
    enroll_opts_free(&o);
    lifeopt_free(&lo);
    return rc;
}
