/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal.c - enrollment records in a state folder, atomically written
 * and locked while worked on.
 */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "fileio.h"
#include "log.h"

#define RECORD_MAX (256 * 1024)
#define FIELD_MAX  (64 * 1024)

static const char *const status_names[JOURNAL_STATUS_COUNT] = {
    [JOURNAL_NEW] = "new",
    [JOURNAL_KEY_GENERATED] = "key-generated",
    [JOURNAL_CSR_BUILT] = "csr-built",
    [JOURNAL_SUBMITTING] = "submitting",
    [JOURNAL_SUBMITTED] = "submitted",
    [JOURNAL_ISSUED] = "issued",
    [JOURNAL_DOWNLOADED] = "downloaded",
    [JOURNAL_INSTALLED] = "installed",
    [JOURNAL_REJECTED] = "rejected",
    [JOURNAL_ABANDONED] = "abandoned",
};

/* The string fields, by JSON name and offset. */
#define F(name, member)                                                        \
    {                                                                          \
        name, offsetof(struct journal_rec, member)                             \
    }
static const struct {
    const char *name;
    size_t off;
} fields[] = {
    F("tokenUri", token_uri),
    F("module", module),
    F("keyId", key_id_hex),
    F("keyUri", key_uri),
    F("keyType", key_type),
    F("keyLabel", key_label),
    F("keyOrigin", key_origin),
    F("keygen", keygen),
    F("protocol", protocol),
    F("url", url),
    F("clientId", client_id),
    F("email", email),
    F("format", format),
    F("tokenUrl", token_url),
    F("hsmType", hsm_type),
    F("attestationFile", attestation_file),
    F("attestationCmd", attestation_cmd),
    F("caFile", ca_file),
    F("trust", trust),
    F("pinSource", pin_source),
    F("soPinSource", so_pin_source),
    F("clientSecretSource", secret_source),
    F("outCert", out_cert),
    F("outChain", out_chain),
    F("firstName", first_name),
    F("lastName", last_name),
    F("title", title),
    F("sanEmail", san_email),
    F("subject", subject),
    F("csr", csr_b64),
    F("requestId", request_id),
    F("caStatus", ca_status),
    F("lastError", last_error),
    F("certUri", cert_uri),
    F("certSubject", cert_subject),
    F("certIssuer", cert_issuer),
    F("certSerial", cert_serial),
    F("certExpires", cert_expires),
    F("predecessorId", pred_id),
    F("predecessorCertSha256", pred_cert_sha256),
    F("predecessorKeyId", pred_key_id),
    F("predecessorSerial", pred_serial),
    F("predecessorSubject", pred_subject),
    F("predecessorExpires", pred_expires),
    F("retiredAt", retired_at),
    F("retiredCert", retired_cert),
    F("retiredKey", retired_key),
    F("pinnedRoot", pinned_root),
    F("pinnedRootSha256", pinned_root_sha256),
    F("acceptBundleRoot", accept_bundle_root),
    F("untrustedRoot", untrusted_root),
};
#undef F
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static char **field_at(struct journal_rec *rec, size_t i)
{
    return (char **)(void *)((char *)rec + fields[i].off);
}

static const char *field_get(const struct journal_rec *rec, size_t i)
{
    return *(char *const *)(const void *)((const char *)rec + fields[i].off);
}

const char *journal_status_name(enum journal_status s)
{
    return (int)s >= 0 && s < JOURNAL_STATUS_COUNT ? status_names[s] : "?";
}

enum pe_rc journal_status_parse(const char *name, enum journal_status *ps)
{
    int i;

    for (i = 0; name != NULL && i < JOURNAL_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0) {
            *ps = (enum journal_status)i;
            return PE_OK;
        }
    return pe_failf(PE_E_STATE, "Unknown journal status \"%.40s\".",
                    name != NULL ? name : "");
}

bool journal_status_final(enum journal_status s)
{
    return s == JOURNAL_INSTALLED || s == JOURNAL_REJECTED ||
           s == JOURNAL_ABANDONED;
}

