/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest.h - Key Attestation profiles: a request must carry an
 * attestation whose certificate chains to a configured manufacturer root and
 * certifies the CSR's own key.
 */
#ifndef SCM_SIM_ATTEST_H
#define SCM_SIM_ATTEST_H

#include "scm_sim.h"

/* Load the config's "manufacturerRoots" (PEM text or file paths) into a new
 * STACK_OF(X509) in *proots; on failure a sentence in err and -1.  lenient:
 * a file that does not exist (yet) is skipped with a log line. */
int attest_load_roots(const json_t *list, bool lenient,
                      struct stack_st_X509 **proots, char *err, size_t errlen);

/* When profile has "keyAttestation": true, check body's "hsmType" and
 * "attestation" (base64 of PEM certificates, a DER certificate or a DER
 * PKCS#7; the attestation certificate first) against roots and the key of
 * csr_b64, with the roots of root_list read now (files may appear after the
 * start).  0, or -1 with rp set to a 400. */
int attest_check(const json_t *profile, const json_t *root_list,
                 const json_t *body, const char *csr_b64, struct sim_reply *rp);

#endif
