/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_args.c - options of `enroll`, `resume` and `forget`; the config
 * files they read are enroll_conf.c's.
 */
#include "enroll.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "enroll_conf.h"
#include "log.h"
#include "optsuggest.h"
#include "util.h"

enum {
    O_KEY_TYPE = 0x3000,
    O_LABEL,
    O_KEY_ID,
    O_SUBJECT,
    O_CN,
    O_O,
    O_OU,
    O_C,
    O_L,
    O_ST,
    O_ENDPOINT,
    O_FORM,
    O_CLIENT_ID,
    O_TOKEN_URL,
    O_EMAIL,
    O_FIRST,
    O_LAST,
    O_TITLE,
    O_SAN,
    O_TERM,
    O_HSM,
    O_ATTEST,
    O_ATTEST_CMD,
    O_ATTEST_TIMEOUT,
    O_CA_FILE,
    O_TRUST,
    O_TRUST_BUNDLE_ROOT,
    O_FORMAT,
    O_CS_FILE,
    O_CS_FD,
    O_CS_ENV,
    O_CS_SOURCE,
    O_OTP,
    O_OTP_CMD,
    O_OTP_TIMEOUT,
    O_EULA,
    O_OUT_CERT,
    O_OUT_CHAIN,
    O_STATE,
    O_CONFIG,
    O_WAIT,
    O_NO_WAIT,
    O_POLL,
    O_POLL_MAX,
    O_HTTP_TIMEOUT,
    O_JSON,
    O_REMOVE_KEY,
    O_NEW,
    O_HELP,
    O_SLOT,
    O_FORCE,
    O_YES,
    O_DRY_RUN
};

