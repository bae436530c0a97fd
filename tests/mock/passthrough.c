/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passthrough.c - the exported PKCS#11 2.40 function list of p11e_mock.
 *
 * Every function counts the call and applies injected faults
 * (call_begin), asks the ykcs11 personality when P11E_MOCK_YKCS11=1, and
 * otherwise forwards the call unchanged to the real module
 * ($P11E_MOCK_TARGET, default the SoftHSM found at build time), which is
 * loaded at the first C_Initialize and never unloaded.  The environment
 * variables are documented atop faults.c and in README.md.
 */
#include "mock.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef P11E_MOCK_DEFAULT_TARGET
#define P11E_MOCK_DEFAULT_TARGET ""
#endif

CK_FUNCTION_LIST *mock_target;

#define T        mock_target
#define NOT_INIT CKR_CRYPTOKI_NOT_INITIALIZED

/* A function the mock only forwards (after counting and fault checks). */
#define FWD(name, params, args)                                                \
    static CK_RV m_##name params                                               \
    {                                                                          \
        struct mock_call c;                                                    \
        if (!call_begin(&c, #name))                                            \
            c.rv = T ? T->name args : NOT_INIT;                                \
        return call_end(&c);                                                   \
    }

static CK_RV load_target(void)
{
    const char *path = getenv("P11E_MOCK_TARGET");
    CK_C_GetFunctionList get;
    void *handle;

    if (T != NULL)
        return CKR_OK;
    if (path == NULL || path[0] == '\0')
        path = P11E_MOCK_DEFAULT_TARGET;
    if (path[0] == '\0') {
        mock_warn("no target module: set P11E_MOCK_TARGET");
        return CKR_GENERAL_ERROR;
    }
    /* Never dlclose'd: SoftHSM does not survive being unloaded and
     * loaded again in one process (its singletons, OpenSSL 3). */
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        mock_warn("cannot load %s: %s", path, dlerror());
        return CKR_GENERAL_ERROR;
    }
    *(void **)(&get) = dlsym(handle, "C_GetFunctionList");
    if (get == NULL || get(&T) != CKR_OK || T == NULL) {
        mock_warn("%s has no usable C_GetFunctionList", path);
        T = NULL;
        return CKR_GENERAL_ERROR;
    }
    return CKR_OK;
}

static CK_RV m_C_Initialize(void *args)
{
    struct mock_call c;
    CK_RV frv = faults_initialize();

    if (call_begin(&c, "C_Initialize"))
        return call_end(&c);
    if (frv != CKR_OK) {
        c.rv = frv;
        return call_end(&c);
    }
    c.rv = load_target();
    if (c.rv == CKR_OK)
        c.rv = T->C_Initialize(args);
    faults_initialized(c.rv);
    if (c.rv == CKR_OK)
        yk_initialize(); /* reads P11E_MOCK_YKCS11 */
    return call_end(&c);
}

static CK_RV m_C_Finalize(void *reserved)
{
    struct mock_call c;

    if (!call_begin(&c, "C_Finalize")) {
        yk_finalize();
        c.rv = T ? T->C_Finalize(reserved) : NOT_INIT;
        faults_finalized(c.rv);
    }
    return call_end(&c);
}

static CK_RV m_C_GetInfo(CK_INFO *info)
{
    struct mock_call c;

    if (!call_begin(&c, "C_GetInfo")) {
        c.rv = T ? T->C_GetInfo(info) : NOT_INIT;
        if (c.rv == CKR_OK && yk_enabled())
            yk_get_info(info);
    }
    return call_end(&c);
}

static CK_FUNCTION_LIST function_list;

static CK_RV m_C_GetFunctionList(CK_FUNCTION_LIST **list)
{
    struct mock_call c;

    if (!call_begin(&c, "C_GetFunctionList")) {
        if (list == NULL)
            c.rv = CKR_ARGUMENTS_BAD;
        else
            *list = &function_list;
    }
    return call_end(&c);
}

static CK_RV m_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID *list,
                             CK_ULONG *count)
{
    struct mock_call c;

    if (!call_begin(&c, "C_GetSlotList")) {
        if (faults_gone() && count != NULL) {
            *count = 0;
            c.note = "[removed]";
        } else {
            c.rv = T ? T->C_GetSlotList(present, list, count) : NOT_INIT;
        }
    }
    return call_end(&c);
}

