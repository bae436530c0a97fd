/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tok_int.h - shared between the files of pkcs11/ only.
 */
#ifndef P11E_TOK_INT_H
#define P11E_TOK_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "ckr.h"
#include "tok.h"

/* ---- module.c: a set of loaded, initialised modules ----------------- */

struct tok_mod {
    CK_FUNCTION_LIST *fl;
    char *name; /* p11-kit name or the path given */
    char *path; /* file name, may be NULL */
    bool inited;
};

struct tok_modset {
    struct tok_mod *v;
    size_t n;
    CK_FUNCTION_LIST **loaded; /* from p11_kit_modules_load, or NULL */
};

/* Load module (path, p11-kit name or NULL = the URI's module query, else
 * all registered modules) and initialise them.  Allocates *pset. */
enum pe_rc tok_modset_load(const char *module, P11KitUri *uri,
                           struct tok_modset **pset);
/* C_Finalize every initialised module and release them; NULL is a no-op. */
void tok_modset_free(struct tok_modset *set);
/* C_Finalize + C_Initialize one module (network HSM recovery). */
enum pe_rc tok_mod_reinit(struct tok_mod *mod);

/* ---- the context ------------------------------------------------------ */

#define TOK_MAX_REFUSED 4
#define TOK_MAX_MECHS   256

struct tok_ctx {
    struct tok_modset *mods;
    P11KitUri *uri;
    struct tok_mod *mod; /* the module holding the token */
    CK_FUNCTION_LIST *fl;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE sess;
    CK_TOKEN_INFO tinfo;
    CK_INFO minfo; /* of the module, zeroed when it tells none */
    char label[33], serial[17], manufacturer[33], model[17];
    char *token_uri;
    enum tok_family family;
    unsigned generation; /* bumped by every recovery: handles are stale */
    CK_RV last_rv;       /* last failed CK_RV, for the recovery decision */
    bool recovering;
    size_t nmatched;    /* tokens the last tok_slot_select matched */
    bool select_unsure; /* it saw no token, or one unreadable or blank */

    /* login */
    bool logged_in;
    enum tok_user user;
    bool pinpad;
    bool interactive;         /* of the last tok_login: may prompt */
    struct secret *login_pin; /* kept for re-login and context logins */
    char *uri_pin_source;     /* pin-source= of the URI, or NULL */
    const struct secret_source *ctxpin_src; /* user PIN when SO is in */
    struct secret *ctxpin;
    unsigned char refused[TOK_MAX_REFUSED][32]; /* SHA-256 of refused PINs */
    size_t nrefused;

    /* mech.c: what the token claims, read once */
    CK_MECHANISM_TYPE mechs[TOK_MAX_MECHS];
    CK_ULONG nmechs;
    CK_RV mechs_rv;                /* the list's failure, else CKR_OK */
    CK_MECHANISM_INFO gen_info[2]; /* EC, RSA key-pair generation */
    CK_RV gen_rv[2];
    bool gen_read[2];
};

struct tok_key {
    struct tok_ctx *ctx;
    CK_OBJECT_HANDLE priv;
    CK_OBJECT_HANDLE pubh; /* the public key object, when known */
    unsigned generation;   /* of priv and pubh */
    EVP_PKEY *pub;         /* cached by tok_key_public */
    unsigned char *id;
    size_t idlen;
    char *label;
    char *uri;
    CK_KEY_TYPE ktype;
    unsigned long bits; /* RSA modulus bits or EC field bits */
    bool always_auth;
};

/* Record a failed PKCS#11 call: sets ctx->last_rv, returns the mapped rc
 * with "what: CKR_NAME" as detail. */
enum pe_rc tok_ckfail(struct tok_ctx *ctx, CK_RV rv, const char *what);

/* true when the failure recorded in ctx calls for a recovery, and the
 * recovery (re-init, re-find, re-login) succeeded: retry the step once. */
bool tok_recover_once(struct tok_ctx *ctx);

/* A bounded backoff (session.c): at most ~2 s of pauses in all. */
struct tok_backoff {
    unsigned attempt;
    unsigned waited_ms;
};

/* true when the token's family has the transient_retry quirk (SoftHSM),
 * the failure recorded in ctx is one SoftHSM gives while another process
 * rewrites the token (CKR_GENERAL_ERROR & co.) and the budget of b allowed
 * one more pause, now slept: try the step again (it must be safe to
 * repeat).  Never true for a PIN refusal, never for other families. */