static const struct option longopts[] = {
    TOKOPT_LONGOPTS,
    {"key-type", required_argument, NULL, O_KEY_TYPE},
    {"key", required_argument, NULL, O_KEY_TYPE},
    {"label", required_argument, NULL, O_LABEL},
    {"key-id", required_argument, NULL, O_KEY_ID},
    {"slot", required_argument, NULL, O_SLOT},
    {"force", no_argument, NULL, O_FORCE},
    {"subject", required_argument, NULL, O_SUBJECT},
    {"cn", required_argument, NULL, O_CN},
    {"o", required_argument, NULL, O_O},
    {"ou", required_argument, NULL, O_OU},
    {"c", required_argument, NULL, O_C},
    {"l", required_argument, NULL, O_L},
    {"st", required_argument, NULL, O_ST},
    {"endpoint", required_argument, NULL, O_ENDPOINT},
    {"form", required_argument, NULL, O_FORM},
    {"client-id", required_argument, NULL, O_CLIENT_ID},
    {"token-url", required_argument, NULL, O_TOKEN_URL},
    {"email", required_argument, NULL, O_EMAIL},
    {"first-name", required_argument, NULL, O_FIRST},
    {"last-name", required_argument, NULL, O_LAST},
    {"title", required_argument, NULL, O_TITLE},
    {"san-email", required_argument, NULL, O_SAN},
    {"term", required_argument, NULL, O_TERM},
    {"hsm-type", required_argument, NULL, O_HSM},
    {"attestation", required_argument, NULL, O_ATTEST},
    {"attestation-cmd", required_argument, NULL, O_ATTEST_CMD},
    {"attestation-timeout", required_argument, NULL, O_ATTEST_TIMEOUT},
    {"ca-file", required_argument, NULL, O_CA_FILE},
    {"trust", required_argument, NULL, O_TRUST},
    {"trust-bundle-root", no_argument, NULL, O_TRUST_BUNDLE_ROOT},
    {"format", required_argument, NULL, O_FORMAT},
    {"client-secret-file", required_argument, NULL, O_CS_FILE},
    {"client-secret-fd", required_argument, NULL, O_CS_FD},
    {"client-secret-env", required_argument, NULL, O_CS_ENV},
    {"client-secret", required_argument, NULL, O_CS_SOURCE},
    {"otp-file", required_argument, NULL, O_OTP},
    {"otp-cmd", required_argument, NULL, O_OTP_CMD},
    {"otp-timeout", required_argument, NULL, O_OTP_TIMEOUT},
    {"accept-eula", no_argument, NULL, O_EULA},
    {"out-cert", required_argument, NULL, O_OUT_CERT},
    {"out-chain", required_argument, NULL, O_OUT_CHAIN},
    {"state-dir", required_argument, NULL, O_STATE},
    {"config", required_argument, NULL, O_CONFIG},
    {"wait", required_argument, NULL, O_WAIT},
    {"no-wait", no_argument, NULL, O_NO_WAIT},
    {"poll-interval", required_argument, NULL, O_POLL},
    {"poll-max", required_argument, NULL, O_POLL_MAX},
    {"http-timeout", required_argument, NULL, O_HTTP_TIMEOUT},
    {"json", no_argument, NULL, O_JSON},
    {"remove-key", no_argument, NULL, O_REMOVE_KEY},
    {"new", no_argument, NULL, O_NEW},
    {"yes", no_argument, NULL, O_YES},
    {"dry-run", no_argument, NULL, O_DRY_RUN},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void enroll_usage(enum enroll_verb verb, FILE *f)
{
    if (verb == ENROLL_VERB_FORGET) {
        fprintf(f, "Usage: p11enroll forget ID [--remove-key] [--yes] "
                   "[--dry-run] [--json] [TOKEN OPTIONS]\n\n"
                   "Removes the record of an enrollment.  --remove-key also "
                   "removes its key\nfrom the token, only when p11enroll made "
                   "it and no certificate was\nissued for it; that needs "
                   "--yes, or a yes on the terminal.  --dry-run\nsays what "
                   "would be removed and changes nothing.  --json: the result "
                   "as JSON\n(docs/json-schema.md).\n\n");
        tokopt_usage(f, true);
        return;
    }
    if (verb == ENROLL_VERB_RESUME)
        fprintf(f, "Usage: p11enroll resume [ID] [OPTIONS]\n\n"
                   "Continues a recorded enrollment (default: the one "
                   "unfinished) from\nthe step it reached.  Options given "
                   "now replace what the record holds\nand are saved: "
                   "secrets, PINs, --trust, --ca-file, --wait, and, before\n"
                   "the request was submitted, --endpoint or --form and the "
                   "names.\n\n");
    else
        fprintf(f,
                "Usage: p11enroll enroll [TOKEN OPTIONS] (--endpoint URL "
                "--client-id ID\n"
                "         --client-secret-file F|--client-secret-fd N|"
                "--client-secret-env V\n"
                "         --email ADDR | --form URL --email ADDR [--otp-file "
                "F|--otp-cmd CMD]\n"
                "         [--accept-eula])\n"
                "         [--key-type ec-p256|ec-p384|rsa-3072|rsa-4096] "
                "[--label L] [--key-id HEX]\n"
                "         [--subject DN | --cn --o --ou --c --l --st] "
                "[--first-name --last-name\n"
                "         --title --san-email --term DAYS] [--wait SECS | "
                "--no-wait] [--json]\n\n"
                "Makes a key on the token, enrolls it at SCM (REST endpoint "
                "or invitation\nform), waits, verifies what comes back and "
                "writes the certificate and its\nchain to the token.  Each "
                "step is recorded; a rerun or `resume` finishes\nthe same "
                "order.\n\n"
                "Where and who:\n"
                "  --endpoint URL       SCM's REST endpoint, without /api/v1 "
                "(docs/PROTOCOL.md)\n"
                "  --client-id ID       the REST API client's ID\n"
                "  --client-secret-file F  --client-secret-fd N  "
                "--client-secret-env NAME\n"
                "  --client-secret file:PATH|fd:N|env:NAME   where the "
                "client's secret is\n"
                "  --form URL           the self-enrollment form of the "
                "invitation e-mail\n"
                "  --email ADDR         the invited person (form) or the "
                "applicant (REST)\n"
                "  --first-name N --last-name N --title T  the applicant\n"
                "Key and request:\n"
                "  --key-type T         the key to make (default: the first "
                "of the four\n"
                "                       the token can make)\n"
                "  --label L            CKA_LABEL of the key and its "
                "certificate\n"
                "  --key-id HEX         enroll the key with this CKA_ID "
                "instead of making one\n"
                "  --subject DN         the whole subject, as "
                "/CN=name/O=organization\n"
                "  --cn --o --ou --c --l --st  the subject one attribute at "
                "a time\n"
                "  --san-email ADDR     e-mail address for the "
                "certificate's subjectAltName\n"
                "  --term DAYS          a term the profile allows "
                "(default: the profile's)\n"
                "Waiting and output:\n"
                "  --wait SECS          wait at most this long for issuance "
                "(600), then exit 3\n"
                "  --no-wait            return after submitting (exit 3 "
                "while pending)\n"
                "  --json               the result as JSON "
                "(docs/json-schema.md)\n");
    fprintf(f,
            "CA options:\n"
            "  --ca-file F          trust F for the CA's HTTPS (default: "
            "the system store)\n"
            "  --trust ROOT.pem     roots the issued chain must verify to\n"
            "                       (default: the system store, and roots "
            "pinned before)\n"
            "  --trust-bundle-root  accept the root the bundle carries, once, "
            "and pin it\n"
            "                       for renewals and later enrollments at "
            "this CA\n"
            "  --format F           download format (x509, pemia, bin, ...)\n"
            "  --token-url URL      OAuth token URL (default: from the 401)\n"
            "  --hsm-type T --attestation FILE   key attestation\n"
            "  --attestation-cmd CMD  its output is the attestation (gets\n"
            "                       P11ENROLL_KEY_URI, _KEY_ID, _TOKEN_URI)\n"
            "  --attestation-timeout SECS  stop the command after (60)\n"
            "  --http-timeout SECS  --poll-interval SECS  --poll-max SECS\n"
            "Form (the one-time code; default: asked on the terminal):\n"
            "  --otp-file F         read it from F once F is newer than the "
            "request\n"
            "  --otp-cmd CMD        the first line CMD prints (gets\n"
            "                       P11ENROLL_EMAIL, _OTP_SINCE)\n"
            "  --otp-timeout SECS   wait for either at most (600)\n"
            "  --accept-eula        accept the form's EULA without asking\n"
            "Files and state:\n"
            "  --out-cert F --out-chain F  also write PEM files\n"
            "  --state-dir D        journal folder (default "
            "$XDG_STATE_HOME/p11enroll)\n"
            "  --config F           config file (default "
            "/etc/p11enroll/*.conf)\n"
            "  --new                start a new enrollment even if one is "
            "unfinished\n"
            "                       or a valid certificate was enrolled "
            "already\n"
            "YubiKey (ykcs11; log in with --so-pin-* = management key):\n"
            "  --slot 9a|9c|9d|9e|82..95  the PIV slot of the new key; its\n"
            "                       attestation is sent with the request\n"
            "  --force              replace a key already in that slot\n");
    tokopt_usage(f, true);
}

/* A duration (util_duration_parse: a bare number is seconds), at most a
 * year. */
static long parse_secs(const char *s, bool *ok)
{
    long v = 0;

    *ok = util_duration_parse(s, 86400L * 365, &v) == PE_OK;
    return *ok ? v : 0;
}

/* A certificate term in days, 1..3650. */
static long parse_days(const char *s, bool *ok)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    *ok = errno == 0 && end != s && *end == '\0' && v >= 1 && v <= 3650;
    return *ok ? v : 0;
}

