/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - load and check scm-sim's JSON configuration.
 */
#include "config.h"
#include "scm_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_MAX (1024 * 1024)

#define DEFAULT_PROFILE "Sectigo OV Code Signing"

static const char default_config[] =
    "{"
    "\"customerUri\": \"demo\","
    "\"organization\": \"Example Org\","
    "\"departments\": [\"Engineering\"],"
    "\"profiles\": [{\"name\": \"" DEFAULT_PROFILE "\","
    "  \"terms\": [365, 730, 1095], \"keyAttestation\": false}],"
    "\"persons\": [{\"email\": \"dev@example.org\", \"firstName\": \"Dana\","
    "  \"lastName\": \"Developer\"}],"
    "\"forms\": [{\"uri\": \"cs\", \"department\": \"Engineering\","
    "  \"profile\": \"" DEFAULT_PROFILE "\","
    "  \"eulaId\": \"scm-sim-eula-1\","
    "  \"eulaText\": \"scm-sim test subscriber agreement: the key stays on "
    "the token, the certificate signs only your own code.\","
    "  \"requiredFields\": [\"firstName\", \"lastName\", \"term\", \"csr\"]}],"
    "\"invitations\": [{\"email\": \"dev@example.org\", \"form\": \"cs\"}],"
    "\"restAccounts\": [{\"clientId\": \"p11e-client\","
    "  \"clientSecret\": \"p11e-secret-0123456789\","
    "  \"department\": \"Engineering\", \"profile\": \"" DEFAULT_PROFILE "\","
    "  \"term\": 365}],"
    "\"manufacturerRoots\": [],"
    "\"issuanceDelay\": 0,"
    "\"tokenLifetime\": 3600,"
    "\"sessionLifetime\": 900,"
    "\"otpLifetime\": 600,"
    "\"otpTries\": 3,"
    "\"otpPerHour\": 10,"
    "\"pendingStatus\": \"Applied\","
    "\"statusCase\": \"asis\","
    "\"faults\": []"
    "}";

static const char *const form_fields[] = {
    "term", "title", "sanEmailAddress", "firstName", "lastName", "csr", NULL};

const char *config_member(const json_t *obj, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? s : def;
}

const char *config_str(const struct sim_config *cfg, const char *key)
{
    return config_member(cfg->root, key, "");
}

json_t *config_find(const struct sim_config *cfg, const char *list,
                    const char *key, const char *value, int nocase)
{
    json_t *arr = json_object_get(cfg->root, list), *el;
    const char *s;
    size_t i;

    json_array_foreach(arr, i, el)
    {
        s = json_string_value(json_object_get(el, key));
        if (s == NULL || value == NULL)
            continue;
        if (nocase ? strcasecmp(s, value) == 0 : strcmp(s, value) == 0)
            return el;
    }
    return NULL;
}

json_t *config_invitation(const struct sim_config *cfg, const char *form,
                          const char *email)
{
    json_t *arr = json_object_get(cfg->root, "invitations"), *el;
    size_t i;

    json_array_foreach(arr, i, el)
    {
        if (strcasecmp(config_member(el, "email", ""), email) == 0 &&
            strcmp(config_member(el, "form", ""), form) == 0)
            return el;
    }
    return NULL;
}

int config_term_allowed(const json_t *profile, long days)
{
    json_t *el;
    size_t i;

    json_array_foreach(json_object_get(profile, "terms"), i, el)
    {
        if (json_integer_value(el) == days)
            return 1;
    }
    return 0;
}

/* Check that obj[key] is a non-empty string (required) or absent. */
static int check_str(const json_t *obj, const char *key, int required,
                     const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL && !required)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, errlen, "%s: \"%s\" must be a non-empty string", where,
                 key);
        return -1;
    }
    return 0;
}

static int check_profile(const struct sim_config *cfg, const json_t *obj,
                         const char *where, char *err, size_t errlen)
{
    const char *name = config_member(obj, "profile", NULL);

    if (name != NULL && config_find(cfg, "profiles", "name", name, 0) == NULL) {
        snprintf(err, errlen, "%s: profile \"%s\" is not in \"profiles\"",
                 where, name);
        return -1;
    }
    return 0;
}

static int check_department(const struct sim_config *cfg, const json_t *obj,
                            const char *where, char *err, size_t errlen)
{
    const char *dep = config_member(obj, "department", NULL);
    json_t *el;
    size_t i;

    if (dep == NULL)
        return 0;
    json_array_foreach(json_object_get(cfg->root, "departments"), i, el)
    {
        if (strcmp(json_string_value(el), dep) == 0)
            return 0;
    }
    snprintf(err, errlen, "%s: department \"%s\" is not in \"departments\"",
             where, dep);
    return -1;
}

