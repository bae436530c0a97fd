/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tok.h - the token layer: the one public interface to PKCS#11.
 *
 * Nothing outside pkcs11/ sees CK_* types or p11-kit headers.  A caller
 * opens exactly one token by pkcs11: URI, logs in once, finds or generates
 * a key, signs digests with it and writes certificates next to it:
 *
 *   tok_open("pkcs11:token=dev", NULL, &ctx);
 *   tok_login(ctx, &pin_src, TOK_USER, interactive);
 *   tok_key_generate(ctx, TOK_EC_P256, "code-signing", &key);
 *   tok_key_public(key, &pub);  ...csr_build(..., tok_sign_digest, key...)
 *   tok_cert_write_all(ctx, key, leaf, chain, &res, &nwritten, &nskipped);
 *   tok_key_free(key); tok_close(ctx);
 *
 * Every function returns an enum pe_rc and records one sentence with
 * pe_failf() on failure.  Objects are found again by CKA_ID after a
 * network HSM dropped (re-initialise, re-find, re-login, retry once), so
 * struct tok_key stays valid across such a recovery.  Not thread-safe:
 * one tok_ctx per thread, and this layer starts no threads.  Never fork
 * after tok_open.
 */
#ifndef P11E_TOK_H
#define P11E_TOK_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rc.h"
#include "secret.h"

struct tok_ctx; /* one module, one token, one session (opaque) */
struct tok_key; /* a private key on that token, found by CKA_ID (opaque) */

/* ---- modules and tokens ---------------------------------------------- */

/*
 * Load the module (a path, a p11-kit registered name, or NULL: the URI's
 * module-path/module-name, else every p11-kit registered module) and select
 * exactly one token matching uri (RFC 7512; NULL or "pkcs11:" = any).
 * Unknown URI parts: PE_E_USAGE.  No match or several: PE_E_TOKEN_NOT_FOUND,
 * the candidates' URIs listed in pe_detail().  Opens a RW session.
 */
enum pe_rc tok_open(const char *uri, const char *module, struct tok_ctx **pctx);

/* Log out, close the session, C_Finalize the modules, wipe any kept PIN
 * and free ctx.  Call before exit (SoftHSM crashes in atexit otherwise).
 * NULL is a no-op. */
void tok_close(struct tok_ctx *ctx);

/* The token's own URI, "pkcs11:model=...;manufacturer=...;serial=...;
 * token=..." (owned by ctx). */
const char *tok_token_uri(const struct tok_ctx *ctx);

/* Token info strings, trailing blanks removed (owned by ctx). */
const char *tok_token_label(const struct tok_ctx *ctx);
const char *tok_token_serial(const struct tok_ctx *ctx);
const char *tok_token_manufacturer(const struct tok_ctx *ctx);
const char *tok_token_model(const struct tok_ctx *ctx);
/* Name of the module the token came from (p11-kit name or file name). */
const char *tok_module_name(const struct tok_ctx *ctx);

/* Token flags, read fresh from the token; same bit values as CKF_*. */
#define TOK_F_RNG                    0x00000001UL
#define TOK_F_WRITE_PROTECTED        0x00000002UL
#define TOK_F_LOGIN_REQUIRED         0x00000004UL
#define TOK_F_USER_PIN_INITIALIZED   0x00000008UL
#define TOK_F_PROTECTED_AUTH_PATH    0x00000100UL
#define TOK_F_TOKEN_INITIALIZED      0x00000400UL
#define TOK_F_USER_PIN_COUNT_LOW     0x00010000UL
#define TOK_F_USER_PIN_FINAL_TRY     0x00020000UL
#define TOK_F_USER_PIN_LOCKED        0x00040000UL
#define TOK_F_USER_PIN_TO_BE_CHANGED 0x00080000UL
#define TOK_F_SO_PIN_COUNT_LOW       0x00100000UL
#define TOK_F_SO_PIN_FINAL_TRY       0x00200000UL
#define TOK_F_SO_PIN_LOCKED          0x00400000UL
unsigned long tok_token_flags(struct tok_ctx *ctx);

