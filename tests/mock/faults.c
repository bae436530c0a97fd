/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults.c - which calls fail, the "device removed" state, the call log.
 *
 * The mock (libp11e_mock.so) forwards every PKCS#11 call to a real module
 * ($P11E_MOCK_TARGET, default: SoftHSM) and fails only what it is told to.
 *
 * P11E_MOCK_FAIL="ENTRY;ENTRY;..."   (read at every C_Initialize)
 *   ENTRY  = FUNC=RV[@N|@N+][!once][!gone][!after]
 *   FUNC   = a PKCS#11 function name (C_Login), or * for any function
 *   RV     = a CKR_ name (CKR_PIN_INCORRECT) or a number (0x32)
 *   (none) every call of FUNC fails
 *   @N     only the Nth call of FUNC (1-based) fails
 *   @N+    the Nth call and every later one fail
 *   Calls are counted per function (for * across all functions; when the
 *   count restarts: below); the first entry that matches a call wins.
 *   A failing call returns RV WITHOUT reaching the real module (a failed
 *   C_CreateObject creates nothing), unless:
 *   !after the call is forwarded first and its result replaced by RV: the
 *          token did the work but the answer was lost.
 *   An injected CKR_DEVICE_REMOVED also pulls the device: every later call
 *   returns CKR_DEVICE_REMOVED until the application calls C_Finalize and
 *   a C_Initialize that succeeds (the re-plug); C_Finalize and C_Initialize
 *   themselves are forwarded.  The call counters go on across a re-plug,
 *   so "C_CreateObject=CKR_DEVICE_REMOVED@2" fails the 2nd write once and
 *   the write after the re-plug (the 3rd) reaches the token.
 *   !once  CKR_DEVICE_REMOVED fails just that call; no removed state.
 *   !gone  the device never comes back: after the re-plug C_GetSlotList
 *          reports 0 slots (like p11-kit's client with its server down)
 *          and every other call but C_GetInfo returns CKR_DEVICE_REMOVED.
 *   Counters restart (and a removed device returns) when the spec text
 *   changes; they also restart at a C_Initialize after a C_Finalize that
 *   returned CKR_OK with the device present (a new run in the same
 *   process).  A re-plug, or a C_Initialize retried after a failed one,
 *   keeps counting: "C_Initialize=CKR_DEVICE_ERROR@1" fails only the
 *   first initialisation.
 *   A malformed spec makes C_Initialize fail with CKR_GENERAL_ERROR and a
 *   "p11e-mock:" line on stderr.
 *   Examples:
 *     C_Login=CKR_PIN_INCORRECT
 *     C_Sign=CKR_DEVICE_ERROR@2;C_Login=CKR_PIN_LOCKED@3+
 *     C_CreateObject=CKR_DEVICE_REMOVED@2
 *     *=CKR_DEVICE_REMOVED@7!gone
 *
 * P11E_MOCK_TOKEN_FLAGS="CKF_USER_PIN_FINAL_TRY,CKF_USER_PIN_COUNT_LOW"
 *   CKF_ names (or numbers) ORed into C_GetTokenInfo's flags; read at
 *   every call.  With CKF_PROTECTED_AUTHENTICATION_PATH, a C_Login
 *   without a PIN (pPin NULL) is forwarded with $P11E_MOCK_PINPAD_PIN, the
 *   PIN "typed on the pinpad" (CKR_PIN_INCORRECT if that is unset).
 *
 * P11E_MOCK_LOG=FILE
 *   Appends one line per call: "C_Name [details] [note] CKR_NAME", e.g.
 *   "C_Login user=1 pin=*** CKR_OK", "C_CreateObject class=1 token=1
 *   [injected] CKR_DEVICE_REMOVED".  Notes: [injected] a P11E_MOCK_FAIL
 *   entry fired, [removed] the device is pulled, [ykcs11] a ykcs11 rule
 *   answered.  C_CreateObject, C_CopyObject and C_DestroyObject say
 *   token=1 for a token object, token=0 for a session object (-1: the
 *   module did not tell).  PIN and key bytes are never written.
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FAULTS 32

/* Every function of the 2.40 list; the index is the counter slot. */
static const char *const fn_names[] = {"C_Initialize",
                                       "C_Finalize",
                                       "C_GetInfo",
                                       "C_GetFunctionList",
                                       "C_GetSlotList",
                                       "C_GetSlotInfo",
                                       "C_GetTokenInfo",
                                       "C_GetMechanismList",
                                       "C_GetMechanismInfo",
                                       "C_InitToken",
                                       "C_InitPIN",
                                       "C_SetPIN",
                                       "C_OpenSession",
                                       "C_CloseSession",
                                       "C_CloseAllSessions",
                                       "C_GetSessionInfo",
                                       "C_GetOperationState",
                                       "C_SetOperationState",
                                       "C_Login",
                                       "C_Logout",
                                       "C_CreateObject",
                                       "C_CopyObject",
                                       "C_DestroyObject",
                                       "C_GetObjectSize",
                                       "C_GetAttributeValue",
                                       "C_SetAttributeValue",
                                       "C_FindObjectsInit",
                                       "C_FindObjects",
                                       "C_FindObjectsFinal",
                                       "C_EncryptInit",
                                       "C_Encrypt",
                                       "C_EncryptUpdate",
                                       "C_EncryptFinal",
                                       "C_DecryptInit",
                                       "C_Decrypt",
                                       "C_DecryptUpdate",
                                       "C_DecryptFinal",
                                       "C_DigestInit",
                                       "C_Digest",
                                       "C_DigestUpdate",
                                       "C_DigestKey",
                                       "C_DigestFinal",
                                       "C_SignInit",
                                       "C_Sign",
                                       "C_SignUpdate",
                                       "C_SignFinal",
                                       "C_SignRecoverInit",
                                       "C_SignRecover",
                                       "C_VerifyInit",
                                       "C_Verify",
                                       "C_VerifyUpdate",
                                       "C_VerifyFinal",
                                       "C_VerifyRecoverInit",
                                       "C_VerifyRecover",
                                       "C_DigestEncryptUpdate",
                                       "C_DecryptDigestUpdate",
                                       "C_SignEncryptUpdate",
                                       "C_DecryptVerifyUpdate",
                                       "C_GenerateKey",
                                       "C_GenerateKeyPair",
                                       "C_WrapKey",
                                       "C_UnwrapKey",
                                       "C_DeriveKey",
                                       "C_SeedRandom",
                                       "C_GenerateRandom",
                                       "C_GetFunctionStatus",
                                       "C_CancelFunction",
                                       "C_WaitForSlotEvent"};
#define N_FN (sizeof(fn_names) / sizeof(fn_names[0]))

struct fault {
    int fn;            /* index into fn_names, -1 for "*" */
    CK_RV rv;          /* what to return */
    unsigned long nth; /* 0 = every call */
    bool from;         /* "@N+" */
    bool once, gone, after;
};

enum dev_state { DEV_PRESENT, DEV_REMOVED, DEV_GONE };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault faults[MAX_FAULTS];
static size_t n_faults;
static char *loaded_spec;
static unsigned long counts[N_FN];
static unsigned long count_any;
static enum dev_state dev = DEV_PRESENT;
static bool gone_replugged; /* DEV_GONE and the application re-plugged */
static bool cycle_ended;    /* C_Finalize ended a cycle without faults */

#define R(x)                                                                   \
    {                                                                          \
        x, #x                                                                  \
    }
static const struct {
    CK_RV rv;
    const char *name;
} ckr_table[] = {R(CKR_OK),
                 R(CKR_CANCEL),
                 R(CKR_HOST_MEMORY),
                 R(CKR_SLOT_ID_INVALID),
                 R(CKR_GENERAL_ERROR),
                 R(CKR_FUNCTION_FAILED),
                 R(CKR_ARGUMENTS_BAD),
                 R(CKR_NO_EVENT),
                 R(CKR_NEED_TO_CREATE_THREADS),
                 R(CKR_CANT_LOCK),
                 R(CKR_ATTRIBUTE_READ_ONLY),
                 R(CKR_ATTRIBUTE_SENSITIVE),
                 R(CKR_ATTRIBUTE_TYPE_INVALID),
                 R(CKR_ATTRIBUTE_VALUE_INVALID),
                 R(CKR_ACTION_PROHIBITED),
                 R(CKR_DATA_INVALID),
                 R(CKR_DATA_LEN_RANGE),
                 R(CKR_DEVICE_ERROR),
                 R(CKR_DEVICE_MEMORY),
                 R(CKR_DEVICE_REMOVED),
                 R(CKR_ENCRYPTED_DATA_INVALID),
                 R(CKR_ENCRYPTED_DATA_LEN_RANGE),
                 R(CKR_FUNCTION_CANCELED),
                 R(CKR_FUNCTION_NOT_PARALLEL),
                 R(CKR_FUNCTION_NOT_SUPPORTED),
                 R(CKR_KEY_HANDLE_INVALID),
                 R(CKR_KEY_SIZE_RANGE),
                 R(CKR_KEY_TYPE_INCONSISTENT),
                 R(CKR_KEY_NOT_NEEDED),
                 R(CKR_KEY_CHANGED),
                 R(CKR_KEY_NEEDED),
                 R(CKR_KEY_INDIGESTIBLE),
                 R(CKR_KEY_FUNCTION_NOT_PERMITTED),
                 R(CKR_KEY_NOT_WRAPPABLE),
                 R(CKR_KEY_UNEXTRACTABLE),
                 R(CKR_MECHANISM_INVALID),
                 R(CKR_MECHANISM_PARAM_INVALID),
                 R(CKR_OBJECT_HANDLE_INVALID),
                 R(CKR_OPERATION_ACTIVE),
                 R(CKR_OPERATION_NOT_INITIALIZED),
                 R(CKR_PIN_INCORRECT),
                 R(CKR_PIN_INVALID),
                 R(CKR_PIN_LEN_RANGE),
                 R(CKR_PIN_EXPIRED),
                 R(CKR_PIN_LOCKED),
                 R(CKR_SESSION_CLOSED),
                 R(CKR_SESSION_COUNT),
                 R(CKR_SESSION_HANDLE_INVALID),
                 R(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
                 R(CKR_SESSION_READ_ONLY),
                 R(CKR_SESSION_EXISTS),
                 R(CKR_SESSION_READ_ONLY_EXISTS),
                 R(CKR_SESSION_READ_WRITE_SO_EXISTS),
                 R(CKR_SIGNATURE_INVALID),
                 R(CKR_SIGNATURE_LEN_RANGE),
                 R(CKR_TEMPLATE_INCOMPLETE),
                 R(CKR_TEMPLATE_INCONSISTENT),
                 R(CKR_TOKEN_NOT_PRESENT),
                 R(CKR_TOKEN_NOT_RECOGNIZED),
                 R(CKR_TOKEN_WRITE_PROTECTED),
                 R(CKR_UNWRAPPING_KEY_SIZE_RANGE),
                 R(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
                 R(CKR_USER_ALREADY_LOGGED_IN),
                 R(CKR_USER_NOT_LOGGED_IN),
                 R(CKR_USER_PIN_NOT_INITIALIZED),
                 R(CKR_USER_TYPE_INVALID),
                 R(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
                 R(CKR_USER_TOO_MANY_TYPES),
                 R(CKR_WRAPPED_KEY_INVALID),
                 R(CKR_WRAPPED_KEY_LEN_RANGE),
                 R(CKR_WRAPPING_KEY_HANDLE_INVALID),
                 R(CKR_WRAPPING_KEY_SIZE_RANGE),
                 R(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
                 R(CKR_RANDOM_SEED_NOT_SUPPORTED),
                 R(CKR_RANDOM_NO_RNG),
                 R(CKR_DOMAIN_PARAMS_INVALID),
                 R(CKR_CURVE_NOT_SUPPORTED),
                 R(CKR_BUFFER_TOO_SMALL),
                 R(CKR_SAVED_STATE_INVALID),
                 R(CKR_INFORMATION_SENSITIVE),
                 R(CKR_STATE_UNSAVEABLE),
                 R(CKR_CRYPTOKI_NOT_INITIALIZED),
                 R(CKR_CRYPTOKI_ALREADY_INITIALIZED),
                 R(CKR_MUTEX_BAD),
                 R(CKR_MUTEX_NOT_LOCKED),
                 R(CKR_NEW_PIN_MODE),
                 R(CKR_NEXT_OTP),
                 R(CKR_EXCEEDED_MAX_ITERATIONS),
                 R(CKR_FIPS_SELF_TEST_FAILED),
                 R(CKR_LIBRARY_LOAD_FAILED),
                 R(CKR_PIN_TOO_WEAK),
                 R(CKR_PUBLIC_KEY_INVALID),
                 R(CKR_FUNCTION_REJECTED),
                 R(CKR_VENDOR_DEFINED)};

static const struct {
    CK_FLAGS flag;
    const char *name;
} ckf_table[] = {R(CKF_RNG),
                 R(CKF_WRITE_PROTECTED),
                 R(CKF_LOGIN_REQUIRED),
                 R(CKF_USER_PIN_INITIALIZED),
                 R(CKF_RESTORE_KEY_NOT_NEEDED),
                 R(CKF_CLOCK_ON_TOKEN),
                 R(CKF_PROTECTED_AUTHENTICATION_PATH),
                 R(CKF_DUAL_CRYPTO_OPERATIONS),
                 R(CKF_TOKEN_INITIALIZED),
                 R(CKF_SECONDARY_AUTHENTICATION),
                 R(CKF_USER_PIN_COUNT_LOW),
                 R(CKF_USER_PIN_FINAL_TRY),
                 R(CKF_USER_PIN_LOCKED),
                 R(CKF_USER_PIN_TO_BE_CHANGED),
                 R(CKF_SO_PIN_COUNT_LOW),
                 R(CKF_SO_PIN_FINAL_TRY),
                 R(CKF_SO_PIN_LOCKED),
                 R(CKF_SO_PIN_TO_BE_CHANGED)};
#undef R

const char *mock_ckr_name(CK_RV rv)
{
    static __thread char buf[32];

    for (size_t i = 0; i < sizeof(ckr_table) / sizeof(ckr_table[0]); i++)
        if (ckr_table[i].rv == rv)
            return ckr_table[i].name;
    snprintf(buf, sizeof(buf), "CKR_0x%lx", (unsigned long)rv);
    return buf;
}

/* A number (0x.. or decimal) or a name from the table; false if neither. */
static bool parse_value(const char *s, size_t len, bool ckr,
                        unsigned long *pval)
{
    char tmp[64];
    char *end;
    size_t n = ckr ? sizeof(ckr_table) / sizeof(ckr_table[0])
                   : sizeof(ckf_table) / sizeof(ckf_table[0]);

    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (tmp[0] >= '0' && tmp[0] <= '9') {
        errno = 0;
        *pval = strtoul(tmp, &end, 0);
        return errno == 0 && *end == '\0';
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = ckr ? ckr_table[i].name : ckf_table[i].name;
        if (strcmp(name, tmp) == 0) {
            *pval = ckr ? ckr_table[i].rv : ckf_table[i].flag;
            return true;
        }
    }
    return false;
}

static void log_line(const char *line)
{
    const char *path = getenv("P11E_MOCK_LOG");
    int fd;

    if (path == NULL || path[0] == '\0')
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    /* One write per line: lines of several processes do not mix. */
    if (write(fd, line, strlen(line)) < 0)
        (void)0;
    close(fd);
}

void mock_warn(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    memcpy(line, "p11e-mock: ", 11);
    va_start(ap, fmt);
    vsnprintf(line + 11, sizeof(line) - 12, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    fputs(line, stderr);
    log_line(line);
}

static int fn_index(const char *name, size_t len)
{
    for (size_t i = 0; i < N_FN; i++)
        if (strlen(fn_names[i]) == len && memcmp(fn_names[i], name, len) == 0)
            return (int)i;
    return -2;
}

/* One "FUNC=RV[@N[+]][!flag...]" entry into *f; false if malformed. */
bool mock_ckr_parse(const char *s, size_t len, CK_RV *prv)
{
    unsigned long v;

    if (!parse_value(s, len, true, &v))
        return false;
    *prv = v;
    return true;
}

static bool parse_entry(const char *s, size_t len, struct fault *f)
{
    const char *eq = memchr(s, '=', len);
    const char *p, *end = s + len, *tok;

    memset(f, 0, sizeof(*f));
    if (eq == NULL)
        return false;
    if (eq - s == 1 && s[0] == '*')
        f->fn = -1;
    else if ((f->fn = fn_index(s, (size_t)(eq - s))) < 0)
        return false;
    p = eq + 1;
    tok = p;
    while (p < end && *p != '@' && *p != '!')
        p++;
    if (!parse_value(tok, (size_t)(p - tok), true, &f->rv))
        return false;
    while (p < end) {
        char c = *p++;
        tok = p;
        while (p < end && *p != '@' && *p != '!')
            p++;
        if (c == '@') {
            char *num_end;
            if (tok == p || *tok < '0' || *tok > '9')
                return false;
            f->nth = strtoul(tok, &num_end, 10);
            if (f->nth == 0)
                return false;
            if (num_end < p && *num_end == '+') {
                f->from = true;
                num_end++;
            }
            if (num_end != p)
                return false;
        } else if ((size_t)(p - tok) == 4 && memcmp(tok, "once", 4) == 0) {
            f->once = true;
        } else if ((size_t)(p - tok) == 4 && memcmp(tok, "gone", 4) == 0) {
            f->gone = true;
        } else if ((size_t)(p - tok) == 5 && memcmp(tok, "after", 5) == 0) {
            f->after = true;
        } else {
            return false;
        }
    }
    return true;
}

static bool parse_spec(const char *spec)
{
    const char *p = spec;

    n_faults = 0;
    while (*p != '\0') {
        const char *start, *stop;
        size_t len = strcspn(p, ";");

        start = p;
        stop = p + len;
        while (start < stop && (*start == ' ' || *start == '\t'))
            start++;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if (stop > start) {
            if (n_faults == MAX_FAULTS) {
                mock_warn("P11E_MOCK_FAIL: more than %d entries", MAX_FAULTS);
                return false;
            }
            if (!parse_entry(start, (size_t)(stop - start),
                             &faults[n_faults])) {
                mock_warn("P11E_MOCK_FAIL: bad entry \"%.*s\" (want "
                          "C_Func=CKR_NAME[@N|@N+][!once|!gone|!after])",
                          (int)(stop - start), start);
                n_faults = 0;
                return false;
            }
            n_faults++;
        }
        p += len;
        if (*p == ';')
            p++;
    }
    return true;
}

CK_RV faults_initialize(void)
{
    const char *spec = getenv("P11E_MOCK_FAIL");
    CK_RV rv = CKR_OK;

    if (spec == NULL)
        spec = "";
    pthread_mutex_lock(&lock);
    if (loaded_spec == NULL || strcmp(loaded_spec, spec) != 0) {
        free(loaded_spec);
        loaded_spec = strdup(spec);
        if (loaded_spec == NULL || !parse_spec(spec)) {
            free(loaded_spec);
            loaded_spec = NULL;
            rv = CKR_GENERAL_ERROR;
        }
        dev = DEV_PRESENT;
        gone_replugged = false;
        memset(counts, 0, sizeof(counts));
        count_any = 0;
    } else if (cycle_ended) {
        memset(counts, 0, sizeof(counts));
        count_any = 0;
    }
    cycle_ended = false;
    pthread_mutex_unlock(&lock);
    return rv;
}

void faults_finalized(CK_RV rv)
{
    pthread_mutex_lock(&lock);
    cycle_ended = rv == CKR_OK && dev == DEV_PRESENT;
    pthread_mutex_unlock(&lock);
}

void faults_initialized(CK_RV rv)
{
    if (rv != CKR_OK)
        return;
    pthread_mutex_lock(&lock);
    if (dev == DEV_REMOVED)
        dev = DEV_PRESENT;
    else if (dev == DEV_GONE)
        gone_replugged = true;
    pthread_mutex_unlock(&lock);
}

bool faults_removed(void)
{
    bool r;

    pthread_mutex_lock(&lock);
    r = dev != DEV_PRESENT;
    pthread_mutex_unlock(&lock);
    return r;
}

bool faults_gone(void)
{
    bool r;

    pthread_mutex_lock(&lock);
    r = gone_replugged;
    pthread_mutex_unlock(&lock);
    return r;
}

CK_FLAGS faults_token_flags(void)
{
    const char *spec = getenv("P11E_MOCK_TOKEN_FLAGS");
    CK_FLAGS flags = 0;
    unsigned long v;

    while (spec != NULL && *spec != '\0') {
        size_t len = strcspn(spec, ",| ");
        if (len > 0) {
            if (parse_value(spec, len, false, &v))
                flags |= v;
            else
                mock_warn("P11E_MOCK_TOKEN_FLAGS: unknown flag \"%.*s\"",
                          (int)len, spec);
        }
        spec += len;
        if (*spec != '\0')
            spec++;
    }
    return flags;
}

static bool fault_matches(const struct fault *f, int fn, unsigned long n,
                          unsigned long nany)
{
    unsigned long count = f->fn == -1 ? nany : n;

    if (f->fn != -1 && f->fn != fn)
        return false;
    if (f->nth == 0)
        return true;
    return f->from ? count >= f->nth : count == f->nth;
}

/* Called with the lock held: the state change an injected rv causes. */
static void fault_fired(const struct fault *f, CK_RV rv)
{
    if (rv == CKR_DEVICE_REMOVED && !f->once) {
        dev = f->gone ? DEV_GONE : DEV_REMOVED;
        gone_replugged = false;
    }
}

void call_start(struct mock_call *c, const char *fn)
{
    mock_delay();
    memset(c, 0, sizeof(*c));
    c->fn = fn;
    c->rv = CKR_OK;
}

bool call_begin(struct mock_call *c, const char *fn)
{
    call_start(c, fn);
    return call_check(c);
}

bool call_check(struct mock_call *c)
{
    const char *fn = c->fn;
    int idx = fn_index(fn, strlen(fn));
    unsigned long n = 0, nany;
    bool done = false;

    pthread_mutex_lock(&lock);
    if (idx >= 0)
        n = ++counts[idx];
    nany = ++count_any;
    if (dev != DEV_PRESENT && strcmp(fn, "C_Initialize") != 0 &&
        strcmp(fn, "C_Finalize") != 0 && strcmp(fn, "C_GetFunctionList") != 0 &&
        !(gone_replugged &&
          (strcmp(fn, "C_GetInfo") == 0 || strcmp(fn, "C_GetSlotList") == 0))) {
        c->rv = CKR_DEVICE_REMOVED;
        c->note = "[removed]";
        done = true;
        goto out;
    }
    for (size_t i = 0; i < n_faults; i++) {
        const struct fault *f = &faults[i];
        if (!fault_matches(f, idx, n, nany))
            continue;
        if (f->after) {
            c->after = f;
        } else {
            c->rv = f->rv;
            c->note = "[injected]";
            fault_fired(f, f->rv);
            done = true;
        }
        break;
    }
out:
    pthread_mutex_unlock(&lock);
    return done;
}

CK_RV call_end(struct mock_call *c)
{
    const struct fault *f = c->after;
    char line[400];

    if (f != NULL) {
        pthread_mutex_lock(&lock);
        c->rv = f->rv;
        c->note = "[injected]";
        fault_fired(f, f->rv);
        pthread_mutex_unlock(&lock);
    }
    snprintf(line, sizeof(line), "%s%s%s%s%s %s\n", c->fn,
             c->detail[0] ? " " : "", c->detail, c->note ? " " : "",
             c->note ? c->note : "", mock_ckr_name(c->rv));
    log_line(line);
    return c->rv;
}

void call_detail(struct mock_call *c, const char *fmt, ...)
{
    size_t used = strlen(c->detail);
    va_list ap;

    if (used > 0 && used + 1 < sizeof(c->detail))
        c->detail[used++] = ' ';
    va_start(ap, fmt);
    vsnprintf(c->detail + used, sizeof(c->detail) - used, fmt, ap);
    va_end(ap);
}

__attribute__((destructor)) static void faults_fini(void)
{
    free(loaded_spec);
    loaded_spec = NULL;
}
