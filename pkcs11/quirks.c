/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quirks.c - what differs between module families, as data.
 * Each row says what its module does, as read in the module's own source
 * or documentation: ykcs11 2.2.0 (its template checks), AWS CloudHSM SDK
 * 5 (known issues, certificate storage attributes), p11-kit 0.24 (its
 * RPC's mechanism list), SoftHSM 2.6 and tpm2-pkcs11 1.9 (how it turns a
 * key template into TPM object attributes and checks the two agree).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tok_int.h"

static const struct {
    enum tok_family family;
    const char *name;
    struct tok_quirks q;
} families[] = {
    /* Luna, nShield: the whole template is accepted */
    {TOK_FAMILY_GENERIC,
     "generic",
     {.so_for_keygen = false,
      .minimal_templates = false,
      .piv_ids = false,
      .cert_category = true,
      .chain_storage = true,
      .cert_extra_attrs = true}},
    /* ykcs11 2.2.0: SO (management key) for keygen and cert write,
     * whitelisted attributes (no EXTRACTABLE, ALWAYS_AUTHENTICATE,
     * CERTIFICATE_CATEGORY), CKA_ID 1..25 = PIV slots, no chain storage */
    {TOK_FAMILY_YKCS11,
     "ykcs11",
     {.so_for_keygen = true,
      .minimal_templates = true,
      .piv_ids = true,
      .cert_category = false,
      .chain_storage = false,
      .cert_extra_attrs = true}},
    /* CloudHSM SDK 5: CATEGORY must stay unspecified; RW sessions only
     * (we only ever open RW sessions) */
    {TOK_FAMILY_CLOUDHSM,
     "cloudhsm",
     {.so_for_keygen = false,
      .minimal_templates = false,
      .piv_ids = false,
      .cert_category = false,
      .chain_storage = true,
      .cert_extra_attrs = true}},
    /* p11-kit-client.so: attributes pass through; we always hash locally
     * and use CKM_ECDSA / CKM_RSA_PKCS, which the 0.24 RPC forwards */
    {TOK_FAMILY_P11KIT_REMOTE,
     "p11kit-remote",
     {.so_for_keygen = false,
      .minimal_templates = false,
      .piv_ids = false,
      .cert_category = true,
      .chain_storage = true,
      .cert_extra_attrs = true}},
    /* SoftHSM 2 (file store): the whole template is accepted.  It
     * rewrites token.object in place, so a process that starts or logs in
     * while another writes sees no token or gets CKR_GENERAL_ERROR: only
     * here are such answers worth another try (many processes sharing one
     * SoftHSM token is how fleets are tested) */
    {TOK_FAMILY_SOFTHSM,
     "softhsm",
     {.so_for_keygen = false,
      .minimal_templates = false,
      .piv_ids = false,
      .cert_category = true,
      .chain_storage = true,
      .cert_extra_attrs = true,
      .transient_retry = true}},
    /* tpm2-pkcs11 1.9: the key's usage is the TPM object's: CKA_VERIFY
     * and CKA_DECRYPT both set its decrypt attribute, CKA_SIGN its sign
     * attribute, and a template value that differs from the object made
     * fails the keygen with CKR_GENERAL_ERROR.  An RSA key keeps the
     * decrypt attribute (CKM_RSA_PKCS signs with a raw TPM decrypt).  The
     * mechanism info tells the RSA sizes the TPM makes (3072 at most on
     * most TPMs).  CKA_TOKEN must be true: no session keys
     * (docs/tokens.md, TPM 2.0) */
    {TOK_FAMILY_TPM2,
     "tpm2",
     {.so_for_keygen = false,
      .minimal_templates = false,
      .piv_ids = false,
      .cert_category = true,
      .chain_storage = true,
      .cert_extra_attrs = true,
      .usage_from_token = true,
      .no_session_keys = true}},
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

const struct tok_quirks *tok_quirks(const struct tok_ctx *ctx)
{
    size_t i;

    for (i = 0; i < NFAMILIES; i++)
        if (families[i].family == ctx->family)
            return &families[i].q;
    return &families[0].q;
}

const char *tok_family_name(enum tok_family family)
{
    size_t i;

    for (i = 0; i < NFAMILIES; i++)
        if (families[i].family == family)
            return families[i].name;
    return "generic";
}

enum pe_rc tok_family_parse(const char *name, enum tok_family *pfamily)
{
    size_t i;

    for (i = 0; i < NFAMILIES; i++) {
        if (strcmp(families[i].name, name) == 0) {
            *pfamily = families[i].family;
            return PE_OK;
        }
    }
    return pe_failf(PE_E_USAGE,
                    "Unknown token family \"%s\"; use generic, ykcs11, "
                    "cloudhsm, p11kit-remote, softhsm or tpm2.",
                    name);
}

enum tok_family tok_family(const struct tok_ctx *ctx)
{
    return ctx->family;
}

void tok_set_family(struct tok_ctx *ctx, enum tok_family family)
{
    ctx->family = family;
}

bool tok_can_store_chain(const struct tok_ctx *ctx)
{
    return tok_quirks(ctx)->chain_storage;
}

static bool has(const CK_UTF8CHAR *s, size_t len, const char *needle)
{
    char buf[65];
    size_t n = p11_kit_space_strlen(s, len);

    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

enum tok_family tok_detect_family(const char *module_name, const CK_INFO *minfo,
                                  const CK_TOKEN_INFO *tinfo)
{
    if (module_name != NULL && strstr(module_name, "p11-kit-client") != NULL)
        return TOK_FAMILY_P11KIT_REMOTE;
    if (minfo != NULL &&
        has(minfo->libraryDescription, sizeof(minfo->libraryDescription),
            "p11-kit client"))
        return TOK_FAMILY_P11KIT_REMOTE;
    if ((module_name != NULL && strstr(module_name, "ykcs11") != NULL) ||
        (tinfo != NULL &&
         has(tinfo->manufacturerID, sizeof(tinfo->manufacturerID), "Yubico") &&
         has(tinfo->model, sizeof(tinfo->model), "YubiKey")))
        return TOK_FAMILY_YKCS11;
    if ((module_name != NULL && strstr(module_name, "cloudhsm") != NULL) ||
        (minfo != NULL &&
         has(minfo->manufacturerID, sizeof(minfo->manufacturerID), "Amazon")))
        return TOK_FAMILY_CLOUDHSM;
    if ((module_name != NULL && (strstr(module_name, "tpm2_pkcs11") != NULL ||
                                 strstr(module_name, "tpm2-pkcs11") != NULL)) ||
        (minfo != NULL && has(minfo->manufacturerID,
                              sizeof(minfo->manufacturerID), "tpm2-software")))
        return TOK_FAMILY_TPM2;
    if ((module_name != NULL && strstr(module_name, "softhsm") != NULL) ||
        (tinfo != NULL &&
         has(tinfo->manufacturerID, sizeof(tinfo->manufacturerID), "SoftHSM")))
        return TOK_FAMILY_SOFTHSM;
    return TOK_FAMILY_GENERIC;
}

enum pe_rc tok_piv_slot_id(const char *slot, unsigned char *pid)
{
    static const char *const named[] = {"9a", "9c", "9d", "9e"};
    unsigned long v;
    char *end = NULL;
    size_t i;

    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (strcasecmp(slot, named[i]) == 0) {
            *pid = (unsigned char)(i + 1);
            return PE_OK;
        }
    }
    v = strtoul(slot, &end, 16);
    if (end == slot || *end != '\0' || v < 0x82 || v > 0x95)
        return pe_failf(PE_E_USAGE,
                        "--slot must be 9a, 9c, 9d, 9e or one of "
                        "82..95, not \"%.20s\".",
                        slot);
    *pid = (unsigned char)(5 + (v - 0x82));
    return PE_OK;
}

bool tok_is_trust_store(const char *module_name, const CK_INFO *minfo,
                        const CK_TOKEN_INFO *tinfo)
{
    return (module_name != NULL &&
            strstr(module_name, "p11-kit-trust") != NULL) ||
           (minfo != NULL &&
            has(minfo->libraryDescription, sizeof(minfo->libraryDescription),
                "Kit Trust Module")) ||
           (tinfo != NULL &&
            has(tinfo->model, sizeof(tinfo->model), "p11-kit-trust"));
}