/* Comma-separated names of the set flags ("login-required,rng,...") into
 * buf; returns buf. */
const char *tok_flags_str(unsigned long flags, char *buf, size_t size);

/* One token seen by tok_list_tokens(). */
struct tok_token_entry {
    char *module;      /* module name (p11-kit name or path) */
    char *module_path; /* file name of the module, may be NULL */
    char *uri;         /* token URI as tok_token_uri() gives it */
    char *label, *manufacturer, *model, *serial;
    unsigned long slot_id;
    unsigned long flags; /* TOK_F_* */
    bool trust_store;    /* p11-kit's trust module: CA certificates, no
                            keys; tok_open never picks it */
};

struct tok_token_list {
    struct tok_token_entry *v;
    size_t n;
    char **modules;      /* every module loaded, even those without tokens */
    char **module_paths; /* their file names (entries may be NULL) */
    size_t nmodules;
};

/* Every token of module (as for tok_open; NULL = all registered modules).
 * Allocates *plist (tok_token_list_free). */
enum pe_rc tok_list_tokens(const char *module, struct tok_token_list **plist);
void tok_token_list_free(struct tok_token_list *list);

/* ---- quirks ------------------------------------------------------------ */

enum tok_family {
    TOK_FAMILY_GENERIC = 0,   /* Luna, nShield, ... */
    TOK_FAMILY_YKCS11,        /* whitelisted templates, SO login, CKA_ID 1-25 */
    TOK_FAMILY_CLOUDHSM,      /* no certificate category, RW sessions only */
    TOK_FAMILY_P11KIT_REMOTE, /* p11-kit-client.so: hash locally */
    TOK_FAMILY_SOFTHSM,       /* CKR_GENERAL_ERROR & co. tried again */
    TOK_FAMILY_TPM2,          /* tpm2-pkcs11: the TPM sets key usage */
};

/* Detected at tok_open from module and token info. */
enum tok_family tok_family(const struct tok_ctx *ctx);
/* Override the detected family (call right after tok_open). */
void tok_set_family(struct tok_ctx *ctx, enum tok_family family);
/* "generic", "ykcs11", "cloudhsm", "p11kit-remote", "softhsm", "tpm2". */
const char *tok_family_name(enum tok_family family);
/* Parse a family name; PE_E_USAGE if unknown. */
enum pe_rc tok_family_parse(const char *name, enum tok_family *pfamily);
/* false when chain certificates cannot live on this token (ykcs11). */
bool tok_can_store_chain(const struct tok_ctx *ctx);
/* ykcs11's one-byte CKA_ID of a PIV slot ("9a" 1, "9c" 2, "9d" 3, "9e" 4,
 * "82".."95" 5..24) into *pid; PE_E_USAGE with a sentence otherwise. */
enum pe_rc tok_piv_slot_id(const char *slot, unsigned char *pid);

/* ---- login ------------------------------------------------------------- */

enum tok_user { TOK_USER, TOK_SO };

/*
 * Log in as user (or SO: the ykcs11 management key) with a secret from pin;
 * pin NULL: the URI's pin-source, else the PIN pad if the token has one,
 * else a prompt when interactive (else PE_E_PIN_SOURCE).  Reads the token
 * flags first: locked fails (PE_E_PIN_LOCKED); final try fails when
 * !interactive, and interactive runs are told of low/final tries.  A PIN the
 * token refused is never sent again by this ctx (PE_E_PIN_INCORRECT).  The
 * PIN is kept in a struct secret, wiped at tok_close, for the context logins
 * of CKA_ALWAYS_AUTHENTICATE keys and to log in again after a network HSM
 * dropped.  Already logged in: PE_OK.  Token without login: PE_OK.
 * A PIN typed at a prompt and refused is asked for again as
 * tok_pin_ask_again() says; one from a file, descriptor, variable or the
 * URI never is.
 */
enum pe_rc tok_login(struct tok_ctx *ctx, const struct secret_source *pin,
                     enum tok_user user, bool interactive);

/* Prompts for one login at most (the first and those after a refusal). */
#define TOK_PIN_PROMPTS 3

