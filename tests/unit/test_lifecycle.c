/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lifecycle.c - the pure parts of doctor and renew: renewal windows,
 * day counts, clock-skew classes, doctor's outcome, renew's own options
 * and the --json envelope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "expiry.h"
#include "harness.h"
#include "jsonout.h"
#include "lifeopt.h"

TEST("/expiry/parse_window")
{
    long s = -1;

    CHECK_INT(expiry_parse_window("30d", &s), PE_OK);
    CHECK_INT(s, 30L * 86400);
    /* a bare number is seconds, as for every duration; so short a window
     * is refused with a hint to say days */
    CHECK_INT(expiry_parse_window("30", &s), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "is 30 seconds; give a unit, such as 30d");
    CHECK_INT(expiry_parse_window("86400", &s), PE_OK);
    CHECK_INT(s, 86400);
    CHECK_INT(expiry_parse_window("2w", &s), PE_OK);
    CHECK_INT(s, 14L * 86400);
    CHECK_INT(expiry_parse_window("12h", &s), PE_OK);
    CHECK_INT(s, 12L * 3600);
    CHECK_INT(expiry_parse_window("90m", &s), PE_OK);
    CHECK_INT(s, 5400);
    CHECK_INT(expiry_parse_window("45s", &s), PE_OK);
    CHECK_INT(s, 45);
    CHECK_INT(expiry_parse_window("0", &s), PE_OK);
    CHECK_INT(s, 0);
    CHECK_INT(expiry_parse_window("3650d", &s), PE_OK);
    CHECK_INT(expiry_parse_window("3651d", &s), PE_E_USAGE);
    CHECK_INT(expiry_parse_window("-1d", &s), PE_E_USAGE);
    CHECK_INT(expiry_parse_window("soon", &s), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "\"soon\" is not a window");
    CHECK_INT(expiry_parse_window("30y", &s), PE_E_USAGE);
    CHECK_INT(expiry_parse_window("", &s), PE_E_USAGE);
    CHECK_INT(expiry_parse_window("99999999999999999999d", &s), PE_E_USAGE);
}

TEST("/expiry/days")
{
    CHECK_INT(expiry_days(1000 + 86400 * 3 + 5, 1000), 3);
    CHECK_INT(expiry_days(1000 + 86399, 1000), 0);
    CHECK_INT(expiry_days(1000, 1000 + 1), -1);
    CHECK_INT(expiry_days(1000, 1000 + 86400), -1);
    CHECK_INT(expiry_days(1000, 1000 + 86401), -2);
}

TEST("/doctor/skew_status")
{
    CHECK_INT(doctor_skew_status(0), DOCTOR_OK);
    CHECK_INT(doctor_skew_status(-60), DOCTOR_OK);
    CHECK_INT(doctor_skew_status(61), DOCTOR_WARN);
    CHECK_INT(doctor_skew_status(-300), DOCTOR_WARN);
    CHECK_INT(doctor_skew_status(301), DOCTOR_FAIL);
    CHECK_INT(doctor_skew_status(-86400), DOCTOR_FAIL);
}

TEST("/doctor/outcome_is_first_failure")
{
    static struct doctor_report r;

    r.n = 0;
    doctor_add(&r, "a", DOCTOR_OK, PE_E_IO, "fine");
    doctor_add(&r, "b", DOCTOR_WARN, PE_E_IO, "hmm");
    CHECK_INT(doctor_outcome(&r), PE_OK);
    CHECK_INT(r.v[0].rc, PE_OK); /* rc is kept only for failures */
    doctor_add(&r, "c", DOCTOR_FAIL, PE_E_PIN_SOURCE, "no PIN %d", 1);
    doctor_add(&r, "d", DOCTOR_FAIL, PE_E_CA_TLS, "untrusted");
    doctor_add(&r, "e", DOCTOR_FAIL, PE_E_VERIFY, "expired");
    CHECK_INT(doctor_outcome(&r), PE_E_PIN_SOURCE);
    CHECK_CONTAINS(pe_detail(), "no PIN 1");
    CHECK_CONTAINS(pe_detail(), "2 more problems listed above");
    CHECK_STR(doctor_status_name(r.v[2].status), "fail");
}