enum pe_rc journal_default_dir(char **pdir)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    size_t len;

    *pdir = NULL;
    if (geteuid() == 0) { /* the systemd unit's StateDirectory=p11enroll */
        *pdir = strdup("/var/lib/p11enroll");
        return *pdir != NULL ? PE_OK : PE_E_NOMEM;
    }
    if (xdg != NULL && xdg[0] == '/') {
        len = strlen(xdg) + sizeof("/p11enroll");
        *pdir = malloc(len);
        if (*pdir == NULL)
            return PE_E_NOMEM;
        snprintf(*pdir, len, "%s/p11enroll", xdg);
        return PE_OK;
    }
    if (home == NULL || home[0] != '/')
        return pe_failf(PE_E_STATE, "Neither XDG_STATE_HOME nor HOME is set; "
                                    "give --state-dir.");
    len = strlen(home) + sizeof("/.local/state/p11enroll");
    *pdir = malloc(len);
    if (*pdir == NULL)
        return PE_E_NOMEM;
    snprintf(*pdir, len, "%s/.local/state/p11enroll", home);
    return PE_OK;
}

enum pe_rc journal_set(char **field, const char *value)
{
    char *copy = NULL;

    if (value != NULL) {
        copy = strdup(value);
        if (copy == NULL)
            return PE_E_NOMEM;
    }
    free(*field);
    *field = copy;
    return PE_OK;
}

static struct journal_rec *rec_alloc(void)
{
    struct journal_rec *rec = calloc(1, sizeof(*rec));

    if (rec != NULL)
        rec->lock_fd = -1;
    return rec;
}

void journal_rec_free(struct journal_rec *rec)
{
    size_t i;

    if (rec == NULL)
        return;
    for (i = 0; i < NFIELDS; i++)
        free(*field_at(rec, i));
    if (rec->lock_fd >= 0)
        close(rec->lock_fd); /* releases the flock */
    free(rec->dir);
    free(rec);
}

void journal_remove(struct journal_rec *rec)
{
    static const char *const suffixes[] = {".json", ".bundle", ".lock"};
    char *path = NULL;
    size_t i;

    if (rec == NULL)
        return;
    for (i = 0; i < 3 && rec->dir != NULL; i++) {
        if (journal_path(rec, suffixes[i], &path) == PE_OK)
            (void)unlink(path);
        free(path);
        path = NULL;
    }
    log_debug(LOG_CAT_JOURNAL, "journal %s removed", rec->id);
    journal_rec_free(rec);
}

enum pe_rc journal_path(const struct journal_rec *rec, const char *suffix,
                        char **ppath)
{
    size_t len = strlen(rec->dir) + 1 + strlen(rec->id) + strlen(suffix) + 1;

    *ppath = malloc(len);
    if (*ppath == NULL)
        return PE_E_NOMEM;
    snprintf(*ppath, len, "%s/%s%s", rec->dir, rec->id, suffix);
    return PE_OK;
}

static bool id_valid(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n >= sizeof(((struct journal_rec *)0)->id))
        return false;
    for (i = 0; i < n; i++)
        if (strchr("0123456789abcdefghijklmnopqrstuvwxyzTZ-", id[i]) == NULL)
            return false;
    return true;
}

enum pe_rc journal_dump(const struct journal_rec *rec, char **ptext)
{
    json_t *j;
    size_t i;
    enum pe_rc rc = PE_E_NOMEM;

    *ptext = NULL;
    j = json_pack("{s:i, s:s, s:I, s:I, s:s, s:I}", "version", 1, "id", rec->id,
                  "created", (json_int_t)rec->created, "updated",
                  (json_int_t)rec->updated, "status",
                  journal_status_name(rec->status), "term",
                  (json_int_t)rec->term);
    if (j == NULL)
        return PE_E_NOMEM;
    for (i = 0; i < NFIELDS; i++)
        if (field_get(rec, i) != NULL &&
            json_object_set_new(j, fields[i].name,
                                json_string(field_get(rec, i))) != 0)
            goto out;
    *ptext = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (*ptext != NULL)
        rc = PE_OK;
out:
    json_decref(j);
    return rc;
}

enum pe_rc journal_parse(const char *text, size_t len,
                         struct journal_rec **prec)
{
    struct journal_rec *rec = NULL;
    json_error_t err;
    json_t *j, *v;
    const char *id, *st;
    size_t i;
    enum pe_rc rc = PE_E_STATE;

