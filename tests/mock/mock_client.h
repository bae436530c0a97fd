/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mock_client.h - what the mock's own tests (tests/softhsm/test_mock_*.c)
 * share: load $P11E_MOCK with dlopen, find a token by label, log in, make
 * an EC key, count objects.  Header-only (static inline) because every
 * test_*.c is its own program.  A failed step fails the test.
 */
#ifndef P11E_MOCK_CLIENT_H
#define P11E_MOCK_CLIENT_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "harness.h"

#define MC_CHECK_RV(expr, want)                                                \
    do {                                                                       \
        CK_RV mc_rv_ = (expr);                                                 \
        if (mc_rv_ != (CK_RV)(want))                                           \
            harness_fail(__FILE__, __LINE__, "%s == 0x%lx, expected 0x%lx",    \
                         #expr, (unsigned long)mc_rv_, (unsigned long)(want)); \
    } while (0)

struct mc {
    void *dl;
    CK_FUNCTION_LIST *f;
};

/* dlopen $P11E_MOCK (SKIP when the build has no mock). */
static inline void mc_load(struct mc *m)
{
    const char *path = getenv("P11E_MOCK");
    CK_C_GetFunctionList get;

    memset(m, 0, sizeof(*m));
    if (path == NULL || path[0] == '\0')
        harness_skip("P11E_MOCK is not set");
    m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (m->dl == NULL)
        harness_fail(__FILE__, __LINE__, "dlopen %s: %s", path, dlerror());
    *(void **)(&get) = dlsym(m->dl, "C_GetFunctionList");
    if (get == NULL || get(&m->f) != CKR_OK)
        harness_fail(__FILE__, __LINE__, "C_GetFunctionList");
}

/* C_Finalize (result ignored) and dlclose. */
static inline void mc_unload(struct mc *m)
{
    if (m->f != NULL)
        m->f->C_Finalize(NULL);
    if (m->dl != NULL)
        dlclose(m->dl);
    memset(m, 0, sizeof(*m));
}

static inline CK_RV mc_init(struct mc *m)
{
    CK_C_INITIALIZE_ARGS args;

    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    return m->f->C_Initialize(&args);
}

/* The slot whose token has this label; CKR_TOKEN_NOT_PRESENT if none. */
static inline CK_RV mc_find_slot(struct mc *m, const char *label,
                                 CK_SLOT_ID *pslot)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_TOKEN_INFO ti;
    size_t len = strlen(label);
    CK_RV rv = m->f->C_GetSlotList(CK_TRUE, slots, &n);

    if (rv != CKR_OK)
        return rv;
    for (CK_ULONG i = 0; i < n; i++) {
        if (m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        if (memcmp(ti.label, label, len) == 0 &&
            (len == 32 || ti.label[len] == ' ')) {
            *pslot = slots[i];
            return CKR_OK;
        }
    }
    return CKR_TOKEN_NOT_PRESENT;
}

/* Open a session on the token labelled label (rw or not). */
static inline CK_RV mc_open(struct mc *m, const char *label, int rw,
                            CK_SESSION_HANDLE *ph)
{
    CK_SLOT_ID slot;
    CK_RV rv = mc_find_slot(m, label, &slot);

    if (rv != CKR_OK)
        return rv;
    return m->f->C_OpenSession(
        slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL, ph);
}

static inline CK_RV mc_login(struct mc *m, CK_SESSION_HANDLE h,
                             CK_USER_TYPE user, const char *pin)
{
    char buf[128];

    snprintf(buf, sizeof(buf), "%s", pin);
    return m->f->C_Login(h, user, (CK_UTF8CHAR *)buf, strlen(buf));
}

/* DER OIDs of the curves ykcs11 takes. */
static const CK_BYTE mc_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                  0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE mc_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

/* Generate an EC P-256 token key pair with this one-byte CKA_ID, using a
 * template SoftHSM and ykcs11 both accept. */
static inline CK_RV mc_gen_ec(struct mc *m, CK_SESSION_HANDLE h, CK_BYTE id,
                              CK_OBJECT_HANDLE *ppub, CK_OBJECT_HANDLE *ppriv)
{
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_BBOOL yes = CK_TRUE;
    CK_BYTE params[sizeof(mc_p256)];
    CK_BYTE idv = id;
    CK_ATTRIBUTE pub[] = {
        {CKA_EC_PARAMS, params, sizeof(params)},
        {CKA_ID, &idv, 1},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_VERIFY, &yes, sizeof(yes)},
    };
    CK_ATTRIBUTE priv[] = {
        {CKA_ID, &idv, 1},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_SIGN, &yes, sizeof(yes)},
    };

    memcpy(params, mc_p256, sizeof(params));
    return m->f->C_GenerateKeyPair(h, &mech, pub, 4, priv, 5, ppub, ppriv);
}

/* Sign a 32-byte digest with CKM_ECDSA; *psiglen gets the length. */
static inline CK_RV mc_sign(struct mc *m, CK_SESSION_HANDLE h,
                            CK_OBJECT_HANDLE key, CK_BYTE *sig,
                            CK_ULONG *psiglen)
{
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    CK_BYTE digest[32];
    CK_RV rv;

    memset(digest, 0x5a, sizeof(digest));
    rv = m->f->C_SignInit(h, &mech, key);
    if (rv != CKR_OK)
        return rv;
    return m->f->C_Sign(h, digest, sizeof(digest), sig, psiglen);
}

/* How many objects match tmpl (-1 on error). */
static inline long mc_count(struct mc *m, CK_SESSION_HANDLE h,
                            CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    CK_OBJECT_HANDLE objs[64];
    CK_ULONG got = 0;

    if (m->f->C_FindObjectsInit(h, tmpl, n) != CKR_OK)
        return -1;
    if (m->f->C_FindObjects(h, objs, 64, &got) != CKR_OK)
        got = (CK_ULONG)-1;
    m->f->C_FindObjectsFinal(h);
    return (long)got;
}

/* The first object matching tmpl, or CK_INVALID_HANDLE. */
static inline CK_OBJECT_HANDLE mc_find(struct mc *m, CK_SESSION_HANDLE h,
                                       CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    CK_ULONG got = 0;

    if (m->f->C_FindObjectsInit(h, tmpl, n) != CKR_OK)
        return CK_INVALID_HANDLE;
    if (m->f->C_FindObjects(h, &obj, 1, &got) != CKR_OK || got != 1)
        obj = CK_INVALID_HANDLE;
    m->f->C_FindObjectsFinal(h);
    return obj;
}

/* A whole small file, NUL-terminated, malloc'ed (NULL if absent). */
static inline char *mc_slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t n;

    if (fp == NULL)
        return NULL;
    buf = calloc(1, 1 << 20);
    if (buf != NULL) {
        n = fread(buf, 1, (1 << 20) - 1, fp);
        buf[n] = '\0';
    }
    fclose(fp);
    return buf;
}

#endif
