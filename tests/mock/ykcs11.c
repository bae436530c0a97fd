/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ykcs11.c - P11E_MOCK_YKCS11=1: behave like Yubico's ykcs11 2.2.0 (the
 * version Debian bookworm ships) on top of a SoftHSM token.
 *
 * Every rule cites where it comes from in Yubico/yubico-piv-tool at tag
 * yubico-piv-tool-2.2.0 (read from the source, see also
 * docs/tokens.md).  How it maps onto SoftHSM:
 * - The SoftHSM token's user PIN is the PIV PIN ($P11E_MOCK_YKCS11_PIN,
 *   default 123456).  C_Login(CKU_SO, management key) is checked here
 *   against $P11E_MOCK_YKCS11_MGMKEY (default 0102..08 x3) and becomes a
 *   SoftHSM user login with that PIN; the login state ykcs11 keeps per
 *   slot (PUBLIC, USER, SO) is kept here.
 * - Keys are SoftHSM token objects with one-byte CKA_IDs 1..25 and
 *   ykcs11's fixed labels; 9c (id 2) keys carry CKA_ALWAYS_AUTHENTICATE,
 *   which SoftHSM enforces.  A slot's certificate is a token object; the
 *   attestation certificate is a session object made in the session that
 *   generated the key or (again) in any session that searches objects.
 * Not emulated: private key import, PIN/PUK change, touch, metadata.
 */
#include "mock.h"
#include "ykcs11.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define T mock_target

pthread_mutex_t yk_lock = PTHREAD_MUTEX_INITIALIZER;
static bool enabled;
int yk_pin_tries = YK_RETRIES;
struct yk_session yk_sessions[YK_MAX_SESSIONS];
struct yk_slot yk_slots[YK_MAX_SLOTS];

const CK_BBOOL yk_true = CK_TRUE;

bool yk_enabled(void)
{
    return enabled;
}

const char *yk_env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : def;
}

/* Pad a fixed-width PKCS#11 string field with blanks. */
static void pad(CK_UTF8CHAR *field, size_t width, const char *s)
{
    size_t len = strlen(s);

    memset(field, ' ', width);
    memcpy(field, s, len < width ? len : width);
}

struct yk_session *yk_find_session(CK_SESSION_HANDLE h)
{
    for (size_t i = 0; i < YK_MAX_SESSIONS; i++)
        if (yk_sessions[i].used && yk_sessions[i].h == h)
            return &yk_sessions[i];
    return NULL;
}

struct yk_slot *yk_get_slot(CK_SLOT_ID id)
{
    struct yk_slot *free_slot = NULL;

    for (size_t i = 0; i < YK_MAX_SLOTS; i++) {
        if (yk_slots[i].used && yk_slots[i].id == id)
            return &yk_slots[i];
        if (!yk_slots[i].used && free_slot == NULL)
            free_slot = &yk_slots[i];
    }
    if (free_slot != NULL) {
        memset(free_slot, 0, sizeof(*free_slot));
        free_slot->used = true;
        free_slot->id = id;
    }
    return free_slot;
}

/* The PIV key reference of CKA_ID id (ykcs11/objects.c piv_objects):
 * 1..4 = 9a 9c 9d 9e, 5..24 = retired 82..95, 25 = f9. */
int yk_piv_slot(int id)
{
    static const int first[] = {0, 0x9a, 0x9c, 0x9d, 0x9e};

    if (id >= 1 && id <= 4)
        return first[id];
    if (id >= 5 && id <= 24)
        return 0x82 + (id - 5);
    return id == 25 ? 0xf9 : 0;
}

/* "Digital Signature" for id 2 (ykcs11/objects.c piv_objects labels). */
void yk_slot_name(int id, char *buf, size_t size)
{
    static const char *const names[] = {"", "PIV Authentication",
                                        "Digital Signature", "Key Management",
                                        "Card Authentication"};

    if (id >= 1 && id <= 4)
        snprintf(buf, size, "%s", names[id]);
    else if (id >= 5 && id <= 24)
        snprintf(buf, size, "Retired Key %d", id - 4);
    else
        snprintf(buf, size, "PIV Attestation");
}