    *prec = NULL;
    j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(j)) {
        rc = pe_failf(PE_E_STATE, "The journal record is not valid JSON: %s.",
                      err.text);
        goto out;
    }
    id = json_string_value(json_object_get(j, "id"));
    st = json_string_value(json_object_get(j, "status"));
    if (id == NULL || !id_valid(id) || st == NULL) {
        rc = pe_failf(PE_E_STATE, "The journal record has no valid id or "
                                  "status.");
        goto out;
    }
    rec = rec_alloc();
    if (rec == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    snprintf(rec->id, sizeof(rec->id), "%s", id);
    rc = journal_status_parse(st, &rec->status);
    if (rc != PE_OK)
        goto out;
    rec->created = (time_t)json_integer_value(json_object_get(j, "created"));
    rec->updated = (time_t)json_integer_value(json_object_get(j, "updated"));
    rec->term = (long)json_integer_value(json_object_get(j, "term"));
    for (i = 0; i < NFIELDS; i++) {
        v = json_object_get(j, fields[i].name);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v) || json_string_length(v) > FIELD_MAX ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            rc = pe_failf(PE_E_STATE, "The journal record %s has a bad \"%s\".",
                          rec->id, fields[i].name);
            goto out;
        }
        rc = journal_set(field_at(rec, i), json_string_value(v));
        if (rc != PE_OK)
            goto out;
    }
    *prec = rec;
    rec = NULL;
    rc = PE_OK;
out:
    journal_rec_free(rec);
    json_decref(j);
    return rc;
}

enum pe_rc journal_save(struct journal_rec *rec)
{
    char *text = NULL, *path = NULL;
    enum pe_rc rc;

    rec->updated = time(NULL);
    rc = journal_dump(rec, &text);
    if (rc == PE_OK)
        rc = journal_path(rec, ".json", &path);
    if (rc == PE_OK)
        rc = fileio_write_atomic(path, text, strlen(text), 0600);
    if (rc == PE_OK) {
        rec->saved = true;
        log_debug(LOG_CAT_JOURNAL, "journal %s: %s", rec->id,
                  journal_status_name(rec->status));
    }
    free(text);
    free(path);
    return rc;
}

enum pe_rc journal_step(struct journal_rec *rec, enum journal_status status,
                        const char *last_error)
{
    enum pe_rc rc = journal_set(&rec->last_error, last_error);

    if (rc != PE_OK)
        return rc;
    rec->status = status;
    return journal_save(rec);
}

/* Take the exclusive lock of id in dir (rec->lock_fd). */
static enum pe_rc rec_lock(struct journal_rec *rec)
{
    char *path = NULL;
    enum pe_rc rc;
    int fd;

    rc = journal_path(rec, ".lock", &path);
    if (rc != PE_OK)
        return rc;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = pe_failf(PE_E_STATE, "Cannot open the lock \"%s\": %s.", path,
                      strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = pe_failf(PE_E_STATE,
                      "Enrollment %s is being worked on by another p11enroll "
                      "right now; wait for it to finish.",
                      rec->id);
        close(fd);
        goto out;
    }
    rec->lock_fd = fd;
    rc = PE_OK;
out:
    free(path);
    return rc;
}

enum pe_rc journal_create(const char *dir, struct journal_rec **prec)
{
    struct journal_rec *rec = NULL;
    unsigned char rnd[4];
    struct tm tm;
    char stamp[24];
    enum pe_rc rc;

