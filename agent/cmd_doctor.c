/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_doctor.c - `p11enroll doctor`: the pre-flight check.  Takes every
 * option and config file `enroll` takes, so it checks exactly what an
 * enrollment or renewal with them would meet.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "doctor.h"
#include "enroll.h"
#include "jsonout.h"
#include "lifeopt.h"

static void doctor_usage(FILE *f)
{
    fprintf(
        f, "Usage: p11enroll doctor [--token URI] [--module M] [PIN "
           "options]\n"
           "         [--endpoint URL [--client-id ID --client-secret-file F"
           "|-fd N|-env V]\n"
           "          | --form URL] [--ca-file F] [--token-url URL] "
           "[--within DURATION]\n"
           "         [--config F] [--json] [--probe]\n"
           "\n"
           "Checks, one line each (ok, warn, FAIL or skip): the module "
           "loads, the\n"
           "token is present and writable, PIN tries left, the PIN "
           "works, key types\n"
           "and free space (where the token tells), each "
           "certificate's expiry\n"
           "(warn within --within) and chain, the CA answers over trusted "
           "HTTPS, the\n"
           "clock agrees with the CA's, and the REST credentials get a "
           "token.\n"
           "--probe also makes a key pair of each type the token lists "
           "(in the\n"
           "session where it can), signs once with it and removes it: "
           "proof, not\n"
           "the token's claim.\n"
           "Exit code 0 when nothing failed, else that of the first "
           "failure.\n"
           "Every enroll option and config key is accepted (see p11enroll "
           "enroll --help).\n"
           "\n"
           "CA options:\n"
           "  --endpoint URL       SCM REST enrollment endpoint\n"
           "  --form URL           SCM self-enrollment form\n"
           "  --client-id ID       REST client ID\n"
           "  --client-secret-file F  --client-secret-fd N  "
           "--client-secret-env V\n"
           "  --client-secret SPEC file:PATH|fd:N|env:NAME\n"
           "  --ca-file F          trust F for the CA's HTTPS (default: the "
           "system store)\n"
           "  --token-url URL      OAuth token URL (default: from the 401)\n"
           "  --http-timeout SECS  per request\n"
           "Other options:\n"
           "  --within DURATION    warn about certificates ending within it "
           "(default: renew's window)\n"
           "  --config F           config file (default "
           "/etc/p11enroll/*.conf)\n"
           "  --json               the result as JSON (docs/json-schema.md)\n");
    tokopt_usage(f, false);
}

/* Take --probe (doctor's own) out of argv, before "--"; true when given. */
static bool take_probe(int *pargc, char **argv)
{
    bool probe = false;
    int i, j;

    for (i = 1, j = 1; i < *pargc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *pargc)
                argv[j++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--probe") == 0)
            probe = true;
        else
            argv[j++] = argv[i];
    }
    *pargc = j;
    argv[j] = NULL;
    return probe;
}

enum pe_rc cmd_doctor(int argc, char **argv)
{
    static struct doctor_report report; /* large: not on the stack */
    struct doctor_ca_opts ca = {0};
    struct enroll_opts o;
    struct lifeopt lo;
    bool help = false, probe;
    int first = 0;
    enum pe_rc rc;

    report.n = 0;
    probe = take_probe(&argc, argv);
    rc = lifeopt_split(argc, argv, false, &lo);
    if (rc != PE_OK || lo.help) {
        doctor_usage(lo.help && rc == PE_OK ? stdout : stderr);
        lifeopt_free(&lo);
        return rc;
    }
    rc = enroll_parse_args(ENROLL_VERB_ENROLL, lo.argc, lo.argv, &o, &first,
                           &help);
    if (rc != PE_OK || help) {
        if (rc != PE_OK)
            doctor_usage(stderr);
        goto out;
    }
    doctor_token(&report, &o.tok, lo.within_s, probe);
    ca.url = o.form != NULL ? o.form : o.endpoint;
    ca.form = o.form != NULL;
    ca.ca_file = o.ca_file;
    ca.client_id = o.client_id;
    ca.secret_spec = o.secret_spec;
    ca.token_url = o.token_url;
    ca.timeout_s = o.http_timeout;
    doctor_ca(&report, &ca);
    rc = doctor_outcome(&report);
    if (o.json)
        rc = jsonout_print("doctor", doctor_json(&report), rc);
    else
        doctor_print(&report, stdout);
out:
    enroll_opts_free(&o);
    lifeopt_free(&lo);
    return rc;
}
