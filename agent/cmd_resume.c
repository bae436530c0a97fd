/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_resume.c - `p11enroll resume [ID]`: continue a recorded enrollment
 * from the step it reached; without ID, the one unfinished enrollment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "enroll.h"
#include "log.h"

/* The id of the only unfinished record; several or none: an error. */
static enum pe_rc only_unfinished(const char *dir, char *id, size_t idsz)
{
    struct journal_list *list = NULL;
    size_t i, n = 0;
    enum pe_rc rc;

    rc = journal_list(dir, &list);
    if (rc != PE_OK)
        return rc;
    for (i = 0; i < list->n; i++)
        if (!journal_status_final(list->v[i]->status)) {
            if (n++ == 0)
                snprintf(id, idsz, "%s", list->v[i]->id);
            else if (n == 2)
                say("Unfinished enrollments:\n  %s", id);
            if (n >= 2)
                say("  %s", list->v[i]->id);
        }
    journal_list_free(list);
    if (n == 0)
        return pe_failf(PE_E_USAGE,
                        "There is no unfinished enrollment in %s to resume "
                        "(p11enroll status lists them all).",
                        dir);
    if (n > 1)
        return pe_failf(PE_E_USAGE,
                        "%zu enrollments are unfinished; name "
                        "one: p11enroll resume ID.",
                        n);
    return PE_OK;
}

enum pe_rc cmd_resume(int argc, char **argv)
{
    struct enroll_opts o;
    struct journal_rec *rec = NULL;
    char *dir = NULL, id[64];
    bool help = false;
    int first = 0;
    enum pe_rc rc;

    rc = enroll_parse_args(ENROLL_VERB_RESUME, argc, argv, &o, &first, &help);
    if (rc != PE_OK || help)
        goto out;
    rc = enroll_state_dir(&o, &dir);
    if (rc != PE_OK)
        goto out;
    if (o.merged[first] != NULL)
        snprintf(id, sizeof(id), "%s", o.merged[first]);
    else
        rc = only_unfinished(dir, id, sizeof(id));
    if (rc == PE_OK)
        rc = journal_open(dir, id, &rec);
    if (rc != PE_OK)
        goto out;
    say("Resuming enrollment %s (%s).", rec->id,
        journal_status_name(rec->status));
    rc = enroll_run(rec, &o);
out:
    journal_rec_free(rec);
    free(dir);
    enroll_opts_free(&o);
    return rc;
}
