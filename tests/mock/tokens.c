/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tokens.c - tokens that say no, and tokens far away.
 *
 * P11E_MOCK_REFUSE="CKA_NAME[=CKR_NAME],..."
 *   C_CreateObject and C_GenerateKeyPair refuse a template that holds one
 *   of these attributes (with any value), without reaching the real
 *   module, with the CKR_ given (default CKR_ATTRIBUTE_TYPE_INVALID): a
 *   token that does not support an optional attribute.  Numbers work too
 *   (0x90=0x13).
 * P11E_MOCK_HIDE_MECHS="CKM_NAME,..."
 *   C_GetMechanismList leaves these out, and C_GetMechanismInfo answers
 *   CKR_MECHANISM_INVALID for them: a token that cannot make a key type.
 * P11E_MOCK_DELAY_MS=N
 *   every call sleeps N ms first: a network HSM's round trip.
 * All three are read at every call.
 */
#include "mock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name;
    unsigned long value;
} names[] = {
    {"CKA_CLASS", CKA_CLASS},
    {"CKA_TOKEN", CKA_TOKEN},
    {"CKA_PRIVATE", CKA_PRIVATE},
    {"CKA_LABEL", CKA_LABEL},
    {"CKA_VALUE", CKA_VALUE},
    {"CKA_CERTIFICATE_TYPE", CKA_CERTIFICATE_TYPE},
    {"CKA_ISSUER", CKA_ISSUER},
    {"CKA_SERIAL_NUMBER", CKA_SERIAL_NUMBER},
    {"CKA_CERTIFICATE_CATEGORY", CKA_CERTIFICATE_CATEGORY},
    {"CKA_PUBLIC_KEY_INFO", CKA_PUBLIC_KEY_INFO},
    {"CKA_ID", CKA_ID},
    {"CKA_SUBJECT", CKA_SUBJECT},
    {"CKA_SENSITIVE", CKA_SENSITIVE},
    {"CKA_DECRYPT", CKA_DECRYPT},
    {"CKA_SIGN", CKA_SIGN},
    {"CKA_VERIFY", CKA_VERIFY},
    {"CKA_EXTRACTABLE", CKA_EXTRACTABLE},
    {"CKA_ALWAYS_AUTHENTICATE", CKA_ALWAYS_AUTHENTICATE},
    {"CKM_RSA_PKCS_KEY_PAIR_GEN", CKM_RSA_PKCS_KEY_PAIR_GEN},
    {"CKM_RSA_PKCS", CKM_RSA_PKCS},
    {"CKM_EC_KEY_PAIR_GEN", CKM_EC_KEY_PAIR_GEN},
    {"CKM_ECDSA", CKM_ECDSA},
};

/* The value of the name or number of len bytes at s. */
static bool parse_name(const char *s, size_t len, unsigned long *pv)
{
    char tmp[64], *end;
    size_t i;

    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (tmp[0] >= '0' && tmp[0] <= '9') {
        *pv = strtoul(tmp, &end, 0);
        return *end == '\0';
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i].name, tmp) == 0) {
            *pv = names[i].value;
            return true;
        }
    }
    mock_warn("unknown name \"%s\"", tmp);
    return false;
}

/* Call fn for each "NAME[=CKR]" item of the list in variable var, until
 * it returns true. */
static bool each_item(const char *var,
                      bool (*fn)(unsigned long v, CK_RV rv, void *arg),
                      void *arg)
{
    const char *p = getenv(var), *item, *eq;
    unsigned long v;
    CK_RV rv;
    size_t len;

    while (p != NULL && *p != '\0') {
        item = p;
        len = strcspn(p, ",");
        p += len;
        if (*p == ',')
            p++;
        eq = memchr(item, '=', len);
        rv = CKR_ATTRIBUTE_TYPE_INVALID;
        if (eq != NULL &&
            !mock_ckr_parse(eq + 1, len - (size_t)(eq + 1 - item), &rv))
            continue;
        if (parse_name(item, eq != NULL ? (size_t)(eq - item) : len, &v) &&
            fn(v, rv, arg))
            return true;
    }
    return false;
}

struct refuse_arg {
    const CK_ATTRIBUTE *t;
    CK_ULONG n;
    CK_RV rv;
    CK_ATTRIBUTE_TYPE type;
};

static bool refuse_one(unsigned long v, CK_RV rv, void *arg)
{
    struct refuse_arg *a = arg;
    CK_ULONG i;

    for (i = 0; i < a->n; i++) {
        if (a->t[i].type == v) {
            a->rv = rv;
            a->type = v;
            return true;
        }
    }
    return false;
}

CK_RV mock_refused(const CK_ATTRIBUTE *t, CK_ULONG n, const char **pname)
{
    struct refuse_arg a = {t, n, CKR_OK, 0};
    size_t i;

    *pname = NULL;
    if (t == NULL || !each_item("P11E_MOCK_REFUSE", refuse_one, &a))
        return CKR_OK;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].value == a.type && strncmp(names[i].name, "CKA_", 4) == 0)
            *pname = names[i].name;
    if (*pname == NULL)
        *pname = "attribute";
    return a.rv;
}

static bool same_mech(unsigned long v, CK_RV rv, void *arg)
{
    (void)rv;
    return v == *(const CK_MECHANISM_TYPE *)arg;
}

bool mock_mech_hidden(CK_MECHANISM_TYPE mech)
{
    return each_item("P11E_MOCK_HIDE_MECHS", same_mech, &mech);
}

void mock_delay(void)
{
    const char *s = getenv("P11E_MOCK_DELAY_MS");
    long ms = s != NULL ? strtol(s, NULL, 10) : 0;
    struct timespec ts;

    if (ms <= 0 || ms > 10000)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}