const CK_ATTRIBUTE *yk_attr_find(const CK_ATTRIBUTE *t, CK_ULONG n,
                                 CK_ATTRIBUTE_TYPE type)
{
    for (CK_ULONG i = 0; t != NULL && i < n; i++)
        if (t[i].type == type)
            return &t[i];
    return NULL;
}

bool yk_attr_ulong(const CK_ATTRIBUTE *a, CK_ULONG *pv)
{
    if (a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))
        return false;
    memcpy(pv, a->pValue, sizeof(*pv));
    return true;
}

/* ykcs11 reads only the first byte of a CKA_ID (objects.c
 * check_create_cert, mechanisms.c check_*_template); 0 = none. */
int yk_attr_id(const CK_ATTRIBUTE *a)
{
    if (a->pValue == NULL || a->ulValueLen < 1)
        return 0;
    return *(const CK_BYTE *)a->pValue;
}

/* A CKA_ID ykcs11 has objects for: 1..25 (objects.c find_*_object). */
bool yk_valid_id(int id)
{
    return id >= 1 && id <= 25;
}

/* Up to max objects matching tmpl, straight from the real module. */
CK_ULONG yk_t_find(CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                   CK_OBJECT_HANDLE *objs, CK_ULONG max)
{
    CK_ULONG got = 0;

    if (T->C_FindObjectsInit(h, tmpl, n) != CKR_OK)
        return 0;
    if (T->C_FindObjects(h, objs, max, &got) != CKR_OK)
        got = 0;
    T->C_FindObjectsFinal(h);
    return got;
}

/* Destroy the token objects of class cls with one-byte CKA_ID id. */
void yk_t_destroy_id(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, int id)
{
    CK_BYTE idv = (CK_BYTE)id;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_ID, &idv, 1},
                           {CKA_TOKEN, (void *)(size_t)&yk_true, 1}};
    CK_OBJECT_HANDLE objs[16];
    CK_ULONG got = yk_t_find(h, tmpl, 3, objs, 16);

    for (CK_ULONG i = 0; i < got; i++)
        T->C_DestroyObject(h, objs[i]);
}

/* Store certificate der as an object with one-byte CKA_ID id. */
CK_RV yk_t_create_cert(CK_SESSION_HANDLE h, const unsigned char *der,
                       size_t len, int id, const char *label, bool token,
                       CK_OBJECT_HANDLE *pobj)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_BYTE idv = (CK_BYTE)id;
    CK_BBOOL tok = token ? CK_TRUE : CK_FALSE, priv = CK_FALSE;
    unsigned char *subj = NULL, *issuer = NULL, *serial = NULL;
    size_t sl = 0, il = 0, nl = 0;
    CK_RV rv =
        att_cert_fields(der, len, &subj, &sl, &issuer, &il, &serial, &nl);

    if (rv == CKR_OK) {
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
            {CKA_TOKEN, &tok, sizeof(tok)},
            {CKA_PRIVATE, &priv, sizeof(priv)},
            {CKA_ID, &idv, 1},
            {CKA_LABEL, (void *)(size_t)label, strlen(label)},
            {CKA_SUBJECT, subj, sl},
            {CKA_ISSUER, issuer, il},
            {CKA_SERIAL_NUMBER, serial, nl},
            {CKA_VALUE, (void *)(size_t)der, len},
        };
        rv = T->C_CreateObject(h, t, sizeof(t) / sizeof(t[0]), pobj);
    }
    OPENSSL_free(subj);
    OPENSSL_free(issuer);
    OPENSSL_free(serial);
    return rv;
}

/* The f9 certificate is always on a YubiKey (CKA_ID 25, token object,
 * label "X.509 Certificate for PIV Attestation"; objects.c piv_objects,
 * doc/YKCS11 "Attestation Certificates"). */
