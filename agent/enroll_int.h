/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_int.h - what the driver (enroll.c) and the steps
 * (enroll_steps.c) share: the resources of one run and one function per
 * state of the table in enroll.c.
 */
#ifndef P11E_ENROLL_INT_H
#define P11E_ENROLL_INT_H

#include <time.h>

#include "enroll.h"

/* What one run holds; every member is owned and freed by enroll_run. */
struct run {
    struct journal_rec *rec;
    const struct enroll_opts *o;
    struct tokopt to; /* the token options, with recorded PIN sources */
    struct secret *client_secret;
    struct ca *ca;
    struct ca_config cfg;
    struct tok_ctx *ctx;
    struct tok_key *key;
    struct enroll_anchors anchors;
    char *attestation_b64; /* gathered for the submission */
    const char *hsm_type;  /* what the attestation came from, or NULL */
    time_t deadline;       /* CLOCK_MONOTONIC: stop waiting for the CA */
    bool made_here;        /* rec is new: not saved before this run */
};

/* The CA client of rec (client secret read, nothing sent yet). */
enum pe_rc step_open_ca(struct run *r);

/* The token of rec, opened and logged in. */
enum pe_rc step_open_token(struct run *r);

/* new: find the key by its recorded ID, or make it. */
enum pe_rc step_key(struct run *r);

/* key-generated: build the CSR, signed on the token, into rec->csr_b64. */
enum pe_rc step_csr(struct run *r);

/* csr-built: gather what goes beside the CSR (attestation). */
enum pe_rc step_attest(struct run *r);

/* submitting: send the request; rec->request_id on success. */
enum pe_rc step_submit(struct run *r);

/* submitted: ask the CA until issued, rejected or the deadline. */
enum pe_rc step_wait(struct run *r);

/* issued: download the bundle and save it beside the record. */
enum pe_rc step_download(struct run *r);

/* downloaded: verify the bundle and write it to the token. */
enum pe_rc step_install(struct run *r);

/* The key of rec found on the token (r->key), without making one. */
enum pe_rc step_find_key(struct run *r);

#endif