static int check_profiles(const struct sim_config *cfg, char *err,
                          size_t errlen)
{
    json_t *el, *t;
    size_t i, k;

    json_array_foreach(json_object_get(cfg->root, "profiles"), i, el)
    {
        if (check_str(el, "name", 1, "profiles[]", err, errlen) != 0)
            return -1;
        if (!json_is_array(json_object_get(el, "terms")) ||
            json_array_size(json_object_get(el, "terms")) == 0) {
            snprintf(err, errlen,
                     "profile \"%s\": \"terms\" must be a "
                     "non-empty array of days",
                     config_member(el, "name", ""));
            return -1;
        }
        if (json_object_get(el, "keyAttestation") != NULL &&
            !json_is_boolean(json_object_get(el, "keyAttestation"))) {
            snprintf(err, errlen,
                     "profile \"%s\": \"keyAttestation\" is "
                     "true or false",
                     config_member(el, "name", ""));
            return -1;
        }
        json_array_foreach(json_object_get(el, "terms"), k, t)
        {
            if (!json_is_integer(t) || json_integer_value(t) < 1 ||
                json_integer_value(t) > 3650) {
                snprintf(err, errlen,
                         "profile \"%s\": terms are days, "
                         "1..3650",
                         config_member(el, "name", ""));
                return -1;
            }
        }
    }
    return 0;
}

static int check_form(const struct sim_config *cfg, const json_t *form,
                      char *err, size_t errlen)
{
    const char *where = "forms[]";
    json_t *el;
    size_t i, k;

    if (check_str(form, "uri", 1, where, err, errlen) != 0 ||
        check_str(form, "profile", 1, where, err, errlen) != 0 ||
        check_str(form, "department", 0, where, err, errlen) != 0 ||
        check_str(form, "eulaId", 0, where, err, errlen) != 0 ||
        check_str(form, "eulaText", 0, where, err, errlen) != 0 ||
        check_profile(cfg, form, where, err, errlen) != 0 ||
        check_department(cfg, form, where, err, errlen) != 0)
        return -1;
    if (strspn(config_member(form, "uri", ""),
               "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
        strlen(config_member(form, "uri", ""))) {
        snprintf(err, errlen, "forms[]: uri may hold only a-z, 0-9, - and _");
        return -1;
    }
    json_array_foreach(json_object_get(form, "requiredFields"), i, el)
    {
        for (k = 0; form_fields[k] != NULL; k++)
            if (json_is_string(el) &&
                strcmp(json_string_value(el), form_fields[k]) == 0)
                break;
        if (form_fields[k] == NULL) {
            snprintf(err, errlen, "forms[]: unknown required field");
            return -1;
        }
    }
    return 0;
}

static int check_lists(const struct sim_config *cfg, char *err, size_t errlen)
{
    json_t *el;
    size_t i;

    if (check_profiles(cfg, err, errlen) != 0)
        return -1;
    json_array_foreach(json_object_get(cfg->root, "departments"), i, el)
    {
        if (!json_is_string(el) || json_string_length(el) == 0 ||
            json_string_length(el) > 64) {
            snprintf(err, errlen,
                     "departments: strings of 1..64 bytes "
                     "expected");
            return -1;
        }
    }
    json_array_foreach(json_object_get(cfg->root, "forms"), i, el)
    {
        if (check_form(cfg, el, err, errlen) != 0)
            return -1;
    }
    json_array_foreach(json_object_get(cfg->root, "persons"), i, el)
    {
        if (check_str(el, "email", 1, "persons[]", err, errlen) != 0 ||
            check_str(el, "firstName", 0, "persons[]", err, errlen) != 0 ||
            check_str(el, "lastName", 0, "persons[]", err, errlen) != 0)
            return -1;
    }
    json_array_foreach(json_object_get(cfg->root, "invitations"), i, el)
    {
        if (check_str(el, "email", 1, "invitations[]", err, errlen) != 0 ||
            check_str(el, "form", 1, "invitations[]", err, errlen) != 0)
            return -1;
        if (config_find(cfg, "forms", "uri", config_member(el, "form", ""),
                        0) == NULL) {
            snprintf(err, errlen, "invitations[]: no form \"%s\"",
                     config_member(el, "form", ""));
            return -1;
        }
    }
    json_array_foreach(json_object_get(cfg->root, "restAccounts"), i, el)
    {
        const char *w = "restAccounts[]";
        json_t *term = json_object_get(el, "term");
        if (check_str(el, "clientId", 1, w, err, errlen) != 0 ||
            check_str(el, "clientSecret", 1, w, err, errlen) != 0 ||
            check_str(el, "profile", 1, w, err, errlen) != 0 ||
            check_profile(cfg, el, w, err, errlen) != 0 ||
            check_department(cfg, el, w, err, errlen) != 0)
            return -1;
        if (!json_is_integer(term) || json_integer_value(term) < 1 ||
            json_integer_value(term) > 3650) {
            snprintf(err, errlen, "%s: \"term\" must be days, 1..3650", w);
            return -1;
        }
    }
    return 0;
}

const struct config_num config_nums[CONFIG_NNUMS] = {
    {"issuanceDelay", offsetof(struct sim_config, issuance_delay), 0,
     86400 * 30},
    {"tokenLifetime", offsetof(struct sim_config, token_lifetime), 1, 86400},
    {"sessionLifetime", offsetof(struct sim_config, session_lifetime), 1,
     86400},
    {"otpLifetime", offsetof(struct sim_config, otp_lifetime), 1, 86400},
    {"otpTries", offsetof(struct sim_config, otp_tries), 1, 100},
    {"otpPerHour", offsetof(struct sim_config, otp_per_hour), 0, 1000},
};

/* Copy the numbers into cfg, checking their ranges. */
static int load_numbers(struct sim_config *cfg, char *err, size_t errlen)
{
    const struct config_num *n;
    size_t i;
    json_t *v;

    for (i = 0; i < CONFIG_NNUMS; i++) {
        n = &config_nums[i];
        v = json_object_get(cfg->root, n->key);
        if (!json_is_integer(v) || json_integer_value(v) < n->min ||
            json_integer_value(v) > n->max) {
            snprintf(err, errlen, "\"%s\" must be an integer %ld..%ld", n->key,
                     n->min, n->max);
            return -1;
        }
        CONFIG_NUM(cfg, n) = (long)json_integer_value(v);
    }
    return 0;
}

static int check_top_types(const json_t *root, char *err, size_t errlen)
{
    static const char *const arrays[] = {
        "departments", "profiles",     "persons",           "forms",
        "invitations", "restAccounts", "manufacturerRoots", "faults"};
    size_t i;

    if (check_str(root, "customerUri", 1, "config", err, errlen) != 0 ||
        check_str(root, "organization", 1, "config", err, errlen) != 0)
        return -1;
    if (strlen(json_string_value(json_object_get(root, "organization"))) > 64) {
        snprintf(err, errlen,
                 "\"organization\" is at most 64 bytes (the "
                 "bound of O in a certificate)");
        return -1;
    }
    for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        if (!json_is_array(json_object_get(root, arrays[i]))) {
            snprintf(err, errlen, "\"%s\" must be an array", arrays[i]);
            return -1;
        }
    }
    return 0;
}