static void ensure_f9(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE h;
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_BYTE id = 25;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, &id, 1}};
    CK_OBJECT_HANDLE obj;
    unsigned char *der = NULL;
    size_t len = 0;

    if (T->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                         &h) != CKR_OK)
        return;
    if (yk_t_find(h, tmpl, 2, &obj, 1) == 0 && att_f9_cert(&der, &len) == 0 &&
        yk_t_create_cert(h, der, len, 25,
                         "X.509 Certificate for PIV Attestation", true,
                         &obj) != CKR_OK)
        mock_warn("ykcs11: cannot write the f9 certificate");
    OPENSSL_free(der);
    T->C_CloseSession(h);
}

void yk_initialize(void)
{
    CK_SLOT_ID list[YK_MAX_SLOTS];
    CK_ULONG n = YK_MAX_SLOTS;

    pthread_mutex_lock(&yk_lock);
    enabled = strcmp(yk_env_or("P11E_MOCK_YKCS11", "0"), "1") == 0;
    memset(yk_sessions, 0, sizeof(yk_sessions));
    memset(yk_slots, 0, sizeof(yk_slots));
    yk_pin_tries = yk_load_pin_tries();
    if (enabled && T->C_GetSlotList(CK_TRUE, list, &n) == CKR_OK)
        for (CK_ULONG i = 0; i < n; i++)
            ensure_f9(list[i]);
    pthread_mutex_unlock(&yk_lock);
}

/* The card keeps its PIN retry counter: so does the mock, in the file
 * "<CA dir>.pin-tries" next to the test manufacturer CA. */
static void pin_tries_path(char *buf, size_t size)
{
    snprintf(buf, size, "%s.pin-tries", att_ca_dir());
}

int yk_load_pin_tries(void)
{
    char path[PATH_MAX + 16];
    FILE *fp;
    int n = YK_RETRIES;

    pin_tries_path(path, sizeof(path));
    if ((fp = fopen(path, "r")) != NULL) {
        if (fscanf(fp, "%d", &n) != 1 || n < 0 || n > YK_RETRIES)
            n = YK_RETRIES;
        fclose(fp);
    }
    return n;
}

void yk_save_pin_tries(void)
{
    char path[PATH_MAX + 16];
    FILE *fp;

    pin_tries_path(path, sizeof(path));
    if (yk_pin_tries == YK_RETRIES) {
        unlink(path);
    } else if ((fp = fopen(path, "w")) != NULL) {
        fprintf(fp, "%d\n", yk_pin_tries);
        fclose(fp);
    }
}

void yk_finalize(void)
{
    pthread_mutex_lock(&yk_lock);
    memset(yk_sessions, 0, sizeof(yk_sessions));
    memset(yk_slots, 0, sizeof(yk_slots));
    pthread_mutex_unlock(&yk_lock);
    att_release();
}

/* ykcs11/ykcs11.c C_GetInfo: YKCS11_MANUFACTURER, YKCS11_LIBDESC, version
 * major.(minor*10+patch) = 2.20 for 2.2.0. */
void yk_get_info(CK_INFO *info)
{
    if (!enabled)
        return;
    pad(info->manufacturerID, sizeof(info->manufacturerID),
        "Yubico (www.yubico.com)");
    pad(info->libraryDescription, sizeof(info->libraryDescription),
        "PKCS#11 PIV Library (SP-800-73)");
    info->libraryVersion.major = 2;
    info->libraryVersion.minor = 20;
    info->cryptokiVersion.major = 2;
    info->cryptokiVersion.minor = 40;
    info->flags = 0;
}

/* ykcs11/ykcs11.c C_GetSlotList: the reader name, hardware 1.0. */
void yk_get_slot_info(CK_SLOT_INFO *info)
{
    if (!enabled)
        return;
    pad(info->slotDescription, sizeof(info->slotDescription),
        "Yubico YubiKey OTP+FIDO+CCID 00 00");
    pad(info->manufacturerID, sizeof(info->manufacturerID),
        "Yubico (www.yubico.com)");
    info->flags =
        CKF_HW_SLOT | CKF_REMOVABLE_DEVICE | (info->flags & CKF_TOKEN_PRESENT);
    info->hardwareVersion.major = info->firmwareVersion.major = 1;
    info->hardwareVersion.minor = info->firmwareVersion.minor = 0;
}