static enum pe_rc set_secret(struct enroll_opts *o, const char *kind,
                             const char *arg)
{
    struct secret_source src;
    enum pe_rc rc;

    /* a config file's source gives way to one on the command line */
    if (o->secret_spec != NULL && !o->secret_from_conf)
        return pe_failf(PE_E_USAGE, "Give the client secret one way only.");
    o->secret_from_conf = o->parsing_conf;
    if (kind != NULL)
        snprintf(o->secret_buf, sizeof(o->secret_buf), "%s:%s", kind, arg);
    else
        snprintf(o->secret_buf, sizeof(o->secret_buf), "%s", arg);
    rc = secret_source_parse(o->secret_buf, &src);
    if (rc != PE_OK || (src.kind != SECRET_FILE && src.kind != SECRET_FD &&
                        src.kind != SECRET_ENV))
        return pe_failf(PE_E_CONFIG,
                        "The client secret must be given as a source "
                        "(file:PATH, fd:N or env:NAME), never itself.");
    o->secret_spec = o->secret_buf;
    return PE_OK;
}

/* One option; PE_E_USAGE for bad values. */
static enum pe_rc set_opt(struct enroll_opts *o, int c, const char *arg)
{
    bool ok = true;

    switch (c) {
    case O_KEY_TYPE:
        o->key_type = arg;
        break;
    case O_LABEL:
        o->label = arg;
        break;
    case O_KEY_ID:
        o->key_id = arg;
        break;
    case O_SLOT:
        o->slot = arg;
        break;
    case O_FORCE:
        o->force = true;
        break;
    case O_SUBJECT:
        o->subject = arg;
        break;
    case O_CN:
        o->cn = arg;
        break;
    case O_O:
        o->o = arg;
        break;
    case O_OU:
        o->ou = arg;
        break;
    case O_C:
        o->c = arg;
        break;
    case O_L:
        o->l = arg;
        break;
    case O_ST:
        o->st = arg;
        break;
    case O_ENDPOINT:
        o->endpoint = arg;
        break;
    case O_FORM:
        o->form = arg;
        break;
    case O_CLIENT_ID:
        o->client_id = arg;
        break;
    case O_TOKEN_URL:
        o->token_url = arg;
        break;
    case O_EMAIL:
        o->email = arg;
        break;
    case O_FIRST:
        o->first_name = arg;
        break;
    case O_LAST:
        o->last_name = arg;
        break;
    case O_TITLE:
        o->title = arg;
        break;
    case O_SAN:
        o->san_email = arg;
        break;
    case O_TERM:
        o->term = parse_days(arg, &ok);
        break;
    case O_HSM:
        o->hsm_type = arg;
        break;
    case O_ATTEST:
        o->attestation_file = arg;
        break;
    case O_ATTEST_CMD:
        o->attestation_cmd = arg;
        break;
    case O_ATTEST_TIMEOUT:
        o->attestation_timeout = parse_secs(arg, &ok);
        break;
    case O_CA_FILE:
        o->ca_file = arg;
        break;
    case O_TRUST:
        o->trust = arg;
        o->trust_from_conf = o->parsing_conf;
        break;
    case O_TRUST_BUNDLE_ROOT:
        o->trust_bundle_root = true;
        break;
    case O_FORMAT:
        o->format = arg;
        break;
    case O_CS_FILE:
        return set_secret(o, "file", arg);
    case O_CS_FD:
        return set_secret(o, "fd", arg);
    case O_CS_ENV:
        return set_secret(o, "env", arg);
    case O_CS_SOURCE:
        return set_secret(o, NULL, arg);
    case O_OTP:
        o->otp_file = arg;
        break;
    case O_OTP_CMD:
        o->otp_cmd = arg;
        break;
    case O_OTP_TIMEOUT:
        o->otp_timeout = parse_secs(arg, &ok);
        break;
    case O_EULA:
        o->accept_eula = true;
        break;
    case O_OUT_CERT:
        o->out_cert = arg;
        break;
    case O_OUT_CHAIN:
        o->out_chain = arg;
        break;
    case O_STATE:
        o->state_dir = arg;
        break;
    case O_CONFIG:
        break; /* read before */
    case O_WAIT:
        o->wait_s = parse_secs(arg, &ok);
        break;
    case O_NO_WAIT:
        o->no_wait = true;
        break;
    case O_POLL:
        o->poll_first = parse_secs(arg, &ok);
        break;
    case O_POLL_MAX:
        o->poll_max = parse_secs(arg, &ok);
        break;
    case O_HTTP_TIMEOUT:
        o->http_timeout = parse_secs(arg, &ok);
        break;
    case O_JSON:
        o->json = true;
        break;
    case O_REMOVE_KEY:
        o->remove_key = true;
        break;
    case O_YES:
        o->yes = true;
        break;
    case O_DRY_RUN:
        o->dry_run = true;
        break;
    case O_NEW:
        o->fresh = true;
        break;
    default:
        if (tokopt_is(c))
            return tokopt_set(&o->tok, c, arg);
        return pe_failf(PE_E_USAGE, "Unknown option; see --help.");
    }
    if (!ok)
        return pe_failf(PE_E_USAGE,
                        "\"%s\" is not a number of seconds (90, 15m, 2h, "
                        "1d) or, for --term, of days (1 to 3650).",
                        arg);
    return PE_OK;
}