static CK_RV m_C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO *info)
{
    struct mock_call c;

    if (!call_begin(&c, "C_GetSlotInfo")) {
        c.rv = T ? T->C_GetSlotInfo(slot, info) : NOT_INIT;
        if (c.rv == CKR_OK && yk_enabled())
            yk_get_slot_info(info);
    }
    return call_end(&c);
}

static CK_RV m_C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
    struct mock_call c;
    CK_FLAGS extra;

    if (!call_begin(&c, "C_GetTokenInfo")) {
        c.rv = T ? T->C_GetTokenInfo(slot, info) : NOT_INIT;
        if (c.rv == CKR_OK && yk_enabled())
            yk_get_token_info(info);
        if (c.rv == CKR_OK && (extra = faults_token_flags()) != 0) {
            info->flags |= extra;
            call_detail(&c, "flags|=0x%lx", (unsigned long)extra);
        }
    }
    return call_end(&c);
}

static CK_RV m_C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE *list,
                                  CK_ULONG *count)
{
    struct mock_call c;

    CK_ULONG i, j;

    if (!call_begin(&c, "C_GetMechanismList") &&
        !yk_mechanism_list(&c, slot, list, count))
        c.rv = T ? T->C_GetMechanismList(slot, list, count) : NOT_INIT;
    if (c.rv == CKR_OK && list != NULL && count != NULL) {
        for (i = 0, j = 0; i < *count; i++)
            if (!mock_mech_hidden(list[i]))
                list[j++] = list[i];
        *count = j;
    }
    return call_end(&c);
}

static CK_RV m_C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                                  CK_MECHANISM_INFO *info)
{
    struct mock_call c;

    if (call_begin(&c, "C_GetMechanismInfo"))
        return call_end(&c);
    if (mock_mech_hidden(type))
        c.rv = CKR_MECHANISM_INVALID;
    else if (!yk_mechanism_info(&c, slot, type, info))
        c.rv = T ? T->C_GetMechanismInfo(slot, type, info) : NOT_INIT;
    return call_end(&c);
}

FWD(C_InitToken,
    (CK_SLOT_ID slot, CK_UTF8CHAR *pin, CK_ULONG len, CK_UTF8CHAR *label),
    (slot, pin, len, label))
FWD(C_InitPIN, (CK_SESSION_HANDLE h, CK_UTF8CHAR *pin, CK_ULONG len),
    (h, pin, len))
FWD(C_SetPIN,
    (CK_SESSION_HANDLE h, CK_UTF8CHAR *old, CK_ULONG olen, CK_UTF8CHAR *pin,
     CK_ULONG len),
    (h, old, olen, pin, len))

static CK_RV m_C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app,
                             CK_NOTIFY notify, CK_SESSION_HANDLE *ph)
{
    struct mock_call c;

    call_start(&c, "C_OpenSession");
    call_detail(&c, "slot=%lu %s", (unsigned long)slot,
                (flags & CKF_RW_SESSION) ? "rw" : "ro");
    if (!call_check(&c)) {
        if (!yk_open_session(&c, slot, flags, app, notify, ph))
            c.rv =
                T ? T->C_OpenSession(slot, flags, app, notify, ph) : NOT_INIT;
    }
    return call_end(&c);
}

static CK_RV m_C_CloseSession(CK_SESSION_HANDLE h)
{
    struct mock_call c;

    if (!call_begin(&c, "C_CloseSession") && !yk_close_session(&c, h))
        c.rv = T ? T->C_CloseSession(h) : NOT_INIT;
    return call_end(&c);
}

static CK_RV m_C_CloseAllSessions(CK_SLOT_ID slot)
{
    struct mock_call c;

    if (!call_begin(&c, "C_CloseAllSessions") &&
        !yk_close_all_sessions(&c, slot))
        c.rv = T ? T->C_CloseAllSessions(slot) : NOT_INIT;
    return call_end(&c);
}