/* ykcs11/ykcs11.c C_GetSlotList + C_GetTokenInfo, token.c get_token_*:
 * model "YubiKey YK5", serial as decimal, firmware 5.4.3 as 5.43, PIN
 * 6..48 (the max is the management key length), retry flags from the
 * PIN counter.  The label stays SoftHSM's, so tests find it as before
 * (a real one says "YubiKey PIV #<serial>"). */
void yk_get_token_info(CK_TOKEN_INFO *info)
{
    if (!enabled)
        return;
    pad(info->manufacturerID, sizeof(info->manufacturerID),
        "Yubico (www.yubico.com)");
    pad(info->model, sizeof(info->model), "YubiKey YK5");
    pad(info->serialNumber, sizeof(info->serialNumber),
        yk_env_or("P11E_MOCK_YKCS11_SERIAL", "12345678"));
    info->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
                  CKF_TOKEN_INITIALIZED;
    pthread_mutex_lock(&yk_lock);
    yk_pin_tries = yk_load_pin_tries();
    if (yk_pin_tries == 0)
        info->flags |= CKF_USER_PIN_LOCKED;
    else if (yk_pin_tries == 1)
        info->flags |= CKF_USER_PIN_FINAL_TRY;
    else if (yk_pin_tries == 2)
        info->flags |= CKF_USER_PIN_COUNT_LOW;
    pthread_mutex_unlock(&yk_lock);
    info->ulMaxSessionCount = info->ulMaxRwSessionCount = YK_MAX_SESSIONS;
    info->ulMinPinLen = YK_PIN_MIN;
    info->ulMaxPinLen = YK_MGM_LEN;
    info->ulTotalPublicMemory = info->ulFreePublicMemory =
        CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = info->ulFreePrivateMemory =
        CK_UNAVAILABLE_INFORMATION;
    info->hardwareVersion.major = 1;
    info->hardwareVersion.minor = 0;
    info->firmwareVersion.major = 5;
    info->firmwareVersion.minor = 43;
    memset(info->utcTime, ' ', sizeof(info->utcTime));
}

/* ykcs11/token.c token_mechanisms (tag 2.2.0): RSA 1024..2048, EC
 * 256..384. */
static const struct {
    CK_MECHANISM_TYPE type;
    CK_ULONG min, max;
    CK_FLAGS flags;
} mechs[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, 1024, 2048, CKF_HW | CKF_GENERATE_KEY_PAIR},
    {CKM_RSA_PKCS, 1024, 2048,
     CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY},
    {CKM_RSA_PKCS_PSS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_RSA_PKCS_OAEP, 1024, 2048, CKF_HW | CKF_ENCRYPT | CKF_DECRYPT},
    {CKM_RSA_X_509, 1024, 2048,
     CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA1_RSA_PKCS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA256_RSA_PKCS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA384_RSA_PKCS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA512_RSA_PKCS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA1_RSA_PKCS_PSS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA256_RSA_PKCS_PSS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA384_RSA_PKCS_PSS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_SHA512_RSA_PKCS_PSS, 1024, 2048, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_EC_KEY_PAIR_GEN, 256, 384, CKF_HW | CKF_GENERATE_KEY_PAIR},
    {CKM_ECDSA, 256, 384, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_ECDSA_SHA1, 256, 384, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_ECDSA_SHA224, 256, 384, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_ECDSA_SHA256, 256, 384, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_ECDSA_SHA384, 256, 384, CKF_HW | CKF_SIGN | CKF_VERIFY},
    {CKM_ECDH1_DERIVE, 256, 384, CKF_HW | CKF_DERIVE},
    {CKM_SHA_1, 0, 0, CKF_DIGEST},
    {CKM_SHA256, 0, 0, CKF_DIGEST},
    {CKM_SHA384, 0, 0, CKF_DIGEST},
    {CKM_SHA512, 0, 0, CKF_DIGEST},
};
#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