bool tok_retry_transient(struct tok_ctx *ctx, struct tok_backoff *b);

/* Start of a public operation: forget the last CK_RV. */
void tok_op_begin(struct tok_ctx *ctx);

/* One step of a public operation, safe to repeat (what it did before is
 * found again, not done twice); returns its rc, recording a failed CK_RV
 * through tok_ckfail. */
typedef enum pe_rc (*tok_step_fn)(struct tok_ctx *ctx, void *arg);

/* tok_op_begin, then step; again while tok_retry_transient says so
 * (SoftHSM), and once more after tok_recover_once (a dropped device). */
enum pe_rc tok_retry(struct tok_ctx *ctx, tok_step_fn step, void *arg);

/* Log out and in again with the PIN the token accepted (kept by
 * tok_login): tpm2-pkcs11 unloads a session's TPM objects only at logout.
 * No-op when not logged in with a typed PIN. */
enum pe_rc tok_login_again(struct tok_ctx *ctx);

/* Context-specific login for the operation just initialised. */
enum pe_rc tok_context_login(struct tok_ctx *ctx);

/* ---- slot.c ------------------------------------------------------------ */

/* Parse a pkcs11: URI; unknown parts, pin-value: PE_E_USAGE. */
enum pe_rc tok_uri_parse(const char *str, P11KitUri **puri);
/* Select the one token matching ctx->uri in ctx->mods (sets mod, fl,
 * slot, tinfo and the strings).  same_token: match ctx->tinfo instead. */
enum pe_rc tok_slot_select(struct tok_ctx *ctx, bool same_token);
/* The token's flags as it reports them now, for deciding whether a PIN
 * may be tried again; when it cannot tell, the PIN counts as on its final
 * try (user and SO), so an unknown count is never risked. */
unsigned long tok_flags_after_refusal(struct tok_ctx *ctx);
/* Token URI for info (malloc'ed) or NULL. */
char *tok_format_token_uri(const CK_TOKEN_INFO *ti);
/* pkcs11: URI of an object on ctx's token (malloc'ed) or NULL. */
char *tok_format_object_uri(const struct tok_ctx *ctx, CK_OBJECT_CLASS cls,
                            const unsigned char *id, size_t idlen,
                            const char *label);
/* Copy a blank-padded CK string into a NUL-terminated one. */
void tok_copy_padded(char *dst, size_t dstsize, const CK_UTF8CHAR *src,
                     size_t srclen);

/* ---- key.c / object.c helpers ----------------------------------------- */

/* Read one attribute of any length; *pval malloc'ed (NULL, 0 if empty).
 * Returns the CK_RV. */
CK_RV tok_attr_get(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                   CK_ATTRIBUTE_TYPE type, unsigned char **pval, size_t *plen);
/* Read a CK_BBOOL/CK_ULONG attribute; returns the CK_RV. */
CK_RV tok_attr_bool(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE_TYPE type, bool *pval);
CK_RV tok_attr_ulong(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                     CK_ATTRIBUTE_TYPE type, CK_ULONG *pval);
/* Find up to max objects matching tmpl; returns the CK_RV. */
CK_RV tok_find(struct tok_ctx *ctx, CK_ATTRIBUTE *tmpl, CK_ULONG n,
               CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *pcount);
/* The key's public key, one try (pubkey.c; tok_key_public with the
 * recovery): a new reference in *ppub. */
enum pe_rc tok_key_public_once(struct tok_key *key, EVP_PKEY **ppub);
/* Public key of the object h (public or private key, RSA or EC). */
enum pe_rc tok_obj_public(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                          EVP_PKEY **ppub);
/* A struct tok_key for the private key object h (allocates). */
enum pe_rc tok_key_new_handle(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                              struct tok_key **pkey);
/* The key's private handle, re-found after a recovery. */
enum pe_rc tok_key_handle(struct tok_key *key, CK_OBJECT_HANDLE *ph);
/* true when some object on the token has this CKA_ID. */
enum pe_rc tok_id_in_use(struct tok_ctx *ctx, const unsigned char *id,
                         size_t idlen, bool *pused);
/* A fresh random CKA_ID of idlen bytes that no object has (16 bytes and
 * more: not searched for, a clash is as likely as guessing a key). */