static CK_RV m_C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO *info)
{
    struct mock_call c;

    if (!call_begin(&c, "C_GetSessionInfo") && !yk_session_info(&c, h, info))
        c.rv = T ? T->C_GetSessionInfo(h, info) : NOT_INIT;
    return call_end(&c);
}
FWD(C_GetOperationState, (CK_SESSION_HANDLE h, CK_BYTE *state, CK_ULONG *len),
    (h, state, len))
FWD(C_SetOperationState,
    (CK_SESSION_HANDLE h, CK_BYTE *state, CK_ULONG len, CK_OBJECT_HANDLE ek,
     CK_OBJECT_HANDLE ak),
    (h, state, len, ek, ak))

static CK_RV m_C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR *pin,
                       CK_ULONG len)
{
    const char *pinpad = getenv("P11E_MOCK_PINPAD_PIN");
    CK_UTF8CHAR typed[64];
    struct mock_call c;

    call_start(&c, "C_Login");
    call_detail(&c, "user=%lu pin=%s", (unsigned long)user,
                pin ? "***" : "(none)");
    if (call_check(&c))
        goto out;
    if (pin == NULL &&
        (faults_token_flags() & CKF_PROTECTED_AUTHENTICATION_PATH)) {
        /* The person "types" P11E_MOCK_PINPAD_PIN on the pinpad. */
        len = pinpad ? strlen(pinpad) : 0;
        if (pinpad == NULL || len > sizeof(typed)) {
            c.rv = CKR_PIN_INCORRECT;
            goto out;
        }
        memcpy(typed, pinpad, len);
        pin = typed;
        call_detail(&c, "pinpad");
    }
    if (!yk_login(&c, h, user, pin, len))
        c.rv = T ? T->C_Login(h, user, pin, len) : NOT_INIT;
out:
    memset(typed, 0, sizeof(typed));
    return call_end(&c);
}

static CK_RV m_C_Logout(CK_SESSION_HANDLE h)
{
    struct mock_call c;

    if (!call_begin(&c, "C_Logout") && !yk_logout(&c, h))
        c.rv = T ? T->C_Logout(h) : NOT_INIT;
    return call_end(&c);
}

/* The CK_ULONG value of attribute type in tmpl, or def. */
static unsigned long attr_ulong(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                CK_ATTRIBUTE_TYPE type, unsigned long def)
{
    for (CK_ULONG i = 0; tmpl != NULL && i < n; i++)
        if (tmpl[i].type == type && tmpl[i].pValue != NULL &&
            tmpl[i].ulValueLen == sizeof(CK_ULONG))
            return *(const CK_ULONG *)tmpl[i].pValue;
    return def;
}

/* CKA_TOKEN in tmpl: 1 or 0, or def when absent. */
static int attr_token(const CK_ATTRIBUTE *tmpl, CK_ULONG n, int def)
{
    for (CK_ULONG i = 0; tmpl != NULL && i < n; i++)
        if (tmpl[i].type == CKA_TOKEN && tmpl[i].pValue != NULL &&
            tmpl[i].ulValueLen == sizeof(CK_BBOOL))
            return *(const CK_BBOOL *)tmpl[i].pValue ? 1 : 0;
    return def;
}

/* Object o's CKA_TOKEN as the real module tells it, -1 if it does not. */
static int object_token(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
    CK_BBOOL v = CK_FALSE;
    CK_ATTRIBUTE a = {CKA_TOKEN, &v, sizeof(v)};

    if (T == NULL || T->C_GetAttributeValue(h, o, &a, 1) != CKR_OK)
        return -1;
    return v ? 1 : 0;
}

/* P11E_MOCK_REFUSE (tokens.c): true when the template is refused. */
static bool refused(struct mock_call *c, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    const char *name;
    CK_RV rv = mock_refused(t, n, &name);

    if (rv == CKR_OK)
        return false;
    c->rv = rv;
    call_detail(c, "[refused %s]", name);
    return true;
}