bool yk_mechanism_list(struct mock_call *c, CK_SLOT_ID slot,
                       CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
    CK_ULONG dummy = 0;

    if (!enabled)
        return false;
    c->rv = T->C_GetMechanismList(slot, NULL, &dummy); /* slot valid? */
    if (c->rv != CKR_OK)
        return true;
    if (count == NULL) {
        c->rv = CKR_ARGUMENTS_BAD;
        return true;
    }
    if (list != NULL && *count < N_MECHS)
        c->rv = CKR_BUFFER_TOO_SMALL;
    else if (list != NULL)
        for (size_t i = 0; i < N_MECHS; i++)
            list[i] = mechs[i].type;
    *count = N_MECHS;
    return true;
}

bool yk_mechanism_info(struct mock_call *c, CK_SLOT_ID slot,
                       CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    CK_ULONG dummy = 0;

    if (!enabled)
        return false;
    c->rv = T->C_GetMechanismList(slot, NULL, &dummy);
    if (c->rv != CKR_OK)
        return true;
    c->rv = CKR_MECHANISM_INVALID;
    for (size_t i = 0; i < N_MECHS && info != NULL; i++) {
        if (mechs[i].type == type) {
            info->ulMinKeySize = mechs[i].min;
            info->ulMaxKeySize = mechs[i].max;
            info->flags = mechs[i].flags;
            c->rv = CKR_OK;
        }
    }
    return true;
}

/* The attestation certificate of key id, made anew in session h
 * (ykcs11/ykcs11.c C_OpenSession and C_GenerateKeyPair call
 * ykpiv_attest; objects.c: CKO_CERTIFICATE, CKA_TOKEN FALSE, the key's
 * CKA_ID, label "X.509 Certificate for PIV Attestation 9c").  Keys 1..24
 * only: f9 (25) has no attestation object.  Called with yk_lock held. */
void yk_make_attestation(struct yk_slot *s, CK_SESSION_HANDLE h, int id,
                         CK_OBJECT_HANDLE pubobj)
{
    EVP_PKEY *pub = NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    char label[64];
    CK_OBJECT_HANDLE obj;

    if (id < 1 || id > 24)
        return;
    if (s->atst[id] != CK_INVALID_HANDLE &&
        yk_find_session(s->atst_holder[id]) != NULL)
        T->C_DestroyObject(s->atst_holder[id], s->atst[id]);
    s->atst[id] = CK_INVALID_HANDLE;
    snprintf(label, sizeof(label), "X.509 Certificate for PIV Attestation %02x",
             yk_piv_slot(id));
    if (att_token_pubkey(h, pubobj, &pub) == CKR_OK &&
        att_make_cert('a', yk_piv_slot(id), pub, &der, &len) == CKR_OK &&
        yk_t_create_cert(h, der, len, id, label, false, &obj) == CKR_OK) {
        s->atst[id] = obj;
        s->atst_holder[id] = h;
    }
    EVP_PKEY_free(pub);
    OPENSSL_free(der);
}

/* Make sure every key slot's attestation object exists in a session that
 * is still open; new ones go into h.  Called with yk_lock held. */
static void refresh_attestations(CK_SLOT_ID slot, CK_SESSION_HANDLE h)
{
    struct yk_slot *s = yk_get_slot(slot);
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_TOKEN, (void *)(size_t)&yk_true, 1}};
    CK_OBJECT_HANDLE objs[64];
    CK_ULONG got;

    if (s == NULL)
        return;
    got = yk_t_find(h, tmpl, 2, objs, 64);
    for (CK_ULONG i = 0; i < got; i++) {
        CK_BYTE idv[8];
        CK_ATTRIBUTE a = {CKA_ID, idv, sizeof(idv)};
        if (T->C_GetAttributeValue(h, objs[i], &a, 1) != CKR_OK ||
            a.ulValueLen != 1 || idv[0] < 1 || idv[0] > 24)
            continue;
        if (s->atst[idv[0]] != CK_INVALID_HANDLE &&
            yk_find_session(s->atst_holder[idv[0]]) != NULL)
            continue;
        yk_make_attestation(s, h, idv[0], objs[i]);
    }
}

void yk_refresh_session(CK_SESSION_HANDLE h)
{
    struct yk_session *s = yk_find_session(h);

    if (s != NULL)
        refresh_attestations(s->slot, h);
}

