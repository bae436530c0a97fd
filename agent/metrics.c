/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - the journal as node_exporter textfile metrics.
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fileio.h"
#include "util.h"

#define METRICS_MAX (4 * 1024 * 1024)

struct out {
    char *buf;
    size_t len, cap;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    char *nb;
    size_t cap;

    if (o->full)
        return;
    if (o->len + n + 1 > o->cap) {
        cap = o->cap * 2 + n + 4096;
        nb = cap <= METRICS_MAX ? realloc(o->buf, cap) : NULL;
        if (nb == NULL) {
            o->full = true;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* name="value" with the format's escapes (\\, \", \n). */
static void label(struct out *o, const char *name, const char *value,
                  bool first)
{
    const char *p;

    puts_(o, first ? "" : ",");
    puts_(o, name);
    puts_(o, "=\"");
    for (p = value != NULL ? value : ""; *p != '\0'; p++) {
        if (*p == '\\')
            puts_(o, "\\\\");
        else if (*p == '"')
            puts_(o, "\\\"");
        else if (*p == '\n')
            puts_(o, "\\n");
        else
            put(o, p, 1);
    }
    puts_(o, "\"");
}

static void labels(struct out *o, const struct journal_rec *r)
{
    label(o, "enrollment", r->id, true);
    label(o, "token", r->token_uri, false);
    label(o, "key_id", r->key_id_hex, false);
    label(o, "subject", r->cert_subject, false);
    label(o, "serial", r->cert_serial, false);
}

/* A journal time (RFC 3339, or the older "... UTC" form) as time_t; 0 if
 * not one. */
static time_t when(const char *s)
{
    time_t t = 0;

    return s != NULL && util_time_parse(s, &t) ? t : 0;
}

/* What became of an installed record's certificate: the newest record
 * naming it as predecessor decides. */
static const char *cert_state(const struct journal_list *jl,
                              const struct journal_rec *r)
{
    const struct journal_rec *s;
    size_t i;

    for (i = jl->n; i-- > 0;) {
        s = jl->v[i];
        if (s->pred_key_id == NULL || s->pred_serial == NULL ||
            r->key_id_hex == NULL || r->cert_serial == NULL ||
            strcasecmp(s->pred_key_id, r->key_id_hex) != 0 ||
            strcasecmp(s->pred_serial, r->cert_serial) != 0)
            continue;
        if (s->retired_at != NULL)
            return "retired";
        if (s->status == JOURNAL_INSTALLED)
            return "renewed";
        return s->status == JOURNAL_REJECTED ? "renewal-failed" : "renewing";
    }
    return "current";
}

static void render(struct out *o, const struct journal_list *jl)
{
    char num[64];
    size_t i;

    puts_(o, "# HELP p11enroll_certificate_not_after_seconds End of the "
             "certificate of an installed enrollment (Unix time).\n"
             "# TYPE p11enroll_certificate_not_after_seconds gauge\n");
    for (i = 0; i < jl->n; i++) {
        if (jl->v[i]->status != JOURNAL_INSTALLED)
            continue;
        puts_(o, "p11enroll_certificate_not_after_seconds{");
        labels(o, jl->v[i]);
        snprintf(num, sizeof(num), "} %lld\n",
                 (long long)when(jl->v[i]->cert_expires));
        puts_(o, num);
    }
    puts_(o, "# HELP p11enroll_certificate_state Renewal state of the "
             "certificate of an installed enrollment.\n"
             "# TYPE p11enroll_certificate_state gauge\n");
    for (i = 0; i < jl->n; i++) {
        if (jl->v[i]->status != JOURNAL_INSTALLED)
            continue;
        puts_(o, "p11enroll_certificate_state{");
        labels(o, jl->v[i]);
        label(o, "state", cert_state(jl, jl->v[i]), false);
        puts_(o, "} 1\n");
    }
    puts_(o, "# HELP p11enroll_enrollment_unfinished An enrollment or "
             "renewal that has not reached its end.\n"
             "# TYPE p11enroll_enrollment_unfinished gauge\n");
    for (i = 0; i < jl->n; i++) {
        if (journal_status_final(jl->v[i]->status))
            continue;
        puts_(o, "p11enroll_enrollment_unfinished{");
        labels(o, jl->v[i]);
        label(o, "step", journal_status_name(jl->v[i]->status), false);
        puts_(o, "} 1\n");
    }
    puts_(o, "# HELP p11enroll_metrics_written_seconds When this file was "
             "written (Unix time).\n"
             "# TYPE p11enroll_metrics_written_seconds gauge\n");
    snprintf(num, sizeof(num), "p11enroll_metrics_written_seconds %lld\n",
             (long long)time(NULL));
    puts_(o, num);
}

enum pe_rc metrics_write(const char *path, const struct journal_list *jl)
{
    struct out o = {0};
    enum pe_rc rc;

    render(&o, jl);
    if (o.full || o.buf == NULL) {
        free(o.buf);
        return PE_E_NOMEM;
    }
    rc = fileio_write_atomic(path, o.buf, o.len, 0644);
    free(o.buf);
    return rc;
}