/*
 * After the (SO) PIN from a source of kind was refused on the asked-th
 * prompt: true when it may be asked for again, i.e. it was typed at a
 * prompt, fewer than TOK_PIN_PROMPTS were asked, and the token's flags
 * (read after the refusal; TOK_F_*) show it neither locked nor on its
 * final try: a person is not led into locking a token.
 */
bool tok_pin_ask_again(enum secret_kind kind, enum tok_user user,
                       unsigned long flags, int asked);

/* The source of the user PIN for context-specific logins when the session
 * is logged in as SO (ykcs11: signing with slot 9c).  Borrowed until
 * tok_close. */
void tok_set_context_pin(struct tok_ctx *ctx, const struct secret_source *pin);

/* ---- keys -------------------------------------------------------------- */

enum tok_keytype { TOK_EC_P256, TOK_EC_P384, TOK_RSA_3072, TOK_RSA_4096 };

/* "ec-p256", "ec-p384", "rsa-3072", "rsa-4096". */
const char *tok_keytype_name(enum tok_keytype type);
/* Parse one of those names; PE_E_USAGE with the list if unknown. */
enum pe_rc tok_keytype_parse(const char *name, enum tok_keytype *ptype);

/* true when the token lists the mechanisms to generate and sign with type
 * (EC: CKM_EC_KEY_PAIR_GEN + CKM_ECDSA, sizes in bits or bytes; RSA:
 * CKM_RSA_PKCS_KEY_PAIR_GEN + CKM_RSA_PKCS) with the flags and key size.
 * false too when the token cannot be asked.  Needs no login. */
bool tok_supports_keytype(struct tok_ctx *ctx, enum tok_keytype type);

/* PE_OK unless the token's mechanism list or key sizes say it cannot make
 * type (a token that tells nothing may try); then PE_E_KEY: "Token \"X\"
 * cannot make ec-p256 keys; it can make rsa-3072, rsa-4096: give
 * --key-type rsa-3072."  tok_key_generate_ex calls it first. */
enum pe_rc tok_keytype_check(struct tok_ctx *ctx, enum tok_keytype type);

/* The first of ec-p256, ec-p384, rsa-3072, rsa-4096 the token does not
 * refuse (as for tok_keytype_check); PE_E_KEY when it refuses all. */
enum pe_rc tok_keytype_pick(struct tok_ctx *ctx, enum tok_keytype *ptype);

/*
 * Proof that the token makes and signs with type (doctor --probe): a key
 * pair living only in this session (CKA_TOKEN false; where the token makes
 * token objects only, as tpm2-pkcs11, a pair under a fresh CKA_ID, and
 * *ptoken_objects true), one SHA-256 signature checked against its public
 * key, and the pair removed: the token is left as it was.  Needs the login
 * keygen needs.  PE_OK when all of it worked.
 */
enum pe_rc tok_probe_keytype(struct tok_ctx *ctx, enum tok_keytype type,
                             bool *ptoken_objects);

/* Free memory the token reports for public and private objects, in
 * bytes, read fresh; TOK_MEMORY_UNKNOWN where it tells none
 * (CK_UNAVAILABLE_INFORMATION or CK_EFFECTIVELY_INFINITE, as SoftHSM). */
#define TOK_MEMORY_UNKNOWN ((unsigned long)-1)
enum pe_rc tok_token_memory(struct tok_ctx *ctx, unsigned long *pfree_public,
                            unsigned long *pfree_private);

struct tok_keygen {
    enum tok_keytype type;
    const char *label;        /* CKA_LABEL of both halves; NULL = none */
    const unsigned char *id;  /* NULL: a fresh random CKA_ID */
    size_t idlen;             /* ykcs11: 1 byte, 1..25 (PIV slot) */
    bool always_authenticate; /* CKA_ALWAYS_AUTHENTICATE on the key */
    bool any_type;            /* no type was asked for: type is ignored and
                                 tok_keytype_pick chooses (and says which);
                                 tok_key_type tells the choice */
};

/*
 * Generate a key pair on the token: token object, private, sensitive, not
 * extractable, sign/verify, with a CKA_ID no object on the token has.  The
 * attributes are read back; an extractable, non-sensitive or non-local key
 * is destroyed and PE_E_KEY returned.  Allocates *pkey (tok_key_free).
 */
