/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - certificate requests kept as JSON files under requests/.
 *
 * One file a request, requests/<id>.json, written atomically; the caller
 * holds the state lock.  The record's members are listed in README.md.
 */
#ifndef SCM_SIM_STORE_H
#define SCM_SIM_STORE_H

#include "scm_sim.h"

/* Create requests/ and outbox/ and find the next free id. */
int store_init(struct sim *s, char *err, size_t errlen);

/* The record of id (new reference), or NULL when id is malformed or
 * unknown. */
json_t *store_load(struct sim *s, const char *id);

/* Write rec (its "id" names the file).  0 or -1. */
int store_save(struct sim *s, const json_t *rec);

/* Give rec a fresh "id" and save it.  0 or -1. */
int store_create(struct sim *s, json_t *rec);

/* Every record, oldest first, without the bulky members (new reference). */
json_t *store_list(struct sim *s);

#endif