static CK_RV m_C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl,
                              CK_ULONG n, CK_OBJECT_HANDLE *ph)
{
    struct mock_call c;

    call_start(&c, "C_CreateObject");
    call_detail(&c, "class=%lu token=%d", attr_ulong(tmpl, n, CKA_CLASS, ~0UL),
                attr_token(tmpl, n, 0));
    if (!call_check(&c) && !refused(&c, tmpl, n)) {
        if (!yk_create_object(&c, h, tmpl, n, ph))
            c.rv = T ? T->C_CreateObject(h, tmpl, n, ph) : NOT_INIT;
    }
    return call_end(&c);
}

static CK_RV m_C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
                            CK_ATTRIBUTE *tmpl, CK_ULONG n,
                            CK_OBJECT_HANDLE *ph)
{
    struct mock_call c;

    call_start(&c, "C_CopyObject");
    call_detail(&c, "token=%d", attr_token(tmpl, n, object_token(h, o)));
    if (!call_check(&c) && !yk_unsupported(&c))
        c.rv = T ? T->C_CopyObject(h, o, tmpl, n, ph) : NOT_INIT;
    return call_end(&c);
}

static CK_RV m_C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
    struct mock_call c;

    call_start(&c, "C_DestroyObject");
    call_detail(&c, "token=%d", object_token(h, obj));
    if (!call_check(&c) && !yk_destroy_object(&c, h, obj))
        c.rv = T ? T->C_DestroyObject(h, obj) : NOT_INIT;
    return call_end(&c);
}

FWD(C_GetObjectSize, (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG *size),
    (h, o, size))
FWD(C_GetAttributeValue,
    (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE *t, CK_ULONG n),
    (h, o, t, n))
static CK_RV m_C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
                                   CK_ATTRIBUTE *t, CK_ULONG n)
{
    struct mock_call c;

    if (!call_begin(&c, "C_SetAttributeValue") && !yk_unsupported(&c))
        c.rv = T ? T->C_SetAttributeValue(h, o, t, n) : NOT_INIT;
    return call_end(&c);
}

static CK_RV m_C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl,
                                 CK_ULONG n)
{
    struct mock_call c;

    if (!call_begin(&c, "C_FindObjectsInit") &&
        !yk_find_objects_init(&c, h, tmpl, n))
        c.rv = T ? T->C_FindObjectsInit(h, tmpl, n) : NOT_INIT;
    return call_end(&c);
}

FWD(C_FindObjects,
    (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *objs, CK_ULONG max,
     CK_ULONG *count),
    (h, objs, max, count))
FWD(C_FindObjectsFinal, (CK_SESSION_HANDLE h), (h))
FWD(C_EncryptInit, (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE k),
    (h, m, k))
FWD(C_Encrypt,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_EncryptUpdate,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_EncryptFinal, (CK_SESSION_HANDLE h, CK_BYTE *o, CK_ULONG *ol), (h, o, ol))
FWD(C_DigestInit, (CK_SESSION_HANDLE h, CK_MECHANISM *m), (h, m))
FWD(C_Digest,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_DigestUpdate, (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl), (h, d, dl))
FWD(C_DigestKey, (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k), (h, k))
FWD(C_DigestFinal, (CK_SESSION_HANDLE h, CK_BYTE *o, CK_ULONG *ol), (h, o, ol))

/* Sign and decrypt: the ykcs11 personality must know when one is active
 * (it allows CKU_CONTEXT_SPECIFIC only then). */
static void op_started(CK_RV rv, CK_SESSION_HANDLE h, int op)
{
    if (rv == CKR_OK)
        yk_operation(h, op);
}

static void op_step(CK_RV rv, CK_SESSION_HANDLE h, const CK_BYTE *out)
{
    /* A size query or a too-small buffer keeps the operation going; any
     * other end, even CKR_USER_NOT_LOGGED_IN of an always-authenticate
     * key, ends it (SoftHSM and ykcs11 alike). */
    if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL))
        return;
    yk_operation(h, 0);
}

static CK_RV m_C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM *m,
                             CK_OBJECT_HANDLE k)
{
    struct mock_call c;

    if (!call_begin(&c, "C_DecryptInit")) {
        c.rv = T ? T->C_DecryptInit(h, m, k) : NOT_INIT;
        op_started(c.rv, h, 2);
    }
    return call_end(&c);
}

