/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca.h - scm-sim's certificate authorities.
 *
 * Two issuing hierarchies (EC P-384 root and intermediate; RSA-4096 root and
 * RSA-3072 intermediate) for code-signing certificates, and a separate TLS
 * CA for the server's own certificate.  Keys and certificates live in the
 * state folder and are made on first start.
 */
#ifndef SCM_SIM_CA_H
#define SCM_SIM_CA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

struct sim_ca;

/* What goes into a code-signing certificate (all borrowed). */
struct ca_subject {
    const char *cn;    /* "First Last" */
    const char *o;     /* organization */
    const char *ou;    /* department, or NULL */
    const char *email; /* SAN rfc822Name, or NULL */
};

/* Open or create the CAs under state_dir; on failure a sentence in err and
 * -1.  Free with ca_free(). */
int ca_open(const char *state_dir, struct sim_ca **pca, char *err,
            size_t errlen);

/* Free ca; NULL is a no-op. */
void ca_free(struct sim_ca *ca);

/* The server's TLS certificate and key as PEM text (borrowed, live as long
 * as ca). */
const char *ca_server_cert_pem(const struct sim_ca *ca);
const char *ca_server_key_pem(const struct sim_ca *ca);

/* Issue a code-signing certificate for pub valid for days, signed by the EC
 * intermediate for EC keys and the RSA one for RSA keys.  *pleaf is new. */
int ca_issue(struct sim_ca *ca, EVP_PKEY *pub, const struct ca_subject *subj,
             long days, X509 **pleaf, char *err, size_t errlen);

/* The intermediate and root above leaf (borrowed).  wrong: an intermediate
 * with the right name but another key (made on first use).  0 or -1. */
int ca_chain(struct sim_ca *ca, const X509 *leaf, bool wrong, X509 **pint,
             X509 **proot);

#endif
