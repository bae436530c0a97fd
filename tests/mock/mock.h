/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mock.h - internals of the failure-injecting PKCS#11 module p11e_mock.
 *
 * passthrough.c  the exported function list; every call goes through
 *                call_begin()/call_end() and on to the real module
 * faults.c       P11E_MOCK_FAIL, the "device removed" state, the call
 *                log (P11E_MOCK_LOG) and the CKR_/CKF_ name tables
 * tokens.c       P11E_MOCK_REFUSE, P11E_MOCK_HIDE_MECHS, P11E_MOCK_DELAY_MS
 * ykcs11.c       the ykcs11 2.2.0 personality (P11E_MOCK_YKCS11=1):
 *                state, module/token info, sessions, attestation objects
 * ykcs11_rules.c its login, key generation and certificate write rules
 * attest.c       the test manufacturer CA and the certificates ykcs11
 *                makes on its own (placeholder, attestation, f9)
 * The user documentation is README.md and the comment atop faults.c.
 */
#ifndef P11E_MOCK_H
#define P11E_MOCK_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

/* The real module every call is forwarded to (NULL before C_Initialize). */
extern CK_FUNCTION_LIST *mock_target;

/* One call in flight: what the log line and the fault logic need. */
struct mock_call {
    const char *fn;    /* "C_Login" */
    CK_RV rv;          /* the result returned to the application */
    const void *after; /* a fault to apply once the real call returned */
    const char *note;  /* "[injected]", "[removed]", "[ykcs11]" or NULL */
    char detail[160];  /* "user=1 pin=***" (never secret bytes) */
};

/*
 * faults.c
 */

/* Start a call: count it, then apply the removed state and any fault that
 * fires before the real module is called.  Returns true when c->rv is
 * final (do not forward). */
bool call_begin(struct mock_call *c, const char *fn);

/* call_begin in two steps, so details can be added in between. */
void call_start(struct mock_call *c, const char *fn);
bool call_check(struct mock_call *c);

/* Finish a call: apply an "!after" fault, enter the removed state on an
 * injected CKR_DEVICE_REMOVED, write the log line.  Returns c->rv. */
CK_RV call_end(struct mock_call *c);