static CK_RV m_C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl,
                         CK_BYTE *o, CK_ULONG *ol)
{
    struct mock_call c;

    if (!call_begin(&c, "C_Decrypt")) {
        c.rv = T ? T->C_Decrypt(h, d, dl, o, ol) : NOT_INIT;
        op_step(c.rv, h, o);
    }
    return call_end(&c);
}

FWD(C_DecryptUpdate,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))

static CK_RV m_C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE *o, CK_ULONG *ol)
{
    struct mock_call c;

    if (!call_begin(&c, "C_DecryptFinal")) {
        c.rv = T ? T->C_DecryptFinal(h, o, ol) : NOT_INIT;
        op_step(c.rv, h, o);
    }
    return call_end(&c);
}

static CK_RV m_C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM *m,
                          CK_OBJECT_HANDLE k)
{
    struct mock_call c;

    call_start(&c, "C_SignInit");
    if (m != NULL)
        call_detail(&c, "mech=0x%lx", (unsigned long)m->mechanism);
    if (!call_check(&c) && !yk_sign_init(&c, h)) {
        c.rv = T ? T->C_SignInit(h, m, k) : NOT_INIT;
        op_started(c.rv, h, 1);
    }
    return call_end(&c);
}

static CK_RV m_C_Sign(CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl,
                      CK_BYTE *sig, CK_ULONG *sl)
{
    struct mock_call c;

    if (!call_begin(&c, "C_Sign")) {
        c.rv = T ? T->C_Sign(h, d, dl, sig, sl) : NOT_INIT;
        op_step(c.rv, h, sig);
        yk_sign_done(&c, h, sig != NULL);
    }
    return call_end(&c);
}

FWD(C_SignUpdate, (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl), (h, d, dl))

static CK_RV m_C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG *sl)
{
    struct mock_call c;

    if (!call_begin(&c, "C_SignFinal")) {
        c.rv = T ? T->C_SignFinal(h, sig, sl) : NOT_INIT;
        op_step(c.rv, h, sig);
        yk_sign_done(&c, h, sig != NULL);
    }
    return call_end(&c);
}

FWD(C_SignRecoverInit,
    (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE k), (h, m, k))
FWD(C_SignRecover,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_VerifyInit, (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE k),
    (h, m, k))
FWD(C_Verify,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *s, CK_ULONG sl),
    (h, d, dl, s, sl))
FWD(C_VerifyUpdate, (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl), (h, d, dl))
FWD(C_VerifyFinal, (CK_SESSION_HANDLE h, CK_BYTE *s, CK_ULONG sl), (h, s, sl))
FWD(C_VerifyRecoverInit,
    (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE k), (h, m, k))
FWD(C_VerifyRecover,
    (CK_SESSION_HANDLE h, CK_BYTE *s, CK_ULONG sl, CK_BYTE *o, CK_ULONG *ol),
    (h, s, sl, o, ol))
FWD(C_DigestEncryptUpdate,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_DecryptDigestUpdate,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_SignEncryptUpdate,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_DecryptVerifyUpdate,
    (CK_SESSION_HANDLE h, CK_BYTE *d, CK_ULONG dl, CK_BYTE *o, CK_ULONG *ol),
    (h, d, dl, o, ol))
FWD(C_GenerateKey,
    (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_ATTRIBUTE *t, CK_ULONG n,
     CK_OBJECT_HANDLE *ph),
    (h, m, t, n, ph))

static CK_RV m_C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM *m,
                                 CK_ATTRIBUTE *pub, CK_ULONG npub,
                                 CK_ATTRIBUTE *priv, CK_ULONG npriv,
                                 CK_OBJECT_HANDLE *phpub,
                                 CK_OBJECT_HANDLE *phpriv)
{
    struct mock_call c;

    call_start(&c, "C_GenerateKeyPair");
    if (m != NULL)
        call_detail(&c, "mech=0x%lx", (unsigned long)m->mechanism);
    if (!call_check(&c) && !refused(&c, pub, npub) &&
        !refused(&c, priv, npriv)) {
        if (!yk_generate_key_pair(&c, h, m, pub, npub, priv, npriv, phpub,
                                  phpriv))
            c.rv = T ? T->C_GenerateKeyPair(h, m, pub, npub, priv, npriv, phpub,
                                            phpriv)
                     : NOT_INIT;
    }
    return call_end(&c);
}