enum pe_rc tok_key_generate(struct tok_ctx *ctx, enum tok_keytype type,
                            const char *label, struct tok_key **pkey);
/* The same with every option (explicit CKA_ID, always-authenticate). */
enum pe_rc tok_key_generate_ex(struct tok_ctx *ctx,
                               const struct tok_keygen *spec,
                               struct tok_key **pkey);

/* The private key with this CKA_ID.  None: PE_E_KEY; several: PE_E_KEY.
 * Allocates *pkey. */
enum pe_rc tok_key_find_by_id(struct tok_ctx *ctx, const unsigned char *id,
                              size_t idlen, struct tok_key **pkey);
/* The private key named by a pkcs11: URI (id= and/or object=), which may
 * also name the token; token parts must match ctx's token.  Allocates. */
enum pe_rc tok_key_find_by_uri(struct tok_ctx *ctx, const char *uri,
                               struct tok_key **pkey);
/* The private key whose public key equals pub (via its public key object,
 * its own attributes or its certificate).  None: PE_E_KEY.  Allocates. */
enum pe_rc tok_key_find_by_public(struct tok_ctx *ctx, EVP_PKEY *pub,
                                  struct tok_key **pkey);

/* The key's CKA_ID (owned by key). */
void tok_key_id(const struct tok_key *key, const unsigned char **pid,
                size_t *plen);
/* The key's CKA_LABEL ("" if none; owned by key). */
const char *tok_key_label(const struct tok_key *key);
/* pkcs11: URI of the private key: token parts, id, object, type=private
 * (owned by key). */
const char *tok_key_uri(const struct tok_key *key);
/* Its type, if one of ours; PE_E_KEY for others (RSA-2048, P-521...). */
enum pe_rc tok_key_type(const struct tok_key *key, enum tok_keytype *ptype);
/* true when the key has CKA_ALWAYS_AUTHENTICATE. */
bool tok_key_always_auth(const struct tok_key *key);

/* The public key as an EVP_PKEY (new reference; EVP_PKEY_free). */
enum pe_rc tok_key_public(struct tok_key *key, EVP_PKEY **ppub);

/* Free the handle (the key stays on the token); NULL is a no-op. */
void tok_key_free(struct tok_key *key);

/* Remove the key pair (private and public objects with its CKA_ID) from
 * the token, then free key.  Only when the user asked for it. */
enum pe_rc tok_key_destroy(struct tok_key *key);

/*
 * The public half of a pair whose key generation was cut short: when no
 * private key has this CKA_ID, remove the public keys that have it
 * (*premoved: how many).  Only for an ID the caller drew itself for a key
 * it was making, so nothing it removes belongs to anyone else.
 */
enum pe_rc tok_key_remove_half(struct tok_ctx *ctx, const unsigned char *id,
                               size_t idlen, unsigned *premoved);

/* ---- signing ----------------------------------------------------------- */

/*
 * Sign a digest the caller made (md_nid NID_sha256 or NID_sha384).
 * EC: CKM_ECDSA, r||s returned as a DER ECDSA-Sig-Value.  RSA: CKM_RSA_PKCS
 * over the DER DigestInfo.  Does the context-specific login of
 * CKA_ALWAYS_AUTHENTICATE keys with the kept PIN.  *psig is
 * OPENSSL_malloc'ed (OPENSSL_free).  Same shape as csr_sign_fn (ctx = key).
 */
enum pe_rc tok_sign_digest(struct tok_key *key, int md_nid,
                           const unsigned char *digest, size_t dlen,
                           unsigned char **psig, size_t *psiglen);

/* ---- certificates ------------------------------------------------------ */

struct tok_cert_result {
    char *uri;      /* pkcs11: URI of the certificate now on the token */
    bool replaced;  /* an older certificate for the key was removed */
    bool unchanged; /* the very same certificate was already there */
};

