/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults.h - faults injected on demand (README.md "Faults").
 */
#ifndef SCM_SIM_FAULTS_H
#define SCM_SIM_FAULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum fault_type {
    FAULT_NONE = 0,
    /* request phase: instead of (or before) the answer */
    FAULT_401,
    FAULT_429,
    FAULT_503,
    FAULT_RESET,
    FAULT_SLOW,
    FAULT_MALFORMED_JSON,
    FAULT_HOSTILE_ID,   /* 200 {"certId": ".."} */
    FAULT_HOSTILE_TEXT, /* 200 Rejected, a reason full of escapes */
    /* download phase: on a successful certificate download */
    FAULT_TRUNCATED_PEM,
    FAULT_NOT_COLLECTED, /* 404 -103 although the status says Issued */
    /* enroll phase: marks the request at submission */
    FAULT_OTHER_KEY,
    FAULT_WRONG_INTERMEDIATE,
    FAULT_REJECTED,
};

enum fault_phase { PHASE_REQUEST, PHASE_DOWNLOAD, PHASE_ENROLL };

/* A fault that fired (a copy; no pointers). */
struct fault_hit {
    enum fault_type type;
    long retry_after; /* seconds (429/503) */
    long delay_ms;    /* slow */
};

struct sim_faults;

/* A new empty list, or NULL. */
struct sim_faults *faults_new(void);

/* Free f; NULL is a no-op. */
void faults_free(struct sim_faults *f);

/* Add one fault object or an array of them; on error a sentence in err, -1
 * and nothing added. */
int faults_add_json(struct sim_faults *f, const json_t *spec, char *err,
                    size_t errlen);

/* Remove every fault. */
void faults_clear(struct sim_faults *f);

/* The list as JSON (new reference). */
json_t *faults_to_json(const struct sim_faults *f);

/* The first armed fault of phase matching method and path, consumed (its
 * count decremented); false when none fires. */
bool faults_take(struct sim_faults *f, enum fault_phase phase,
                 const char *method, const char *path, struct fault_hit *hit);

/* The name of a fault type ("429", "reset", ...). */
const char *fault_name(enum fault_type t);

/* The type named name, or FAULT_NONE. */
enum fault_type fault_by_name(const char *name);

#endif