    *prec = NULL;
    rc = fileio_mkdirs(dir, 0700);
    /* only a folder no one else can change: a record names the module
     * that resume loads */
    if (rc == PE_OK)
        rc = fileio_check_private_dir(dir);
    if (rc != PE_OK)
        return rc;
    /* the kernel's: the id is no secret */
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) &&
        RAND_bytes(rnd, sizeof(rnd)) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Random bytes for a journal id");
    rec = rec_alloc();
    if (rec == NULL)
        return PE_E_NOMEM;
    rec->created = time(NULL);
    gmtime_r(&rec->created, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(rec->id, sizeof(rec->id), "%s-%02x%02x%02x%02x", stamp, rnd[0],
             rnd[1], rnd[2], rnd[3]);
    rec->dir = strdup(dir);
    if (rec->dir == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    rc = rec_lock(rec);
    if (rc != PE_OK)
        goto out;
    *prec = rec;
    rec = NULL;
out:
    journal_rec_free(rec);
    return rc;
}

/* Read and parse <dir>/<id>.json without locking. */
static enum pe_rc rec_load(const char *dir, const char *id,
                           struct journal_rec **prec)
{
    unsigned char *text = NULL;
    char path[4096];
    size_t len = 0;
    enum pe_rc rc;

    *prec = NULL;
    if (!id_valid(id))
        return pe_failf(PE_E_USAGE, "\"%.60s\" is not an enrollment id.", id);
    snprintf(path, sizeof(path), "%s/%s.json", dir, id);
    if (access(path, F_OK) != 0)
        return pe_failf(PE_E_STATE, "There is no enrollment %s in %s.", id,
                        dir);
    rc = fileio_check_private_dir(dir); /* see journal_create */
    if (rc == PE_OK)
        rc = fileio_read_private(path, RECORD_MAX, &text, &len);
    if (rc == PE_E_INPUT)
        rc = PE_E_STATE;
    if (rc == PE_OK)
        rc = journal_parse((const char *)text, len, prec);
    free(text);
    if (rc == PE_OK && strcmp((*prec)->id, id) != 0) {
        journal_rec_free(*prec);
        *prec = NULL;
        rc = pe_failf(PE_E_STATE, "The record %s names another id.", path);
    }
    if (rc == PE_OK) {
        (*prec)->saved = true;
        (*prec)->dir = strdup(dir);
        if ((*prec)->dir == NULL) {
            journal_rec_free(*prec);
            *prec = NULL;
            rc = PE_E_NOMEM;
        }
    }
    return rc;
}

enum pe_rc journal_open(const char *dir, const char *id,
                        struct journal_rec **prec)
{
    struct journal_rec *probe = NULL, *rec = NULL;
    enum pe_rc rc;

    *prec = NULL;
    /* lock first, then read: the holder may be rewriting it */
    rc = rec_load(dir, id, &probe);
    if (rc != PE_OK)
        return rc;
    rc = rec_lock(probe);
    if (rc != PE_OK)
        goto out;
    rc = rec_load(dir, id, &rec);
    if (rc != PE_OK)
        goto out;
    rec->lock_fd = probe->lock_fd;
    probe->lock_fd = -1;
    *prec = rec;
    rec = NULL;
out:
    journal_rec_free(rec);
    journal_rec_free(probe);
    return rc;
}

static int rec_cmp(const void *a, const void *b)
{
    const struct journal_rec *x = *(struct journal_rec *const *)a;
    const struct journal_rec *y = *(struct journal_rec *const *)b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

enum pe_rc journal_list(const char *dir, struct journal_list **plist)
{
    struct journal_list *list;
    struct journal_rec *rec, **nv;
    struct dirent *de;
    char id[64];
    size_t n;
    DIR *d;
    enum pe_rc rc = PE_OK;

    *plist = NULL;
    list = calloc(1, sizeof(*list));
    if (list == NULL)
        return PE_E_NOMEM;
    d = opendir(dir);
    if (d == NULL && errno == ENOENT) {
        *plist = list;
        return PE_OK;
    }
    if (d == NULL) {
        rc = pe_failf(PE_E_STATE, "Cannot read %s: %s.", dir, strerror(errno));
        journal_list_free(list);
        return rc;
    }
    rc = fileio_check_private_dir(dir); /* see journal_create */
    if (rc != PE_OK) {
        closedir(d);
        journal_list_free(list);
        return rc;
    }
    while ((de = readdir(d)) != NULL) {
        n = strlen(de->d_name);
        if (n <= 5 || n - 5 >= sizeof(id) ||
            strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        memcpy(id, de->d_name, n - 5);
        id[n - 5] = '\0';
        if (!id_valid(id))
            continue;
        if (rec_load(dir, id, &rec) != PE_OK) {
            log_warn("Skipping the damaged journal record %s: %s", id,
                     pe_detail());
            continue;
        }
        nv = realloc(list->v, (list->n + 1) * sizeof(*nv));
        if (nv == NULL) {
            journal_rec_free(rec);
            rc = PE_E_NOMEM;
            break;
        }
        list->v = nv;
        list->v[list->n++] = rec;
    }
    closedir(d);
    if (rc != PE_OK) {
        journal_list_free(list);
        return rc;
    }
    if (list->n > 1)
        qsort(list->v, list->n, sizeof(*list->v), rec_cmp);
    *plist = list;
    return PE_OK;
}

void journal_list_free(struct journal_list *list)
{
    size_t i;

    if (list == NULL)
        return;
    for (i = 0; i < list->n; i++)
        journal_rec_free(list->v[i]);
    free(list->v);
    free(list);
}
