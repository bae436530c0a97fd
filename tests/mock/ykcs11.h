/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ykcs11.h - what ykcs11.c (state, info, sessions, attestation objects)
 * and ykcs11_rules.c (login, key generation, certificate write) share.
 * Everything here is used with yk_lock held.
 */
#ifndef P11E_MOCK_YKCS11_H
#define P11E_MOCK_YKCS11_H

#include <pthread.h>

#include "mock.h"
#define YK_MAX_SESSIONS 16   /* ykcs11/ykcs11.c YKCS11_MAX_SESSIONS */
#define YK_MAX_SLOTS    16   /* ykcs11/ykcs11.c YKCS11_MAX_SLOTS (2.2.0) */
#define YK_PIN_MIN      6    /* lib/ykpiv.h YKPIV_MIN_PIN_LEN */
#define YK_PIN_MAX      8    /* lib/ykpiv.h YKPIV_MAX_PIN_LEN */
#define YK_MGM_LEN      48   /* lib/ykpiv.h YKPIV_MGM_KEY_LEN (3DES, hex) */
#define YK_OBJ_MAX      3072 /* lib/ykpiv.h YKPIV_OBJ_MAX_SIZE */
#define YK_RETRIES      3    /* PIV default PIN retries */

/* ykcs11/ykcs11.h ykcs11_login_state_t */
enum { YK_PUBLIC, YK_USER, YK_SO };

struct yk_session {
    bool used;
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slot;
    bool rw;
    int op; /* 0 none, 1 sign, 2 decrypt */
};

struct yk_slot {
    bool used;
    CK_SLOT_ID id;
    int login;
    bool pin_ok;               /* the PIV PIN was verified (card state) */
    CK_OBJECT_HANDLE atst[26]; /* attestation object per id */
    CK_SESSION_HANDLE atst_holder[26]; /* the session it lives in */
};

extern pthread_mutex_t yk_lock;
extern int yk_pin_tries;
extern struct yk_session yk_sessions[YK_MAX_SESSIONS];
extern struct yk_slot yk_slots[YK_MAX_SLOTS];
extern const CK_BBOOL yk_true;

/* $name, or def when unset or empty. */
const char *yk_env_or(const char *name, const char *def);

/* The tracked session h, or NULL. */
struct yk_session *yk_find_session(CK_SESSION_HANDLE h);

/* The state of slot id (made on first use; NULL if the table is full). */
struct yk_slot *yk_get_slot(CK_SLOT_ID id);

/* PIV key reference (0x9c) of CKA_ID id, 0 if none. */
int yk_piv_slot(int id);

/* "Digital Signature" for id 2: the tail of ykcs11's fixed labels. */
void yk_slot_name(int id, char *buf, size_t size);

const CK_ATTRIBUTE *yk_attr_find(const CK_ATTRIBUTE *t, CK_ULONG n,
                                 CK_ATTRIBUTE_TYPE type);
bool yk_attr_ulong(const CK_ATTRIBUTE *a, CK_ULONG *pv);

/* First byte of a CKA_ID (all ykcs11 reads), 0 if empty. */
int yk_attr_id(const CK_ATTRIBUTE *a);

/* 1..25: an id ykcs11 has objects for. */
bool yk_valid_id(int id);

/* Up to max objects matching tmpl, through the real module. */
CK_ULONG yk_t_find(CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                   CK_OBJECT_HANDLE *objs, CK_ULONG max);

/* Destroy the token objects of class cls with one-byte CKA_ID id. */
void yk_t_destroy_id(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, int id);

/* Store certificate der (token or session object) with CKA_ID id. */
CK_RV yk_t_create_cert(CK_SESSION_HANDLE h, const unsigned char *der,
                       size_t len, int id, const char *label, bool token,
                       CK_OBJECT_HANDLE *pobj);

/* (Re)make the attestation object of key id (public key pubobj) in h. */
void yk_make_attestation(struct yk_slot *s, CK_SESSION_HANDLE h, int id,
                         CK_OBJECT_HANDLE pubobj);

/* The PIN retry counter kept beside the CA (3 when none is kept). */
int yk_load_pin_tries(void);
void yk_save_pin_tries(void);

/* refresh_attestations() for the slot of tracked session h. */
void yk_refresh_session(CK_SESSION_HANDLE h);

#endif