TEST("/doctor/report_is_bounded")
{
    static struct doctor_report r;
    int i;

    r.n = 0;
    for (i = 0; i < DOCTOR_MAX_CHECKS + 10; i++)
        doctor_add(&r, "x", DOCTOR_OK, PE_OK, "check %d", i);
    CHECK_INT(r.n, DOCTOR_MAX_CHECKS);
    CHECK_STR(r.v[DOCTOR_MAX_CHECKS - 1].msg, "check 57");
}

/* Split line (a writable copy in buf) at spaces into argv; returns argc. */
static int split(const char *line, char *buf, size_t size, char **argv, int max)
{
    char *save = NULL, *w;
    int n = 0;

    snprintf(buf, size, "%s", line);
    for (w = strtok_r(buf, " ", &save); w != NULL && n < max - 1;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    argv[n] = NULL;
    return n;
}

TEST("/lifeopt/split")
{
    char buf[256], *argv[16];
    struct lifeopt lo;
    int argc = split("renew --token pkcs11:token=a --within 7d --retire-old "
                     "--json --rekey -- --within=1d",
                     buf, sizeof(buf), argv, 16);

    CHECK_INT(lifeopt_split(argc, argv, true, &lo), PE_OK);
    CHECK_INT(lo.within_s, 7L * 86400);
    CHECK(lo.retire_old && lo.rekey && !lo.reuse_key && !lo.help);
    CHECK_INT(lo.argc, 6);
    CHECK_STR(lo.argv[0], "renew");
    CHECK_STR(lo.argv[1], "--token");
    CHECK_STR(lo.argv[3], "--json");
    CHECK_STR(lo.argv[4], "--");
    CHECK_STR(lo.argv[5], "--within=1d");
    lifeopt_free(&lo);
}

TEST("/lifeopt/doctor_keeps_renew_options")
{
    char buf[256], *argv[8];
    struct lifeopt lo;
    int argc =
        split("doctor --rekey --within=12h -h", buf, sizeof(buf), argv, 8);

    CHECK_INT(lifeopt_split(argc, argv, false, &lo), PE_OK);
    CHECK_INT(lo.within_s, 12L * 3600);
    CHECK(lo.help);
    CHECK_INT(lo.argc, 2); /* --rekey is left for enroll's parser to refuse */
    lifeopt_free(&lo);
}

TEST("/expiry/default_window")
{
    const time_t year = 365L * 86400, quarter = 90L * 86400;

    /* a year's certificate: 60 days; a 90-day one: a third, 30 days */
    CHECK_INT(expiry_window(EXPIRY_WINDOW_AUTO, 0, year), 60L * 86400);
    CHECK_INT(expiry_window(EXPIRY_WINDOW_AUTO, 0, quarter), 30L * 86400);
    CHECK_INT(expiry_window(EXPIRY_WINDOW_AUTO, 0, 86400), 8L * 3600);
    CHECK_INT(expiry_window(7L * 86400, 0, quarter), 7L * 86400);
    CHECK_INT(expiry_window(0, 0, quarter), 0);
}

TEST("/lifeopt/renew_options")
{
    char buf[256], *argv[16];
    struct lifeopt lo;
    int argc = split("renew --dry-run --yes --notify-cmd=logger --json", buf,
                     sizeof(buf), argv, 16);

    CHECK_INT(lifeopt_split(argc, argv, true, &lo), PE_OK);
    CHECK(lo.dry_run && lo.yes && !lo.retire_old);
    CHECK_STR(lo.notify_cmd, "logger");
    CHECK_INT(lo.within_s, EXPIRY_WINDOW_AUTO);
    CHECK_INT(lo.argc, 2);
    lifeopt_free(&lo);
    argc = split("renew --notify-cmd", buf, sizeof(buf), argv, 16);
    CHECK_INT(lifeopt_split(argc, argv, true, &lo), PE_E_USAGE);
    lifeopt_free(&lo);
    argc = split("doctor --dry-run --yes", buf, sizeof(buf), argv, 16);
    CHECK_INT(lifeopt_split(argc, argv, false, &lo), PE_OK);
    CHECK_INT(lo.argc, 3); /* renew's own: left for enroll's parser */
    lifeopt_free(&lo);
}

TEST("/lifeopt/conflicts")
{
    char buf[256], *argv[8];
    struct lifeopt lo;
    int argc;

    argc = split("renew --rekey --reuse-key", buf, sizeof(buf), argv, 8);
    CHECK_INT(lifeopt_split(argc, argv, true, &lo), PE_E_USAGE);
    lifeopt_free(&lo);
    argc = split("renew --within", buf, sizeof(buf), argv, 8);
    CHECK_INT(lifeopt_split(argc, argv, true, &lo), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "needs a value");
    lifeopt_free(&lo);
    argc = split("renew --within forever", buf, sizeof(buf), argv, 8);
    CHECK_INT(lifeopt_split(argc, argv, true, &lo), PE_E_USAGE);
    lifeopt_free(&lo);
}

TEST("/jsonout/envelope")
{
    json_t *env, *err;
    char *s;

    env = jsonout_envelope("doctor", json_pack("{s:i}", "n", 1), PE_OK);
    CHECK(env != NULL);
    CHECK_STR(json_string_value(json_object_get(env, "schema")), "p11enroll/2");
    CHECK_STR(json_string_value(json_object_get(env, "command")), "doctor");
    CHECK(json_is_null(json_object_get(env, "error")));
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(env, "result"), "n")),
              1);
    json_decref(env);

    pe_failf(PE_E_PIN_INCORRECT, "The token refused the PIN.");
    env = jsonout_envelope("renew", NULL, PE_E_PIN_INCORRECT);
    err = json_object_get(env, "error");
    CHECK(json_is_null(json_object_get(env, "result")));
    CHECK_INT(json_integer_value(json_object_get(err, "code")), 8);
    CHECK_STR(json_string_value(json_object_get(err, "name")),
              "PE_E_PIN_INCORRECT");
    CHECK_STR(json_string_value(json_object_get(err, "message")),
              "The token refused the PIN.");
    s = json_dumps(env, JSON_PRESERVE_ORDER);
    CHECK(s != NULL && strncmp(s, "{\"schema\": \"p11enroll/2\"", 24) == 0);
    free(s);
    json_decref(env);
}

