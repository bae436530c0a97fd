/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - argv to a command from the table; the result to an exit code.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "http.h"
#include "jsonout.h"
#include "log.h"
#include "rc.h"
#include "secret.h"

const struct cmd pe_commands[] = {
    {"csr", cmd_csr, "make a key on the token and a CSR signed by it"},
    {"install", cmd_install, "verify a certificate and put it on the token"},
    {"tokens", cmd_tokens, "list PKCS#11 modules and tokens with their URIs"},
    {"list", cmd_list, "list the keys and certificates on a token"},
    {"enroll", cmd_enroll, "enroll a key on the token at SCM, end to end"},
    {"resume", cmd_resume, "continue a recorded enrollment"},
    {"forget", cmd_forget, "drop a recorded enrollment (and its key)"},
    {"status", cmd_status, "list the recorded enrollments"},
    {"doctor", cmd_doctor, "check token, PIN, certificates and CA before use"},
    {"renew", cmd_renew, "renew the certificates that expire soon"},
    {"export", cmd_export,
     "write a key's certificate and chain from the token"},
    {"sign-setup", cmd_sign_setup, "print the commands to sign with a key"},
    {"adopt", cmd_adopt, "let renew manage a certificate already on a token"},
    {NULL, NULL, NULL},
};

void pe_usage(int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    const struct cmd *c;

    fprintf(f, "Usage: p11enroll [--quiet|--verbose] COMMAND [OPTIONS]\n"
               "\n"
               "Enroll a certificate for a key that never leaves its hardware "
               "token.\n"
               "\n"
               "Commands:\n");
    for (c = pe_commands; c->name != NULL; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f,
            "\n"
            "Options:\n"
            "  -h, --help     show this help (COMMAND --help for a command)\n"
            "  -V, --version  show the version\n"
            "  -q, --quiet    print only errors and the result\n"
            "  -v, --verbose  say more about each step\n"
            "  (-q and -v may also stand after the command)\n"
            "\n"
            "p11enroll help COMMAND shows the options of COMMAND.\n"
            "\n"
            "Exit codes: 0 done, 1 internal error, 2 usage or "
            "configuration,\n"
            "3 pending at the CA, 4 rejected by the CA, 5 CA unreachable,\n"
            "6 CA error, 7 token, 8 PIN, 9 verification failed, 10 local "
            "file or journal,\n11 not renewed (renew), 130 interrupted.\n");
}

/* -q and -v after the command too: taken out of argv wherever they
 * stand (none of them is ever an option's value); the new argc. */
static int take_global_flags(int argc, char **argv, bool *pquiet,
                             bool *pverbose)
{
    int i, n = 0;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[n++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            *pquiet = true;
        else if (strcmp(argv[i], "-v") == 0 ||
                 strcmp(argv[i], "--verbose") == 0)
            *pverbose = true;
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
}

static const struct cmd *find_cmd(const char *name)
{
    const struct cmd *c;

    for (c = pe_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* p11enroll help [COMMAND]: COMMAND --help, or the program's usage. */
static int help(int argc, char **argv)
{
    const struct cmd *c = argc > 1 ? find_cmd(argv[1]) : NULL;
    char opt[] = "--help";
    char *args[] = {argv[argc > 1 ? 1 : 0], opt, NULL};

    if (argc <= 1) {
        pe_usage(0);
        return PE_EXIT_OK;
    }
    if (c == NULL) {
        fprintf(stderr,
                "p11enroll: unknown command \"%s\"; see p11enroll --help.\n",
                argv[1]);
        return PE_EXIT_USAGE;
    }
    return pe_rc_exit(c->run(2, args));
}

/* An option before the command was wrong: with --json, the envelope of
 * the command named after it (if one is). */
static void usage_json(int argc, char **argv, enum pe_rc rc)
{
    bool wanted = false;
    int k;

    /* --json itself may be the option given too early */
    for (k = 0; k < argc && argv[k][0] == '-'; k++)
        wanted = wanted || strcmp(argv[k], "--json") == 0;
    if (k < argc && find_cmd(argv[k]) != NULL &&
        (wanted || jsonout_wanted(argc - k, argv + k)))
        jsonout_print(argv[k], NULL, rc);
}

int main(int argc, char **argv)
{
    const struct cmd *c;
    bool quiet = false, verbose = false;
    enum pe_rc rc;
    int i;

    /* No core file or debugger sees a PIN, secret or token. */
    if (secret_harden_process() != PE_OK) {
        fprintf(stderr, "p11enroll: %s\n", pe_detail());
        return PE_EXIT_INTERNAL;
    }
    /* Socket-based modules (p11-kit-client.so) must not kill us. */
    signal(SIGPIPE, SIG_IGN);

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            pe_usage(0);
            return PE_EXIT_OK;
        } else if (strcmp(argv[i], "-V") == 0 ||
                   strcmp(argv[i], "--version") == 0) {
            printf("p11enroll %s\n", P11E_VERSION);
            return PE_EXIT_OK;
        } else if (strcmp(argv[i], "-q") == 0 ||
                   strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "-v") == 0 ||
                   strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else {
            rc = pe_failf(PE_E_USAGE, "unknown option \"%s\".", argv[i]);
            fprintf(stderr, "p11enroll: %s\n", pe_sentence(rc));
            pe_usage(1);
            usage_json(argc - i, argv + i, rc);
            return pe_rc_exit(rc);
        }
    }
    if (i >= argc) {
        pe_usage(1);
        return PE_EXIT_USAGE;
    }
    argc = i + take_global_flags(argc - i, argv + i, &quiet, &verbose);
    log_init(quiet, verbose);
    if (strcmp(argv[i], "help") == 0)
        return help(argc - i, argv + i);
    c = find_cmd(argv[i]);
    if (c == NULL) {
        /* lower case: scripts (the Ansible module) match this text */
        rc = pe_failf(PE_E_USAGE,
                      "unknown command \"%s\"; see p11enroll --help.", argv[i]);
        fprintf(stderr, "p11enroll: %s\n", pe_sentence(rc));
        if (jsonout_wanted(argc - i, argv + i))
            jsonout_print(argv[i], NULL, rc);
        return pe_rc_exit(rc);
    }
    rc = http_global_init();
    if (rc == PE_OK)
        rc = c->run(argc - i, argv + i);
    if (rc != PE_OK && rc != PE_PENDING)
        fprintf(stderr, "p11enroll: %s\n", pe_sentence(rc));
    /* a failure before the command knew it was asked for JSON (bad
     * usage, an unknown option): the envelope all the same */
    if (rc != PE_OK && !jsonout_printed() && jsonout_wanted(argc - i, argv + i))
        jsonout_print(c->name, NULL, rc);
    return pe_rc_exit(rc);
}