/*
 * Write leaf as the key's certificate: same CKA_ID and label, subject,
 * issuer, serial and value.  An existing certificate for the key is removed
 * only after the new one was written and read back equal; on failure the
 * old one stays.  Fills *res (tok_cert_result_clear); res may be NULL.
 */
enum pe_rc tok_cert_write_leaf(struct tok_ctx *ctx, struct tok_key *key,
                               X509 *leaf, struct tok_cert_result *res);
void tok_cert_result_clear(struct tok_cert_result *res);

/*
 * Write chain certificates as authority certificates (category 2 where the
 * module allows) with fresh CKA_IDs and their subject CN as label; those
 * already on the token (same value) are skipped.  On a token that cannot
 * hold a chain (ykcs11) writes nothing and returns PE_OK.  pwritten and
 * pskipped may be NULL.
 */
enum pe_rc tok_cert_write_chain(struct tok_ctx *ctx, STACK_OF(X509) * chain,
                                size_t *pwritten, size_t *pskipped);

/*
 * Both of the above, one after the other: the leaf next to its key, then
 * the chain.  pwritten and pskipped count chain certificates (0 when the
 * leaf's write failed).
 */
enum pe_rc tok_cert_write_all(struct tok_ctx *ctx, struct tok_key *key,
                              X509 *leaf, STACK_OF(X509) * chain,
                              struct tok_cert_result *res, size_t *pwritten,
                              size_t *pskipped);

/* The certificate stored with the key's CKA_ID, or *pcert = NULL (PE_OK)
 * when there is none.  Allocates *pcert (X509_free). */
enum pe_rc tok_cert_read(struct tok_ctx *ctx, struct tok_key *key,
                         X509 **pcert);

/* Whether a certificate object with exactly cert's DER bytes is stored
 * with the key's CKA_ID (found by a search, compared byte for byte, not
 * decoded): *pfound. */
enum pe_rc tok_cert_find_same(struct tok_ctx *ctx, struct tok_key *key,
                              X509 *cert, bool *pfound);

/* Remove every certificate object (only certificates) with this CKA_ID;
 * *pn (may be NULL) is how many were removed, 0 when none.  Only when the
 * user asked for it (renew --retire-old). */
enum pe_rc tok_cert_destroy(struct tok_ctx *ctx, const unsigned char *id,
                            size_t idlen, size_t *pn);

/* ---- attestation (ykcs11) --------------------------------------------- */

/*
 * The key's attestation as the token keeps it: ykcs11 makes a session
 * certificate (CKA_TOKEN false) with the key's CKA_ID, signed by the f9
 * intermediate (CKA_ID 25).  *pattest and *pf9 are new X509 (X509_free);
 * PE_E_KEY when the token has no attestation for the key (every other
 * family: use --attestation FILE).  Read it before writing a certificate.
 */
enum pe_rc tok_attestation_read(struct tok_ctx *ctx, struct tok_key *key,
                                X509 **pattest, X509 **pf9);

/* ---- listing ----------------------------------------------------------- */

enum tok_obj_class { TOK_OBJ_PRIVATE_KEY, TOK_OBJ_PUBLIC_KEY, TOK_OBJ_CERT };

struct tok_object {
    enum tok_obj_class cls;
    unsigned char *id; /* CKA_ID */
    size_t idlen;
    char *label;            /* "" if none */
    char *uri;              /* pkcs11: URI of this object */
    EVP_PKEY *pub;          /* keys: the public key if readable, else NULL */
    char keytype[16];       /* keys: "EC P-256", "RSA 3072", ... or "" */
    X509 *cert;             /* certificates: parsed value, NULL if unparsable */
    unsigned long category; /* certificates: CKA_CERTIFICATE_CATEGORY */
    bool always_auth;       /* private keys */
    bool matched;           /* key with a certificate of the same public key,
                               or certificate whose key is on the token */
};

struct tok_object_list {
    struct tok_object *v;
    size_t n;
};

/* Every key and certificate visible in the session (private keys need a
 * login first).  Allocates *plist (tok_object_list_free). */
enum pe_rc tok_list_objects(struct tok_ctx *ctx,
                            struct tok_object_list **plist);
void tok_object_list_free(struct tok_object_list *list);

#endif