enum pe_rc enroll_parse_args(enum enroll_verb verb, int argc, char **argv,
                             struct enroll_opts *o, int *pfirst, bool *phelp)
{
    enum pe_rc rc;
    int c, margc = 0;

    memset(o, 0, sizeof(*o));
    o->verb = verb;
    tokopt_init(&o->tok);
    o->wait_s = -1;
    *phelp = false;
    rc = enroll_conf_merge(o, longopts, argc, argv, &margc);
    if (rc != PE_OK)
        return rc;
    optind = 1;
    opterr = 0;
    while (rc == PE_OK &&
           (c = getopt_long(margc, o->merged, ":h", longopts, NULL)) != -1) {
        if (c == 'h' || c == O_HELP) {
            *phelp = true;
        } else if (c == ':') {
            rc = pe_failf(PE_E_USAGE, "Option \"%s\" needs a value.",
                          o->merged[optind - 1]);
        } else if (c == '?') {
            rc = optsuggest_unknown(longopts, o->merged[optind - 1], argv[0]);
        } else {
            /* the config files' options come first in merged */
            o->parsing_conf = optind - 1 <= (int)o->nowned;
            rc = set_opt(o, c, optarg);
        }
    }
    if (rc != PE_OK)
        return rc;
    if (*phelp) {
        enroll_usage(verb, stdout);
        return PE_OK;
    }
    /* positional arguments are moved to the end by getopt */
    *pfirst = optind;
    if (verb == ENROLL_VERB_ENROLL && optind < margc)
        return pe_failf(PE_E_USAGE, "Unexpected argument \"%s\".",
                        o->merged[optind]);
    if (verb == ENROLL_VERB_RESUME && margc - optind > 1)
        return pe_failf(PE_E_USAGE, "resume takes at most one ID.");
    if (verb == ENROLL_VERB_FORGET && margc - optind != 1)
        return pe_failf(PE_E_USAGE, "forget takes one enrollment ID (see "
                                    "p11enroll status).");
    if (o->endpoint != NULL && o->form != NULL)
        return pe_failf(PE_E_USAGE, "Give --endpoint or --form, not both.");
    if (o->no_wait && o->wait_s >= 0)
        return pe_failf(PE_E_USAGE, "Give --wait or --no-wait, not both.");
    /* the command line's choice of anchor overrides a config file's */
    if (o->trust != NULL && o->trust_bundle_root && o->trust_from_conf)
        o->trust = NULL;
    if (o->trust != NULL && o->trust_bundle_root)
        return pe_failf(PE_E_USAGE,
                        "Give --trust or --trust-bundle-root, not both.");
    if (o->attestation_file != NULL && o->attestation_cmd != NULL)
        return pe_failf(PE_E_USAGE,
                        "Give --attestation or --attestation-cmd, not both.");
    if (o->otp_file != NULL && o->otp_cmd != NULL)
        return pe_failf(PE_E_USAGE, "Give --otp-file or --otp-cmd, not both.");
    return tokopt_finish(&o->tok);
}

void enroll_opts_free(struct enroll_opts *o)
{
    size_t i;

    for (i = 0; i < o->nowned; i++)
        free(o->owned[i]);
    free(o->owned);
    free(o->merged);
    o->owned = NULL;
    o->merged = NULL;
    o->nowned = 0;
}
