/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_conf.c - the config files of `enroll`, `resume` and `forget`.
 *
 * A config file holds `key = value` lines whose keys are the long options
 * (`endpoint = https://...`, `accept-eula = yes`); `#` starts a comment
 * line.  Secrets never stand in a config file, only where to read them:
 * `client-secret = file:/etc/p11enroll/secret` (or env:NAME, fd:N) and the
 * PIN options.  Files: every --config FILE, else the *.conf files of
 * /etc/p11enroll (P11ENROLL_CONF_DIR overrides the folder) in name order.
 * Options on the command line override the files.
 */
#include "enroll_conf.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"

#define CONF_MAX       (64 * 1024)
#define CONF_FILES_MAX 32

static enum pe_rc own(struct enroll_opts *o, char *s)
{
    char **n;

    if (s == NULL)
        return PE_E_NOMEM;
    n = realloc(o->owned, (o->nowned + 1) * sizeof(*n));
    if (n == NULL) {
        free(s);
        return PE_E_NOMEM;
    }
    o->owned = n;
    o->owned[o->nowned++] = s;
    return PE_OK;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
        e[-1] = '\0';
        s++;
    }
    return s;
}

/* One config line as an option string "--key=value" (or none). */
static enum pe_rc conf_line(struct enroll_opts *o,
                            const struct option *longopts, const char *file,
                            int ln, char *line)
{
    const struct option *lo;
    char *eq = strchr(line, '='), *key, *val;
    size_t len;

    if (eq == NULL)
        return pe_failf(PE_E_CONFIG, "%s:%d: expected \"key = value\".", file,
                        ln);
    *eq = '\0';
    key = trim(line);
    val = trim(eq + 1);
    if (strcmp(key, "pin") == 0 || strcmp(key, "so-pin") == 0)
        return pe_failf(PE_E_CONFIG,
                        "%s:%d: a PIN never stands in a config file; use "
                        "pin-file, pin-env or pin-source.",
                        file, ln);
    for (lo = longopts; lo->name != NULL; lo++)
        if (strcmp(lo->name, key) == 0)
            break;
    if (lo->name == NULL || strcmp(key, "config") == 0 ||
        strcmp(key, "help") == 0)
        return pe_failf(PE_E_CONFIG, "%s:%d: unknown key \"%.60s\".", file, ln,
                        key);
    /* consent to remove a key or to trust a root is given each time,
     * never once for all */
    if (strcmp(key, "yes") == 0 || strcmp(key, "dry-run") == 0 ||
        strcmp(key, "trust-bundle-root") == 0)
        return pe_failf(PE_E_CONFIG,
                        "%s:%d: %s is given on the command line only.", file,
                        ln, key);
    if (lo->has_arg == no_argument) {
        if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 ||
            strcmp(val, "1") == 0 || strcmp(val, "on") == 0)
            val = NULL;
        else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 ||
                 strcmp(val, "0") == 0 || strcmp(val, "off") == 0)
            return PE_OK;
        else
            return pe_failf(PE_E_CONFIG, "%s:%d: %s takes yes or no.", file, ln,
                            key);
    }
    len = strlen(key) + (val != NULL ? strlen(val) : 0) + 4;
    key = malloc(len);
    if (key == NULL)
        return PE_E_NOMEM;
    snprintf(key, len, "--%s%s%s", lo->name, val != NULL ? "=" : "",
             val != NULL ? val : "");
    return own(o, key);
}

static enum pe_rc conf_file(struct enroll_opts *o,
                            const struct option *longopts, const char *path)
{
    unsigned char *text = NULL;
    char *line, *next;
    size_t len = 0;
    int ln = 0;
    enum pe_rc rc;

    rc = fileio_read(path, CONF_MAX, &text, &len);
    if (rc != PE_OK)
        return pe_failf(PE_E_CONFIG, "Config file: %s", pe_detail());
    log_debug(LOG_CAT_GENERAL, "config file %s", path);
    for (line = (char *)text; line != NULL && rc == PE_OK; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        ln++;
        line = trim(line);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        rc = conf_line(o, longopts, path, ln, line);
    }
    free(text);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .conf files of /etc/p11enroll in name order. */
static enum pe_rc conf_default(struct enroll_opts *o,
                               const struct option *longopts)
{
    const char *dir = getenv("P11ENROLL_CONF_DIR");
    char *names[CONF_FILES_MAX], path[4096];
    struct dirent *de;
    size_t n = 0, i, len;
    enum pe_rc rc = PE_OK;
    DIR *d;

    if (dir == NULL)
        dir = "/etc/p11enroll";
    d = opendir(dir);
    if (d == NULL)
        return PE_OK;
    while ((de = readdir(d)) != NULL && n < CONF_FILES_MAX) {
        len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 ||
            strcmp(de->d_name + len - 5, ".conf") != 0)
            continue;
        names[n] = strdup(de->d_name);
        if (names[n] == NULL)
            break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == PE_OK)
            rc = conf_file(o, longopts, path);
        free(names[i]);
    }
    return rc;
}

enum pe_rc enroll_conf_merge(struct enroll_opts *o,
                             const struct option *longopts, int argc,
                             char **argv, int *pmargc)
{
    bool given = false;
    size_t first, i;
    int k;
    enum pe_rc rc = PE_OK;

    for (k = 1; k < argc && rc == PE_OK; k++) {
        if (strcmp(argv[k], "--") == 0)
            break;
        if (strcmp(argv[k], "--config") == 0 && k + 1 < argc) {
            given = true;
            rc = conf_file(o, longopts, argv[++k]);
        } else if (strncmp(argv[k], "--config=", 9) == 0) {
            given = true;
            rc = conf_file(o, longopts, argv[k] + 9);
        }
    }
    if (rc == PE_OK && !given)
        rc = conf_default(o, longopts);
    if (rc != PE_OK)
        return rc;
    o->merged = calloc((size_t)argc + o->nowned + 1, sizeof(char *));
    if (o->merged == NULL)
        return PE_E_NOMEM;
    o->merged[0] = argv[0];
    first = 1;
    for (i = 0; i < o->nowned; i++)
        o->merged[first++] = o->owned[i];
    for (k = 1; k < argc; k++)
        o->merged[first++] = argv[k];
    *pmargc = (int)first;
    return PE_OK;
}
