/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults.c - the list of armed faults and their matching rules.
 *
 * A fault fires on a request whose path starts with its "path" (default: any
 * non-admin path) and whose method equals its "method" (default: any).  The
 * first "after" matching requests pass; then it fires "count" times (default
 * 1; unlimited when a probability is given and count is not), each time
 * with "probability" (default 1).  A fault that is used up is removed.
 */
#include "faults.h"
#include "scm_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULTS_MAX 64

struct fault {
    enum fault_type type;
    char *path;   /* prefix, or NULL */
    char *method; /* or NULL */
    long count;   /* fires left; -1 unlimited */
    long after;   /* matching requests still to let pass */
    double probability;
    long retry_after;
    long delay_ms;
    long fired;
};

struct sim_faults {
    struct fault v[FAULTS_MAX];
    size_t n;
};

static const struct {
    enum fault_type type;
    const char *name;
    enum fault_phase phase;
} fault_names[] = {
    {FAULT_401, "401", PHASE_REQUEST},
    {FAULT_429, "429", PHASE_REQUEST},
    {FAULT_503, "503", PHASE_REQUEST},
    {FAULT_RESET, "reset", PHASE_REQUEST},
    {FAULT_SLOW, "slow", PHASE_REQUEST},
    {FAULT_MALFORMED_JSON, "malformed_json", PHASE_REQUEST},
    {FAULT_HOSTILE_ID, "hostile_id", PHASE_REQUEST},
    {FAULT_HOSTILE_TEXT, "hostile_text", PHASE_REQUEST},
    {FAULT_TRUNCATED_PEM, "truncated_pem", PHASE_DOWNLOAD},
    {FAULT_NOT_COLLECTED, "not_collected", PHASE_DOWNLOAD},
    {FAULT_OTHER_KEY, "other_key", PHASE_ENROLL},
    {FAULT_WRONG_INTERMEDIATE, "wrong_intermediate", PHASE_ENROLL},
    {FAULT_REJECTED, "rejected", PHASE_ENROLL},
};

#define N_NAMES (sizeof(fault_names) / sizeof(fault_names[0]))

const char *fault_name(enum fault_type t)
{
    size_t i;

    for (i = 0; i < N_NAMES; i++)
        if (fault_names[i].type == t)
            return fault_names[i].name;
    return "none";
}

enum fault_type fault_by_name(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < N_NAMES; i++)
        if (strcmp(fault_names[i].name, name) == 0)
            return fault_names[i].type;
    return FAULT_NONE;
}

static enum fault_phase phase_of(enum fault_type t)
{
    size_t i;

    for (i = 0; i < N_NAMES; i++)
        if (fault_names[i].type == t)
            return fault_names[i].phase;
    return PHASE_REQUEST;
}

struct sim_faults *faults_new(void)
{
    return calloc(1, sizeof(struct sim_faults));
}

static void fault_release(struct fault *ft)
{
    free(ft->path);
    free(ft->method);
    memset(ft, 0, sizeof(*ft));
}

void faults_clear(struct sim_faults *f)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        fault_release(&f->v[i]);
    f->n = 0;
}

void faults_free(struct sim_faults *f)
{
    if (f == NULL)
        return;
    faults_clear(f);
    free(f);
}

static int get_long(const json_t *o, const char *key, long def, long min,
                    long max, long *pv, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL) {
        *pv = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        snprintf(err, errlen, "fault: \"%s\" must be an integer %ld..%ld", key,
                 min, max);
        return -1;
    }
    *pv = (long)json_integer_value(v);
    return 0;
}