FWD(C_WrapKey,
    (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE wk,
     CK_OBJECT_HANDLE k, CK_BYTE *o, CK_ULONG *ol),
    (h, m, wk, k, o, ol))
FWD(C_UnwrapKey,
    (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE uk, CK_BYTE *w,
     CK_ULONG wl, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *ph),
    (h, m, uk, w, wl, t, n, ph))
FWD(C_DeriveKey,
    (CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE bk, CK_ATTRIBUTE *t,
     CK_ULONG n, CK_OBJECT_HANDLE *ph),
    (h, m, bk, t, n, ph))
FWD(C_SeedRandom, (CK_SESSION_HANDLE h, CK_BYTE *s, CK_ULONG sl), (h, s, sl))
FWD(C_GenerateRandom, (CK_SESSION_HANDLE h, CK_BYTE *r, CK_ULONG rl),
    (h, r, rl))
FWD(C_GetFunctionStatus, (CK_SESSION_HANDLE h), (h))
FWD(C_CancelFunction, (CK_SESSION_HANDLE h), (h))
FWD(C_WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved),
    (flags, slot, reserved))

#define E(name) .name = m_##name
static CK_FUNCTION_LIST function_list = {
    .version = {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
    E(C_Initialize),
    E(C_Finalize),
    E(C_GetInfo),
    E(C_GetFunctionList),
    E(C_GetSlotList),
    E(C_GetSlotInfo),
    E(C_GetTokenInfo),
    E(C_GetMechanismList),
    E(C_GetMechanismInfo),
    E(C_InitToken),
    E(C_InitPIN),
    E(C_SetPIN),
    E(C_OpenSession),
    E(C_CloseSession),
    E(C_CloseAllSessions),
    E(C_GetSessionInfo),
    E(C_GetOperationState),
    E(C_SetOperationState),
    E(C_Login),
    E(C_Logout),
    E(C_CreateObject),
    E(C_CopyObject),
    E(C_DestroyObject),
    E(C_GetObjectSize),
    E(C_GetAttributeValue),
    E(C_SetAttributeValue),
    E(C_FindObjectsInit),
    E(C_FindObjects),
    E(C_FindObjectsFinal),
    E(C_EncryptInit),
    E(C_Encrypt),
    E(C_EncryptUpdate),
    E(C_EncryptFinal),
    E(C_DecryptInit),
    E(C_Decrypt),
    E(C_DecryptUpdate),
    E(C_DecryptFinal),
    E(C_DigestInit),
    E(C_Digest),
    E(C_DigestUpdate),
    E(C_DigestKey),
    E(C_DigestFinal),
    E(C_SignInit),
    E(C_Sign),
    E(C_SignUpdate),
    E(C_SignFinal),
    E(C_SignRecoverInit),
    E(C_SignRecover),
    E(C_VerifyInit),
    E(C_Verify),
    E(C_VerifyUpdate),
    E(C_VerifyFinal),
    E(C_VerifyRecoverInit),
    E(C_VerifyRecover),
    E(C_DigestEncryptUpdate),
    E(C_DecryptDigestUpdate),
    E(C_SignEncryptUpdate),
    E(C_DecryptVerifyUpdate),
    E(C_GenerateKey),
    E(C_GenerateKeyPair),
    E(C_WrapKey),
    E(C_UnwrapKey),
    E(C_DeriveKey),
    E(C_SeedRandom),
    E(C_GenerateRandom),
    E(C_GetFunctionStatus),
    E(C_CancelFunction),
    E(C_WaitForSlotEvent)};
#undef E

/* The module's one export (PKCS#11 2.40 needs no C_GetInterface). */
__attribute__((visibility("default"))) CK_RV
C_GetFunctionList(CK_FUNCTION_LIST **list)
{
    return m_C_GetFunctionList(list);
}
