/* SPDX-License-Identifier: Apache-2.0 */
/* Options and config files of enroll/resume (agent/enroll_args.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enroll.h"
#include "harness.h"

static char dir[256];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/p11e-args-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        dir[0] = '\0';
    setenv("P11ENROLL_CONF_DIR", dir, 1);
}

static void free_copies(void);

static void teardown(void)
{
    char cmd[300];

    free_copies();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (dir[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

__attribute__((constructor)) static void fixture(void)
{
    harness_set_fixture(setup, teardown);
}

static void put(const char *name, const char *text)
{
    char path[400];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

/* argv copies live until the next call (getopt permutes them). */
static char *argv_copy[32];

static enum pe_rc parse(enum enroll_verb verb, struct enroll_opts *o,
                        int *pfirst, const char *const *args)
{
    int argc = 0;
    bool help = false;

    for (argc = 0; argv_copy[argc] != NULL; argc++) {
        free(argv_copy[argc]);
        argv_copy[argc] = NULL;
    }
    for (argc = 0; args[argc] != NULL && argc < 31; argc++)
        argv_copy[argc] = strdup(args[argc]);
    return enroll_parse_args(verb, argc, argv_copy, o, pfirst, &help);
}

static void free_copies(void)
{
    int i;

    for (i = 0; argv_copy[i] != NULL; i++) {
        free(argv_copy[i]);
        argv_copy[i] = NULL;
    }
}

TEST("/enroll_args/options")
{
    const char *argv[] = {"enroll",    "--endpoint",
                          "https://x", "--client-id",
                          "c",         "--client-secret-env",
                          "S",         "--email",
                          "a@b",       "--wait",
                          "2m",        "--term",
                          "365",       "--accept-eula",
                          NULL};
    struct enroll_opts o;
    int first = 0;

    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, argv), PE_OK);
    CHECK_STR(o.endpoint, "https://x");
    CHECK_STR(o.client_id, "c");
    CHECK_STR(o.secret_spec, "env:S");
    CHECK_INT(o.wait_s, 120);
    CHECK_INT(o.term, 365);
    CHECK(o.accept_eula);
    enroll_opts_free(&o);
}

TEST("/enroll_args/config_then_options_win")
{
    const char *argv[] = {"enroll",    "--client-id",
                          "from-argv", "--client-secret-file",
                          "/s2",       NULL};
    struct enroll_opts o;
    int first = 0;

    put("10-a.conf", "# comment\n\nendpoint = https://conf\n"
                     "client-id = \"from-conf\"\n"
                     "client-secret = file:/s1\naccept-eula = yes\n"
                     "no-wait = no\n");
    put("ignored.txt", "endpoint = https://not-read\n");
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, argv), PE_OK);
    CHECK_STR(o.endpoint, "https://conf");
    CHECK_STR(o.client_id, "from-argv");
    CHECK_STR(o.secret_spec, "file:/s2");
    CHECK(o.accept_eula);
    CHECK(!o.no_wait);
    enroll_opts_free(&o);
}

TEST("/enroll_args/config_refuses_secrets")
{
    const char *argv[] = {"enroll", NULL};
    struct enroll_opts o;
    int first = 0;

    put("a.conf", "client-secret = hunter2\n");
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, argv), PE_E_CONFIG);
    CHECK_CONTAINS(pe_detail(), "never itself");
    enroll_opts_free(&o);
    put("a.conf", "pin = 1234\n");
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, argv), PE_E_CONFIG);
    CHECK_CONTAINS(pe_detail(), "a.conf:1: a PIN never stands");
    enroll_opts_free(&o);
    put("a.conf", "\nfrobnicate = 1\n");
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, argv), PE_E_CONFIG);
    CHECK_CONTAINS(pe_detail(), "a.conf:2: unknown key \"frobnicate\"");
    enroll_opts_free(&o);
}

TEST("/enroll_args/explicit_config_only")
{
    char path[400];
    const char *argv[] = {"enroll", "--config", path, NULL};
    struct enroll_opts o;
    int first = 0;

    put("default.conf", "endpoint = https://default\n");
    put("mine", "form = https://form\nemail = me@x\n");
    snprintf(path, sizeof(path), "%s/mine", dir);
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, argv), PE_OK);
    CHECK(o.endpoint == NULL);
    CHECK_STR(o.form, "https://form");
    enroll_opts_free(&o);
}

TEST("/enroll_args/bad_values")
{
    const char *w[] = {"enroll", "--wait", "99999999999999d", NULL};
    const char *t[] = {"enroll", "--term", "1d", NULL};
    const char *two[] = {"enroll", "--client-secret-file",
                         "a",      "--client-secret-env",
                         "B",      NULL};
    const char *both[] = {"enroll", "--endpoint", "https://a",
                          "--form", "https://b",  NULL};
    struct enroll_opts o;
    int first = 0;

    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, w), PE_E_USAGE);
    enroll_opts_free(&o);
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, t), PE_E_USAGE);
    enroll_opts_free(&o);
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, two), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "one way only");
    enroll_opts_free(&o);
    CHECK_INT(parse(ENROLL_VERB_ENROLL, &o, &first, both), PE_E_USAGE);
    enroll_opts_free(&o);
}

TEST("/enroll_args/resume_id")
{
    const char *argv[] = {"resume", "--no-wait", "20261124T101010Z-00aa", NULL};
    const char *extra[] = {"resume", "a", "b", NULL};
    struct enroll_opts o;
    int first = 0;

    CHECK_INT(parse(ENROLL_VERB_RESUME, &o, &first, argv), PE_OK);
    CHECK_STR(o.merged[first], "20261124T101010Z-00aa");
    CHECK(o.no_wait);
    enroll_opts_free(&o);
    CHECK_INT(parse(ENROLL_VERB_RESUME, &o, &first, extra), PE_E_USAGE);
    enroll_opts_free(&o);
}