int config_status_words(struct sim_config *cfg, const json_t *obj, char *err,
                        size_t errlen)
{
    static const char *const words[] = {"Requested", "Approved", "Applied"};
    static const char *const cases[] = {"asis", "upper", "lower"};
    json_t *pw = json_object_get(obj, "pendingStatus");
    json_t *sc = json_object_get(obj, "statusCase");
    int w = -1, c = -1, i;

    for (i = 0; i < 3; i++) {
        if (json_is_string(pw) &&
            strcasecmp(json_string_value(pw), words[i]) == 0)
            w = i;
        if (json_is_string(sc) && strcmp(json_string_value(sc), cases[i]) == 0)
            c = i;
    }
    if ((pw != NULL && w < 0) || (sc != NULL && c < 0)) {
        snprintf(err, errlen,
                 "\"pendingStatus\" is Requested, Approved or "
                 "Applied; \"statusCase\" is asis, upper or lower");
        return -1;
    }
    if (w >= 0)
        snprintf(cfg->pending_status, sizeof(cfg->pending_status), "%s",
                 words[w]);
    if (c >= 0)
        cfg->status_case = c;
    return 0;
}

int config_load(const char *path, struct sim_config **pcfg, char *err,
                size_t errlen)
{
    struct sim_config *cfg = NULL;
    json_t *user = NULL;
    json_error_t jerr;
    char *text = NULL;
    int rc = -1;

    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    cfg->root = json_loads(default_config, 0, &jerr);
    if (cfg->root == NULL) {
        snprintf(err, errlen, "built-in config: %s", jerr.text);
        goto out;
    }
    if (path != NULL) {
        text = util_read_file(path, CONFIG_MAX, NULL);
        if (text == NULL) {
            snprintf(err, errlen, "cannot read %s (missing, or over 1 MiB)",
                     path);
            goto out;
        }
        user = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(user)) {
            snprintf(err, errlen, "%s:%d: %s", path, jerr.line,
                     user == NULL ? jerr.text : "an object expected");
            goto out;
        }
        json_object_update(cfg->root, user);
    }
    if (check_top_types(cfg->root, err, errlen) != 0 ||
        check_lists(cfg, err, errlen) != 0 ||
        load_numbers(cfg, err, errlen) != 0 ||
        config_status_words(cfg, cfg->root, err, errlen) != 0)
        goto out;
    *pcfg = cfg;
    cfg = NULL;
    rc = 0;
out:
    free(text);
    json_decref(user);
    config_free(cfg);
    return rc;
}

void config_free(struct sim_config *cfg)
{
    if (cfg == NULL)
        return;
    json_decref(cfg->root);
    free(cfg);
}
