/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - scm-sim's configuration (the JSON file of README.md).
 *
 * The file is kept as a jansson tree; top-level keys it leaves out take the
 * built-in defaults.  The numbers an admin call may change live beside it.
 */
#ifndef SCM_SIM_CONFIG_H
#define SCM_SIM_CONFIG_H

#include <jansson.h>
#include <stddef.h>

struct sim_config {
    json_t *root;
    long issuance_delay;     /* seconds from submit to Issued */
    long token_lifetime;     /* OAuth access token, seconds */
    long session_lifetime;   /* form session, seconds */
    long otp_lifetime;       /* one-time code, seconds */
    long otp_tries;          /* wrong codes before the code is void */
    long otp_per_hour;       /* codes an address may get in an hour */
    char pending_status[16]; /* the word status shows while Applied */
    int status_case;         /* CONFIG_CASE_* of status words */
};

enum { CONFIG_CASE_ASIS = 0, CONFIG_CASE_UPPER, CONFIG_CASE_LOWER };

/* The numbers of struct sim_config (issuanceDelay, tokenLifetime, ...):
 * key, offset of the long and range, for the file and POST /admin/config. */
struct config_num {
    const char *key;
    size_t off;
    long min, max;
};
#define CONFIG_NNUMS 6
extern const struct config_num config_nums[CONFIG_NNUMS];

/* The long of cfg that n describes. */
#define CONFIG_NUM(cfg, n) (*(long *)(void *)((char *)(cfg) + (n)->off))

/* Load path (NULL: defaults only) into *pcfg; on failure a sentence in err
 * and -1.  Free with config_free(). */
int config_load(const char *path, struct sim_config **pcfg, char *err,
                size_t errlen);

/* Apply "pendingStatus" (Requested, Approved or Applied) and "statusCase"
 * (asis, upper, lower) of obj to cfg, each if present; on error a sentence
 * in err, -1 and nothing changed. */
int config_status_words(struct sim_config *cfg, const json_t *obj, char *err,
                        size_t errlen);

/* Free cfg; NULL is a no-op. */
void config_free(struct sim_config *cfg);

/* A top-level string such as "customerUri" or "organization" (borrowed). */
const char *config_str(const struct sim_config *cfg, const char *key);

/* The element of array `list` whose string member `key` equals value
 * (case-insensitively when nocase), or NULL.  Borrowed. */
json_t *config_find(const struct sim_config *cfg, const char *list,
                    const char *key, const char *value, int nocase);

/* The invitation of email to form uri, or NULL.  Borrowed. */
json_t *config_invitation(const struct sim_config *cfg, const char *form,
                          const char *email);

/* A string member of obj, or def when absent. */
const char *config_member(const json_t *obj, const char *key, const char *def);

/* true if days is one of the profile's allowed terms. */
int config_term_allowed(const json_t *profile, long days);

#endif
