/* SPDX-License-Identifier: Apache-2.0 */
/*
 * issue.h - what the REST endpoint and the form share: checking a CSR and
 * the request fields, submitting, status, issuing when due, downloading.
 * The caller holds the state lock.
 */
#ifndef SCM_SIM_ISSUE_H
#define SCM_SIM_ISSUE_H

#include "scm_sim.h"

/* Check the optional person fields of body (firstName, lastName, title,
 * email, sanEmailAddress, hsmType, attestation, customFields): types,
 * lengths and characters.  0, or -1 with rp set to a 400. */
int issue_check_fields(const json_t *body, struct sim_reply *rp);

/* Check that rec's "firstName lastName" fits a common name (64 bytes).
 * 0, or -1 with rp set to a 400. */
int issue_check_names(const json_t *rec, struct sim_reply *rp);

/* Check b64 (base64 DER PKCS#10): decodes, the signature verifies, the key
 * is RSA >= 3072 or EC P-256/384/521.  0, or -1 with rp set to a 400. */
int issue_check_csr(const char *b64, struct sim_reply *rp);

/* The CSR of body: present, valid (issue_check_csr) and attested as the
 * profile of holder (REST account or form) demands (attest_check).  0 with
 * that profile in *pprofile (borrowed, may be NULL), or -1 with rp set. */
int issue_check_request_csr(struct sim *s, const json_t *body,
                            const json_t *holder, json_t **pprofile,
                            struct sim_reply *rp);

/* Fill rec from body (the fields named in copy, NULL-terminated), the
 * person of email (names where body has none), the organization and
 * holder's department and profile.  0, or -1 with rp set (names too long). */
int issue_fill_record(struct sim *s, const json_t *body,
                      const char *const *copy, const char *email,
                      const json_t *holder, json_t *rec, struct sim_reply *rp);

/* Store rec (owner, names, organization, department, profile, term, csr
 * filled in by the caller) as a new Applied request, mark it with an
 * enroll-phase fault if one fires for rq, and answer {"certId","status"}.
 * Borrows rec. */
void issue_submit(struct sim *s, const struct sim_req *rq, json_t *rec,
                  struct sim_reply *rp);

/* Answer {"status": ...} for request id of owner (404 if not theirs). */
void issue_status(struct sim *s, const char *owner, const char *id,
                  struct sim_reply *rp);

/* Answer the download of request id of owner in format (NULL: x509). */
void issue_download(struct sim *s, const char *owner, const char *id,
                    const char *format, struct sim_reply *rp);

#endif
