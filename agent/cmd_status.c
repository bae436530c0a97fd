/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_status.c - `p11enroll status [ID]`: the recorded enrollments.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bundle.h"
#include "cmd.h"
#include "enroll.h"
#include "journal.h"
#include "jsonout.h"
#include "log.h"
#include "util.h"
#include "metrics.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: p11enroll status [ID] [--state-dir D] [--json] "
               "[--metrics FILE]\n\n"
               "Lists the recorded enrollments (or one) with their step, "
               "request id,\nkey and last error.  --metrics also writes "
               "each certificate's expiry\nand renewal state to FILE in "
               "node_exporter's textfile format.\n"
               "--state-dir: the journal folder (default: as enroll's).\n"
               "--json: the records and each one's next command as JSON\n"
               "(docs/json-schema.md).\n");
}

static void print_one(const struct journal_rec *r, bool full)
{
    char when[UTIL_TIME_SIZE], next[160], fp[BUNDLE_SHA256_FP];

    util_time_rfc3339(r->created, when, sizeof(when));
    printf("%-27s %-13s %-16s %s %s\n", r->id, journal_status_name(r->status),
           r->request_id ? r->request_id : "-", when, r->url ? r->url : "-");
    /* every record that is not done says how it moves on */
    if (r->status != JOURNAL_INSTALLED)
        printf("  next: %s\n", enroll_next_command(r, next, sizeof(next)));
    if (!full)
        return;
    printf("  protocol   %s\n", r->protocol ? r->protocol : "-");
    printf("  token      %s\n", r->token_uri ? r->token_uri : "-");
    printf("  key id     %s\n", r->key_id_hex ? r->key_id_hex : "-");
    if (r->key_uri)
        printf("  key        %s\n", r->key_uri);
    if (r->ca_status)
        printf("  CA status  %s\n", r->ca_status);
    if (r->cert_subject)
        printf("  subject    %s\n", r->cert_subject);
    if (r->cert_expires)
        printf("  expires    %s\n", r->cert_expires);
    if (r->pinned_root_sha256)
        printf("  pinned     root SHA-256 %s\n",
               bundle_sha256_fp(r->pinned_root_sha256, fp));
    if (r->last_error)
        printf("  last error %s\n", r->last_error);
}

/* A stored member that holds a time: its name ends in "Expires" or "At"
 * (certExpires, predecessorExpires, retiredAt). */
static bool is_time_member(const char *name)
{
    size_t n = strlen(name);

    return (n > 7 && strcmp(name + n - 7, "Expires") == 0) ||
           (n > 2 && strcmp(name + n - 2, "At") == 0);
}

/*
 * The documented view of one record (docs/json-schema.md, "status"): the
 * stored members under snake_case names, whatever members the journal
 * has (journal.c's table), times as RFC 3339; without the file's format
 * version and the CSR.  New reference, NULL when out of memory.
 */
static json_t *record_view(const struct journal_rec *rec)
{
    json_t *stored, *view, *v, *shown;
    const char *name;
    char *text = NULL, snake[128], next[160];

    if (journal_dump(rec, &text) != PE_OK)
        return NULL;
    stored = json_loads(text, 0, NULL);
    free(text);
    view = json_object();
    if (stored == NULL || view == NULL) {
        json_decref(stored);
        json_decref(view);
        return NULL;
    }
    json_object_foreach(stored, name, v)
    {
        if (strcmp(name, "version") == 0 || strcmp(name, "csr") == 0)
            continue;
        jsonout_snake(name, snake, sizeof(snake));
        if (snake[0] == '\0')
            continue;
        if (strcmp(name, "created") == 0 || strcmp(name, "updated") == 0)
            shown = jsonout_time((time_t)json_integer_value(v));
        else if (json_is_string(v) && is_time_member(name))
            shown = jsonout_time_text(json_string_value(v));
        else
            shown = json_incref(v);
        json_object_set_new(view, snake, shown);
    }
    json_decref(stored);
    json_object_set_new(
        view, "next_command",
        json_string(enroll_next_command(rec, next, sizeof(next))));
    return view;
}

static enum pe_rc print_json(struct journal_list *list)
{
    json_t *arr = json_array(), *one;
    size_t i;

    if (arr == NULL)
        return PE_E_NOMEM;
    for (i = 0; i < list->n; i++) {
        one = record_view(list->v[i]);
        if (one == NULL || json_array_append_new(arr, one) != 0) {
            json_decref(arr);
            return PE_E_NOMEM;
        }
    }
    one = json_pack("{s:o}", "enrollments", arr);
    if (one == NULL)
        return PE_E_NOMEM;
    return jsonout_print("status", one, PE_OK);
}

enum pe_rc cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"state-dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"metrics", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct journal_list *list = NULL;
    const char *sdir = NULL, *id = NULL, *metrics = NULL;
    char *dir = NULL;
    bool json = false;
    size_t i, shown = 0;
    int c;
    enum pe_rc rc = PE_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'd') {
            sdir = optarg;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'm') {
            metrics = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return PE_OK;
        } else {
            usage(stderr);
            return pe_failf(PE_E_USAGE, "Unknown option \"%s\".",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        id = argv[optind];
    if (sdir != NULL)
        dir = strdup(sdir);
    else
        rc = journal_default_dir(&dir);
    if (rc == PE_OK && dir == NULL)
        rc = PE_E_NOMEM;
    if (rc == PE_OK)
        rc = journal_list(dir, &list);
    if (rc == PE_OK && metrics != NULL)
        rc = metrics_write(metrics, list);
    if (rc != PE_OK)
        goto out;
    if (id != NULL) {
        for (i = 0; i < list->n; i++)
            if (strcmp(list->v[i]->id, id) == 0)
                break;
        if (i == list->n) {
            rc = pe_failf(PE_E_STATE, "There is no enrollment %s in %s.", id,
                          dir);
            goto out;
        }
        if (json) {
            struct journal_list one = {&list->v[i], 1};
            rc = print_json(&one);
        } else {
            print_one(list->v[i], true);
        }
        goto out;
    }
    if (json) {
        rc = print_json(list);
        goto out;
    }
    for (i = 0; i < list->n; i++, shown++)
        print_one(list->v[i], false);
    if (shown == 0)
        say("No enrollments recorded in %s.", dir);
out:
    if (json && rc != PE_OK)
        jsonout_print("status", NULL, rc);
    journal_list_free(list);
    free(dir);
    return rc;
}
