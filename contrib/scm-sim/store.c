/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - requests as files: requests/<id>.json.
 */
#include "store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX (256 * 1024)
#define FIRST_ID   1001

static bool valid_id(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n < 19 && strspn(id, "0123456789") == n && id[0] != '0';
}

static char *record_path(struct sim *s, const char *id)
{
    return util_printf("%s/requests/%s.json", s->state_dir, id);
}

int store_init(struct sim *s, char *err, size_t errlen)
{
    char *req = util_printf("%s/requests", s->state_dir);
    char *out = util_printf("%s/outbox", s->state_dir);
    struct dirent *de;
    DIR *d = NULL;
    int rc = -1;

    if (req == NULL || out == NULL || util_mkdirs(req) != 0 ||
        util_mkdirs(out) != 0) {
        snprintf(err, errlen, "cannot create %s/requests and outbox",
                 s->state_dir);
        goto out;
    }
    s->next_id = FIRST_ID;
    d = opendir(req);
    if (d == NULL) {
        snprintf(err, errlen, "cannot read %s", req);
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        unsigned long v = strtoul(de->d_name, NULL, 10);
        if (strstr(de->d_name, ".json") != NULL && v >= s->next_id)
            s->next_id = v + 1;
    }
    rc = 0;
out:
    if (d != NULL)
        closedir(d);
    free(req);
    free(out);
    return rc;
}

json_t *store_load(struct sim *s, const char *id)
{
    char *path = NULL, *text = NULL;
    json_t *rec = NULL;
    size_t len = 0;

    if (id == NULL || !valid_id(id))
        return NULL;
    path = record_path(s, id);
    if (path == NULL)
        return NULL;
    text = util_read_file(path, RECORD_MAX, &len);
    if (text != NULL)
        rec = json_loadb(text, len, 0, NULL);
    if (rec != NULL && !json_is_object(rec)) {
        json_decref(rec);
        rec = NULL;
    }
    free(text);
    free(path);
    return rec;
}

int store_save(struct sim *s, const json_t *rec)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    char *path = NULL, *text = NULL;
    int rc = -1;

    if (id == NULL || !valid_id(id))
        return -1;
    path = record_path(s, id);
    text = json_dumps(rec, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (path != NULL && text != NULL)
        rc = util_write_file(path, text, strlen(text), false);
    free(path);
    free(text);
    if (rc != 0)
        sim_log("cannot save request %s", id);
    return rc;
}

int store_create(struct sim *s, json_t *rec)
{
    char id[32];

    snprintf(id, sizeof(id), "%lu", s->next_id++);
    if (json_object_set_new(rec, "id", json_string(id)) != 0)
        return -1;
    return store_save(s, rec);
}

static int cmp_id(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a;
    unsigned long y = *(const unsigned long *)b;

    return x < y ? -1 : x > y;
}

json_t *store_list(struct sim *s)
{
    char *dir = util_printf("%s/requests", s->state_dir), id[32];
    unsigned long *ids = NULL, *grown;
    size_t n = 0, cap = 0, i;
    json_t *arr = json_array(), *rec;
    struct dirent *de;
    DIR *d = dir != NULL ? opendir(dir) : NULL;

    while (d != NULL && arr != NULL && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            grown = realloc(ids, cap * sizeof(*ids));
            if (grown == NULL)
                break;
            ids = grown;
        }
        ids[n++] = strtoul(de->d_name, NULL, 10);
    }
    if (n > 0)
        qsort(ids, n, sizeof(*ids), cmp_id);
    for (i = 0; arr != NULL && i < n; i++) {
        snprintf(id, sizeof(id), "%lu", ids[i]);
        rec = store_load(s, id);
        if (rec == NULL)
            continue;
        json_object_del(rec, "csr");
        json_object_del(rec, "cert");
        json_object_del(rec, "attestation");
        json_array_append_new(arr, rec);
    }
    if (d != NULL)
        closedir(d);
    free(ids);
    free(dir);
    return arr;
}