bool yk_open_session(struct mock_call *c, CK_SLOT_ID slot, CK_FLAGS flags,
                     void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *ph)
{
    struct yk_session *free_s = NULL;

    if (!enabled)
        return false;
    c->note = "[ykcs11]";
    if (ph == NULL) {
        c->rv = CKR_ARGUMENTS_BAD;
        return true;
    }
    /* ykcs11.c C_OpenSession: "Required by specs" */
    if (!(flags & CKF_SERIAL_SESSION)) {
        c->rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
        return true;
    }
    pthread_mutex_lock(&yk_lock);
    for (size_t i = 0; i < YK_MAX_SESSIONS && free_s == NULL; i++)
        if (!yk_sessions[i].used)
            free_s = &yk_sessions[i];
    /* ykcs11.c C_OpenSession: get_free_session() == NULL */
    if (free_s == NULL) {
        c->rv = CKR_SESSION_COUNT;
        goto out;
    }
    c->rv = T->C_OpenSession(slot, flags, app, notify, ph);
    if (c->rv != CKR_OK)
        goto out;
    c->note = NULL;
    free_s->used = true;
    free_s->h = *ph;
    free_s->slot = slot;
    free_s->rw = (flags & CKF_RW_SESSION) != 0;
    free_s->op = 0;
    refresh_attestations(slot, *ph);
out:
    pthread_mutex_unlock(&yk_lock);
    return true;
}

/* ykcs11.c C_CloseSession/C_CloseAllSessions: the last session of a slot
 * takes the login state with it (cleanup_slot).  yk_lock held. */
static void forget_session(struct yk_session *s)
{
    CK_SLOT_ID slot = s->slot;
    bool others = false;

    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < YK_MAX_SESSIONS; i++)
        if (yk_sessions[i].used && yk_sessions[i].slot == slot)
            others = true;
    if (!others) {
        struct yk_slot *ys = yk_get_slot(slot);
        if (ys != NULL) {
            ys->login = YK_PUBLIC;
            ys->pin_ok = false;
            memset(ys->atst, 0, sizeof(ys->atst));
        }
    }
}

bool yk_close_session(struct mock_call *c, CK_SESSION_HANDLE h)
{
    struct yk_session *s;

    if (!enabled)
        return false;
    pthread_mutex_lock(&yk_lock);
    c->rv = T->C_CloseSession(h);
    if (c->rv == CKR_OK && (s = yk_find_session(h)) != NULL)
        forget_session(s);
    pthread_mutex_unlock(&yk_lock);
    return true;
}

bool yk_close_all_sessions(struct mock_call *c, CK_SLOT_ID slot)
{
    if (!enabled)
        return false;
    pthread_mutex_lock(&yk_lock);
    c->rv = T->C_CloseAllSessions(slot);
    for (size_t i = 0; c->rv == CKR_OK && i < YK_MAX_SESSIONS; i++)
        if (yk_sessions[i].used && yk_sessions[i].slot == slot)
            forget_session(&yk_sessions[i]);
    pthread_mutex_unlock(&yk_lock);
    return true;
}

void yk_operation(CK_SESSION_HANDLE h, int op)
{
    struct yk_session *s;

    pthread_mutex_lock(&yk_lock);
    if (enabled && (s = yk_find_session(h)) != NULL)
        s->op = op;
    pthread_mutex_unlock(&yk_lock);
}

bool yk_session_info(struct mock_call *c, CK_SESSION_HANDLE h,
                     CK_SESSION_INFO *info)
{
    struct yk_session *s;
    struct yk_slot *ys;

    if (!enabled)
        return false;
    c->rv = T->C_GetSessionInfo(h, info);
    pthread_mutex_lock(&yk_lock);
    if (c->rv == CKR_OK && (s = yk_find_session(h)) != NULL &&
        (ys = yk_get_slot(s->slot)) != NULL) {
        /* ykcs11.c C_GetSessionInfo: state from the slot's login state */
        if (ys->login == YK_SO)
            info->state = CKS_RW_SO_FUNCTIONS;
        else if (ys->login == YK_USER)
            info->state = s->rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
        else
            info->state = s->rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    }
    pthread_mutex_unlock(&yk_lock);
    return true;
}