TEST("/jsonout/snake_case_and_times")
{
    char buf[64], small[6], line[128], *argv[8];
    json_t *t;
    int argc;

    CHECK_STR(jsonout_snake("tokenUri", buf, sizeof(buf)), "token_uri");
    CHECK_STR(jsonout_snake("predecessorCertSha256", buf, sizeof(buf)),
              "predecessor_cert_sha256");
    CHECK_STR(jsonout_snake("keygen", buf, sizeof(buf)), "keygen");
    CHECK_STR(jsonout_snake("certExpires", small, sizeof(small)), "");

    /* the stored form with a space and "UTC" */
    t = jsonout_time_text("2027-12-05 04:11:04 UTC");
    CHECK_STR(json_string_value(t), "2027-12-05T04:11:04Z");
    json_decref(t);
    t = jsonout_time_text("2027-12-05T04:11:04Z");
    CHECK_STR(json_string_value(t), "2027-12-05T04:11:04Z");
    json_decref(t);
    CHECK(json_is_null(jsonout_time_text("soon")));
    CHECK(json_is_null(jsonout_time_text(NULL)));
    CHECK(json_is_null(jsonout_time(0)));

    argc = split("enroll --token t --json", line, sizeof(line), argv, 8);
    CHECK(jsonout_wanted(argc, argv));
    argc = split("enroll -- --json", line, sizeof(line), argv, 8);
    CHECK(!jsonout_wanted(argc, argv));
}