/* Append printf-style text to c->detail. */
void call_detail(struct mock_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* At C_Initialize: (re)read P11E_MOCK_FAIL.  Returns CKR_OK, or
 * CKR_GENERAL_ERROR after printing why the spec is wrong. */
CK_RV faults_initialize(void);

/* A C_Initialize reached the real module with this result. */
void faults_initialized(CK_RV rv);

/* A C_Finalize reached the real module with this result. */
void faults_finalized(CK_RV rv);

/* True while the injected device removal is in force. */
bool faults_removed(void);

/* True after the re-plug of a device pulled with "!gone". */
bool faults_gone(void);

/* The flags P11E_MOCK_TOKEN_FLAGS asks to OR in (0 if unset). */
CK_FLAGS faults_token_flags(void);

/* Parse a CKR_ name or a number of len bytes at s. */
bool mock_ckr_parse(const char *s, size_t len, CK_RV *prv);

/* "CKR_PIN_INCORRECT" (static; "CKR_0x..." for unknown values). */
const char *mock_ckr_name(CK_RV rv);

/* Print "p11e-mock: ..." on stderr (and into the log). */
void mock_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * tokens.c: tokens that say no, and tokens far away (read at every call)
 */

/* P11E_MOCK_REFUSE: the CKR_ for the first attribute of t[n] it names, or
 * CKR_OK. */
CK_RV mock_refused(const CK_ATTRIBUTE *t, CK_ULONG n, const char **pname);
/* P11E_MOCK_HIDE_MECHS: true when mech is to be left out of the list. */
bool mock_mech_hidden(CK_MECHANISM_TYPE mech);
/* P11E_MOCK_DELAY_MS: sleep that long (every call). */
void mock_delay(void);

/*
 * ykcs11.c: each returns true when it handled the call (c->rv set);
 * false means "forward to the real module unchanged".
 */
bool yk_enabled(void);
void yk_initialize(void);
void yk_finalize(void);
void yk_get_info(CK_INFO *info);
void yk_get_slot_info(CK_SLOT_INFO *info);
void yk_get_token_info(CK_TOKEN_INFO *info);
bool yk_mechanism_list(struct mock_call *c, CK_SLOT_ID slot,
                       CK_MECHANISM_TYPE *list, CK_ULONG *count);
bool yk_mechanism_info(struct mock_call *c, CK_SLOT_ID slot,
                       CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
bool yk_open_session(struct mock_call *c, CK_SLOT_ID slot, CK_FLAGS flags,
                     void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *ph);
bool yk_close_session(struct mock_call *c, CK_SESSION_HANDLE h);
bool yk_close_all_sessions(struct mock_call *c, CK_SLOT_ID slot);
bool yk_login(struct mock_call *c, CK_SESSION_HANDLE h, CK_USER_TYPE user,
              CK_UTF8CHAR *pin, CK_ULONG len);
bool yk_logout(struct mock_call *c, CK_SESSION_HANDLE h);
bool yk_create_object(struct mock_call *c, CK_SESSION_HANDLE h,
                      CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *ph);
bool yk_destroy_object(struct mock_call *c, CK_SESSION_HANDLE h,
                       CK_OBJECT_HANDLE obj);
bool yk_generate_key_pair(struct mock_call *c, CK_SESSION_HANDLE h,
                          CK_MECHANISM *mech, CK_ATTRIBUTE *pub, CK_ULONG npub,
                          CK_ATTRIBUTE *priv, CK_ULONG npriv,
                          CK_OBJECT_HANDLE *phpub, CK_OBJECT_HANDLE *phpriv);
bool yk_find_objects_init(struct mock_call *c, CK_SESSION_HANDLE h,
                          CK_ATTRIBUTE *tmpl, CK_ULONG n);
bool yk_session_info(struct mock_call *c, CK_SESSION_HANDLE h,
                     CK_SESSION_INFO *info);
bool yk_sign_init(struct mock_call *c, CK_SESSION_HANDLE h);
/* After the real C_Sign/C_SignFinal (final: a signature was asked for). */
void yk_sign_done(struct mock_call *c, CK_SESSION_HANDLE h, bool final);
/* C_CopyObject, C_SetAttributeValue: CKR_FUNCTION_NOT_SUPPORTED. */
bool yk_unsupported(struct mock_call *c);
/* An operation started (op 1 = sign, 2 = decrypt) or ended (op 0). */
void yk_operation(CK_SESSION_HANDLE h, int op);

/*
 * attest.c
 */

/* Directory of the test manufacturer CA (created on first use):
 * $P11E_MOCK_YKCS11_DIR, else "<dir of $SOFTHSM2_CONF>/ykcs11-ca". */
const char *att_ca_dir(void);

/* The public key of token object obj (CKO_PUBLIC_KEY, EC or RSA), read
 * through the real module in session h.  *ppkey is the caller's. */
CK_RV att_token_pubkey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
                       EVP_PKEY **ppkey);

/* DER of a certificate for pub: kind 'a' = the attestation of PIV key
 * slot piv_slot (0x9c...) signed by f9; 'p' = ykcs11's placeholder
 * "YubiKey PIV Slot 9c" (throw-away signer).  *pder is OPENSSL_malloc'ed.
 * Returns CKR_OK or CKR_FUNCTION_FAILED. */
CK_RV att_make_cert(int kind, int piv_slot, EVP_PKEY *pub, unsigned char **pder,
                    size_t *plen);

/* Forget the loaded CA (at C_Finalize). */
void att_release(void);

/* DER of the f9 intermediate certificate (OPENSSL_malloc'ed). */
CK_RV att_f9_cert(unsigned char **pder, size_t *plen);

/* The DER fields a CKO_CERTIFICATE object needs: subject, issuer and
 * serial of der (each OPENSSL_malloc'ed). */
CK_RV att_cert_fields(const unsigned char *der, size_t len,
                      unsigned char **psubj, size_t *psubj_len,
                      unsigned char **pissuer, size_t *pissuer_len,
                      unsigned char **pserial, size_t *pserial_len);

#endif