/* Parse one fault object into ft; -1 and err on error. */
static int parse_one(const json_t *o, struct fault *ft, char *err,
                     size_t errlen)
{
    json_t *prob = json_object_get(o, "probability");
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *method = json_string_value(json_object_get(o, "method"));

    memset(ft, 0, sizeof(*ft));
    if (!json_is_object(o)) {
        snprintf(err, errlen, "a fault is a JSON object");
        return -1;
    }
    ft->type = fault_by_name(json_string_value(json_object_get(o, "type")));
    if (ft->type == FAULT_NONE) {
        snprintf(err, errlen,
                 "fault: unknown \"type\" (one of 401, 429, 503, "
                 "reset, slow, malformed_json, hostile_id, hostile_text, "
                 "truncated_pem, not_collected, other_key, "
                 "wrong_intermediate, rejected)");
        return -1;
    }
    ft->probability = 1.0;
    if (prob != NULL) {
        if (!json_is_number(prob) || json_number_value(prob) < 0.0 ||
            json_number_value(prob) > 1.0) {
            snprintf(err, errlen, "fault: \"probability\" must be 0..1");
            return -1;
        }
        ft->probability = json_number_value(prob);
    }
    if (get_long(o, "count", prob != NULL ? -1 : 1, -1, 1000000, &ft->count,
                 err, errlen) != 0 ||
        get_long(o, "after", 0, 0, 1000000, &ft->after, err, errlen) != 0 ||
        get_long(o, "retryAfter", 1, 0, 86400, &ft->retry_after, err, errlen) !=
            0 ||
        get_long(o, "delayMs", 2000, 0, 600000, &ft->delay_ms, err, errlen) !=
            0)
        return -1;
    if ((json_object_get(o, "path") != NULL && path == NULL) ||
        (json_object_get(o, "method") != NULL && method == NULL)) {
        snprintf(err, errlen, "fault: \"path\" and \"method\" are strings");
        return -1;
    }
    if (ft->count == 0)
        ft->count = -1;
    ft->path = path != NULL ? strdup(path) : NULL;
    ft->method = method != NULL ? strdup(method) : NULL;
    if ((path != NULL && ft->path == NULL) ||
        (method != NULL && ft->method == NULL)) {
        fault_release(ft);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int faults_add_json(struct sim_faults *f, const json_t *spec, char *err,
                    size_t errlen)
{
    struct fault tmp[FAULTS_MAX];
    size_t n = 0, i;
    const json_t *el;

    if (json_is_object(spec)) {
        if (parse_one(spec, &tmp[0], err, errlen) != 0)
            return -1;
        n = 1;
    } else if (json_is_array(spec)) {
        json_array_foreach(spec, i, el)
        {
            if (n >= FAULTS_MAX || parse_one(el, &tmp[n], err, errlen) != 0) {
                if (n >= FAULTS_MAX)
                    snprintf(err, errlen, "at most %d faults", FAULTS_MAX);
                goto fail;
            }
            n++;
        }
    } else {
        snprintf(err, errlen, "faults: an object or an array expected");
        return -1;
    }
    if (f->n + n > FAULTS_MAX) {
        snprintf(err, errlen, "at most %d faults", FAULTS_MAX);
        goto fail;
    }
    memcpy(&f->v[f->n], tmp, n * sizeof(tmp[0]));
    f->n += n;
    return 0;
fail:
    for (i = 0; i < n; i++)
        fault_release(&tmp[i]);
    return -1;
}

json_t *faults_to_json(const struct sim_faults *f)
{
    json_t *arr = json_array(), *o;
    size_t i;

    for (i = 0; arr != NULL && i < f->n; i++) {
        const struct fault *ft = &f->v[i];
        o = json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:I}", "type",
                      fault_name(ft->type), "count", (json_int_t)ft->count,
                      "after", (json_int_t)ft->after, "probability",
                      ft->probability, "retryAfter",
                      (json_int_t)ft->retry_after, "delayMs",
                      (json_int_t)ft->delay_ms, "fired", (json_int_t)ft->fired);
        if (o != NULL && ft->path != NULL)
            json_object_set_new(o, "path", json_string(ft->path));
        if (o != NULL && ft->method != NULL)
            json_object_set_new(o, "method", json_string(ft->method));
        json_array_append_new(arr, o);
    }
    return arr;
}

static bool matches(const struct fault *ft, const char *method,
                    const char *path)
{
    if (ft->path != NULL && strncmp(path, ft->path, strlen(ft->path)) != 0)
        return false;
    if (ft->method != NULL && strcmp(method, ft->method) != 0)
        return false;
    return true;
}

bool faults_take(struct sim_faults *f, enum fault_phase phase,
                 const char *method, const char *path, struct fault_hit *hit)
{
    size_t i;

    for (i = 0; i < f->n; i++) {
        struct fault *ft = &f->v[i];
        if (phase_of(ft->type) != phase || !matches(ft, method, path))
            continue;
        if (ft->after > 0) {
            ft->after--;
            continue;
        }
        if (ft->probability < 1.0 &&
            (double)util_random_below(1000000) >= ft->probability * 1e6)
            continue;
        hit->type = ft->type;
        hit->retry_after = ft->retry_after;
        hit->delay_ms = ft->delay_ms;
        ft->fired++;
        if (ft->count > 0 && --ft->count == 0) {
            fault_release(ft);
            memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof(f->v[0]));
            memset(&f->v[f->n - 1], 0, sizeof(f->v[0]));
            f->n--;
        }
        return true;
    }
    return false;
}