enum pe_rc tok_fresh_id(struct tok_ctx *ctx, unsigned char *id, size_t idlen);

/* true for what a token says when it refuses an attribute it need not
 * support (CKR_ATTRIBUTE_TYPE_INVALID, _VALUE_INVALID,
 * CKR_TEMPLATE_INCONSISTENT): the caller tries its minimal template. */
bool tok_attr_refused(CK_RV rv);

/* One key pair as spec says, with CKA_ID id (keygen.c): the family's
 * template, and the minimal one when the token refused an optional
 * attribute (tok_attr_refused); session: CKA_TOKEN false on both halves.
 * Returns the first call's CK_RV on failure. */
CK_RV tok_keygen_pair(struct tok_ctx *ctx, const struct tok_keygen *spec,
                      const unsigned char *id, size_t idlen, bool session,
                      CK_OBJECT_HANDLE *ppriv, CK_OBJECT_HANDLE *ppub);

/* Read back a new private key: PE_E_KEY unless sensitive, not extractable
 * and (where the token tells) generated on the token. */
enum pe_rc tok_key_check_safe(struct tok_ctx *ctx, CK_OBJECT_HANDLE priv);

/* ---- cert.c: one certificate object ---------------------------------- */

#define MAX_CERTS 256 /* certificates looked at in one search */

struct tok_der {
    unsigned char *p; /* OPENSSL_malloc'ed */
    size_t len;
};

/* x's DER into *d. */
enum pe_rc tok_cert_der(X509 *x, struct tok_der *d);
/* Token certificates (up to MAX_CERTS), only those with this CKA_ID when
 * id is not NULL; returns the CK_RV. */
CK_RV tok_cert_find(struct tok_ctx *ctx, const unsigned char *id, size_t idlen,
                    CK_OBJECT_HANDLE *out, CK_ULONG *pn);
/* Whether object h holds the value d (*prv: the CK_RV of the read). */
bool tok_cert_equals(struct tok_ctx *ctx, CK_OBJECT_HANDLE h,
                     const struct tok_der *d, CK_RV *prv);
/* Create the certificate object for x (DER val), an authority certificate
 * or not; the minimal template when the token refuses an optional
 * attribute; *ph its handle. */
enum pe_rc tok_cert_create(struct tok_ctx *ctx, X509 *x,
                           const struct tok_der *val, const unsigned char *id,
                           size_t idlen, const char *label, bool authority,
                           CK_OBJECT_HANDLE *ph);
/* Remove the certificates with this CKA_ID (only those equal to val when
 * val is not NULL), one try; *pn (may be NULL) counts them. */
enum pe_rc tok_cert_remove(struct tok_ctx *ctx, const unsigned char *id,
                           size_t idlen, const struct tok_der *val, size_t *pn);

/* ---- quirks.c ---------------------------------------------------------- */

struct tok_quirks {
    bool so_for_keygen;     /* keygen and cert write need SO (ykcs11) */
    bool minimal_templates; /* no EXTRACTABLE/ALWAYS_AUTH/MODIFIABLE */
    bool piv_ids;           /* CKA_ID is one byte 1..25 */
    bool cert_category;     /* CKA_CERTIFICATE_CATEGORY may be set */
    bool chain_storage;     /* chain certificates can be stored */
    bool cert_extra_attrs;  /* ISSUER/SERIAL accepted on certificates */
    bool usage_from_token;  /* no CKA_VERIFY/CKA_DECRYPT in key templates:
                               the token sets them (tpm2, keygen.c) */
    bool no_session_keys;   /* keys are token objects only (tpm2, probe.c) */
    bool transient_retry;   /* CKR_GENERAL_ERROR & co. are another process
                               rewriting the token: try again (session.c) */
};

const struct tok_quirks *tok_quirks(const struct tok_ctx *ctx);
/* p11-kit's trust module (read-only CA certificates, no keys): never a
 * candidate for tok_open, marked by tok_list_tokens. */
bool tok_is_trust_store(const char *module_name, const CK_INFO *minfo,
                        const CK_TOKEN_INFO *tinfo);
/* The family for this module/token. */
enum tok_family tok_detect_family(const char *module_name, const CK_INFO *minfo,
                                  const CK_TOKEN_INFO *tinfo);

#endif
