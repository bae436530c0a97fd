/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_renew.c - `p11enroll renew`: renew the certificates on a token that
 * end within --within, keeping the old ones until the new ones are
 * written and verified.  "Nothing to renew" is success (exit 0) and says
 * when the next renewal is due; a due certificate it cannot renew is not
 * (exit 11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "enroll.h"
#include "jsonout.h"
#include "lifeopt.h"
#include "log.h"
#include "renew.h"
#include "util.h"

static void renew_usage(FILE *f)
{
    fprintf(
        f,
        "Usage: p11enroll renew [--token URI] [--module M] [PIN options]\n"
        "         [--within DURATION] [--rekey | --reuse-key]\n"
        "         [--retire-old [--yes]] [--dry-run] [--notify-cmd CMD]\n"
        "         [--state-dir D] [--config F] [enroll options] [--json]\n"
        "\n"
        "Renews every certificate on the token (default: every token the "
        "journal\n"
        "installed certificates on) that ends within the window, with the "
        "endpoint,\n"
        "names and subject of the enrollment that made it.  A new key by "
        "default;\n"
        "the old key and certificate stay on the token (--retire-old "
        "removes them).\n"
        "A renewal cut short is finished by the next run.  Nothing due: "
        "exit 0, and\n"
        "the output says when the next renewal is due.  A certificate in "
        "the window\n"
        "that cannot be renewed here (not enrolled by p11enroll: see "
        "p11enroll adopt;\n"
        "its renewal rejected) fails the run with exit 11, naming the "
        "command that\n"
        "fixes it.\n"
        "\n"
        "Options:\n"
        "  --within DURATION    renew what ends within it (30d, 12h, 90m, "
        "3600s;\n"
        "                       default: the earlier of 60 days or a third "
        "of the\n"
        "                       certificate's lifetime)\n"
        "  --rekey              a new key for each renewal (the default)\n"
        "  --reuse-key          keep the key; the new certificate replaces "
        "the old one\n"
        "                       once written and verified\n"
        "  --retire-old         then remove each certificate the journal "
        "shows renewed,\n"
        "                       once its successor is on the token and its "
        "key signs,\n"
        "                       with its key pair unless another "
        "certificate uses it;\n"
        "                       the record keeps the removed certificate\n"
        "  --yes                remove without asking (needed without a "
        "terminal)\n"
        "  --dry-run            say what would be renewed and removed; "
        "change nothing\n"
        "  --notify-cmd CMD     run CMD (sh -c) when a renewal is due, "
        "done, pending\n"
        "                       or failed: P11ENROLL_EVENT and the JSON "
        "file\n"
        "                       $P11ENROLL_EVENT_FILE say what happened\n"
        "  --state-dir D        journal folder (default: /var/lib/p11enroll "
        "for root,\n"
        "                       else $XDG_STATE_HOME/p11enroll)\n"
        "  --config F           config file (default /etc/p11enroll/*.conf)\n"
        "  --json               the result as JSON (docs/json-schema.md)\n"
        "Every enroll option and config key is accepted; given ones "
        "override the\n"
        "recorded enrollment's (see p11enroll enroll --help).  The client "
        "secret and\n"
        "PIN sources recorded with the enrollment are used when none is "
        "given.\n");
    tokopt_usage(f, true);
}

static void print_text(const struct renew_result *res)
{
    size_t i, acted = 0, stuck = 0;
    char date[40];

    for (i = 0; i < res->n; i++) {
        const struct renew_item *it = &res->v[i];

        printf("%-10s %s\n", renew_outcome_name(it->outcome), it->message);
        if (it->rc == PE_E_NOT_RENEWED)
            stuck++;
        else if (it->outcome != RENEW_NOT_DUE &&
                 it->outcome != RENEW_SUPERSEDED &&
                 it->outcome != RENEW_RETIRED &&
                 it->outcome != RENEW_WOULD_RETIRE)
            acted++;
    }
    if (stuck > 0)
        printf("%zu certificate%s in the renewal window cannot be renewed "
               "here; see \"fix:\" above.\n",
               stuck, stuck == 1 ? "" : "s");
    if (acted > 0 || stuck > 0)
        return;
    if (res->n == 0)
        printf("Nothing to renew: no certificate on the token.\n");
    else if (res->next_due != 0)
        printf("Nothing to renew; the next renewal is due on %s.\n",
               util_time_rfc3339(res->next_due, date, sizeof(date)));
    else
        printf("Nothing to renew.\n");
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
    ro.dry_run = lo.dry_run;
    ro.yes = lo.yes;
    ro.notify_cmd = lo.notify_cmd;
    if (ro.retire_old && !ro.yes && !ro.dry_run && !isatty(STDIN_FILENO)) {
        rc = pe_failf(PE_E_USAGE,
                      "--retire-old removes keys, and there is no terminal "
                      "to ask: give --yes, or --dry-run to see what it "
                      "would remove.");
        goto out;
    }
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
