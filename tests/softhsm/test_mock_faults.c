/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mock PKCS#11 module in front of SoftHSM: calls pass through to a
 * real token, and each failure form of P11E_MOCK_FAIL fires on the call it
 * names; P11E_MOCK_TOKEN_FLAGS and P11E_MOCK_LOG (no PIN in it).
 */
#include <stdlib.h>
#include <unistd.h>

#include "../mock/mock_client.h"
#include "fixture.h"
#include "harness.h"

static struct fx_softhsm fx;
static struct mc m;
static char logpath[PATH_MAX + 16];

static void clear_env(void)
{
    unsetenv("P11E_MOCK_FAIL");
    unsetenv("P11E_MOCK_TOKEN_FLAGS");
    unsetenv("P11E_MOCK_LOG");
    unsetenv("P11E_MOCK_PINPAD_PIN");
    unsetenv("P11E_MOCK_YKCS11");
}

static void setup(void)
{
    clear_env();
    fx_softhsm_begin(&fx);
    snprintf(logpath, sizeof(logpath), "%s/mock.log", fx.dir);
    mc_load(&m);
}

static void teardown(void)
{
    mc_unload(&m);
    fx_softhsm_end(&fx);
    clear_env();
}

__attribute__((constructor)) static void register_fixture(void)
{
    harness_set_fixture(setup, teardown);
}

/* A token data object labelled "probe": written by the C_CreateObject
 * tests, counted to see what reached the token. */
static CK_RV create_probe(CK_SESSION_HANDLE h)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    char label[] = "probe", value[] = "v";
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &yes, sizeof(yes)},
                        {CKA_LABEL, label, 5},
                        {CKA_VALUE, value, 1}};
    CK_OBJECT_HANDLE obj;

    return m.f->C_CreateObject(h, t, 4, &obj);
}

static long count_probes(CK_SESSION_HANDLE h)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    char label[] = "probe";
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, label, 5}};

    return mc_count(&m, h, t, 2);
}

static void open_user(CK_SESSION_HANDLE *ph)
{
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, ph), CKR_OK);
    MC_CHECK_RV(mc_login(&m, *ph, CKU_USER, FX_USER_PIN), CKR_OK);
}

TEST("/mock/passthrough/keygen_and_sign_on_the_real_token")
{
    CK_SESSION_HANDLE h;
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    CK_BYTE sig[128], digest[32];
    CK_ULONG siglen = sizeof(sig);
    CK_INFO info;

    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(m.f->C_GetInfo(&info), CKR_OK);
    CHECK(memcmp(info.manufacturerID, "SoftHSM", 7) == 0);
    open_user(&h);
    MC_CHECK_RV(mc_gen_ec(&m, h, 7, &pub, &priv), CKR_OK);
    MC_CHECK_RV(mc_sign(&m, h, priv, sig, &siglen), CKR_OK);
    CHECK_INT(siglen, 64);
    memset(digest, 0x5a, sizeof(digest));
    MC_CHECK_RV(m.f->C_VerifyInit(h, &mech, pub), CKR_OK);
    MC_CHECK_RV(m.f->C_Verify(h, digest, 32, sig, siglen), CKR_OK);
    /* The key is really on the SoftHSM token. */
    CHECK_INT(fx_sh("SOFTHSM2_CONF='%s' pkcs11-tool --module '%s' "
                    "--token-label %s -l --pin %s -O 2>/dev/null | "
                    "grep -q 'Private Key Object; EC'",
                    fx.conf, fx.module, FX_LABEL, FX_USER_PIN),
              0);
}

TEST("/mock/faults/every_call")
{
    CK_SESSION_HANDLE h;

    setenv("P11E_MOCK_FAIL", "C_Login=CKR_PIN_INCORRECT", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_INCORRECT);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_INCORRECT);
}

TEST("/mock/faults/nth_call_only")
{
    CK_SESSION_HANDLE h;

    setenv("P11E_MOCK_FAIL", "C_Login=CKR_PIN_INCORRECT@2", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_OK);
    MC_CHECK_RV(m.f->C_Logout(h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_INCORRECT);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_OK);
}

TEST("/mock/faults/from_nth_call_on")
{
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;

    setenv("P11E_MOCK_FAIL", "C_GetSlotList=CKR_DEVICE_ERROR@2+", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(m.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    n = 8;
    MC_CHECK_RV(m.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_DEVICE_ERROR);
    MC_CHECK_RV(m.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_DEVICE_ERROR);
}

TEST("/mock/faults/several_entries_first_match_wins")
{
    CK_SESSION_HANDLE h;

    setenv("P11E_MOCK_FAIL",
           " C_Login=CKR_PIN_INCORRECT@1 ; C_Login=0xa4@2;C_Login=0x6@2", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_INCORRECT);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_LOCKED);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_OK);
}

TEST("/mock/faults/any_function_counts_every_call")
{
    CK_INFO info;

    setenv("P11E_MOCK_FAIL", "*=CKR_HOST_MEMORY@3", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);                    /* call 1 */
    MC_CHECK_RV(m.f->C_GetInfo(&info), CKR_OK);          /* call 2 */
    MC_CHECK_RV(m.f->C_GetInfo(&info), CKR_HOST_MEMORY); /* call 3 */
    MC_CHECK_RV(m.f->C_GetInfo(&info), CKR_OK);
}

TEST("/mock/faults/device_removed_mid_write_and_replugged")
{
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slot;

    setenv("P11E_MOCK_FAIL", "C_CreateObject=CKR_DEVICE_REMOVED@2", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    open_user(&h);
    MC_CHECK_RV(create_probe(h), CKR_OK);
    MC_CHECK_RV(create_probe(h), CKR_DEVICE_REMOVED);
    /* Pulled: everything fails until the application re-plugs. */
    MC_CHECK_RV(m.f->C_FindObjectsInit(h, NULL, 0), CKR_DEVICE_REMOVED);
    MC_CHECK_RV(mc_find_slot(&m, FX_LABEL, &slot), CKR_DEVICE_REMOVED);
    MC_CHECK_RV(mc_init(&m), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(m.f->C_CloseSession(h), CKR_SESSION_HANDLE_INVALID);
    open_user(&h);
    /* The failed write never reached the token. */
    CHECK_INT(count_probes(h), 1);
    /* The count goes on across the re-plug: the 3rd write works. */
    MC_CHECK_RV(create_probe(h), CKR_OK);
    CHECK_INT(count_probes(h), 2);
}

TEST("/mock/faults/device_removed_once_needs_no_replug")
{
    CK_SESSION_HANDLE h;

    setenv("P11E_MOCK_FAIL", "C_CreateObject=CKR_DEVICE_REMOVED@1!once", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    open_user(&h);
    MC_CHECK_RV(create_probe(h), CKR_DEVICE_REMOVED);
    MC_CHECK_RV(create_probe(h), CKR_OK);
    CHECK_INT(count_probes(h), 1);
}

TEST("/mock/faults/device_gone_for_good")
{
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;
    CK_INFO info;

    setenv("P11E_MOCK_FAIL", "C_Sign=CKR_DEVICE_REMOVED!gone", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    open_user(&h);
    MC_CHECK_RV(m.f->C_Sign(h, NULL, 0, NULL, &n), CKR_DEVICE_REMOVED);
    MC_CHECK_RV(m.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_DEVICE_REMOVED);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    n = 8;
    MC_CHECK_RV(m.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    CHECK_INT(n, 0);
    MC_CHECK_RV(m.f->C_GetInfo(&info), CKR_OK);
    MC_CHECK_RV(m.f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h),
                CKR_DEVICE_REMOVED);
}

TEST("/mock/faults/after_the_token_did_the_work")
{
    CK_SESSION_HANDLE h;

    setenv("P11E_MOCK_FAIL", "C_CreateObject=CKR_DEVICE_ERROR@1!after", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    open_user(&h);
    MC_CHECK_RV(create_probe(h), CKR_DEVICE_ERROR);
    CHECK_INT(count_probes(h), 1);
}

TEST("/mock/faults/counters_restart_when_the_spec_changes")
{
    CK_SESSION_HANDLE h;

    setenv("P11E_MOCK_FAIL", "C_Login=CKR_PIN_INCORRECT@1", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_INCORRECT);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    /* A plain re-initialisation (no device pulled) starts a new count. */
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_PIN_INCORRECT);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    setenv("P11E_MOCK_FAIL", "C_Login=CKR_PIN_INCORRECT@2", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, FX_USER_PIN), CKR_OK);
}

TEST("/mock/faults/a_failed_initialize_can_be_retried")
{
    setenv("P11E_MOCK_FAIL", "C_Initialize=CKR_DEVICE_ERROR@1", 1);
    MC_CHECK_RV(mc_init(&m), CKR_DEVICE_ERROR);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    /* a new run in the same process counts from 1 again */
    MC_CHECK_RV(mc_init(&m), CKR_DEVICE_ERROR);
}

TEST("/mock/faults/malformed_spec_fails_initialize")
{
    setenv("P11E_MOCK_FAIL", "C_Signn=CKR_DEVICE_ERROR", 1);
    MC_CHECK_RV(mc_init(&m), CKR_GENERAL_ERROR);
    setenv("P11E_MOCK_FAIL", "C_Sign=CKR_NO_SUCH_THING", 1);
    MC_CHECK_RV(mc_init(&m), CKR_GENERAL_ERROR);
    setenv("P11E_MOCK_FAIL", "C_Sign=CKR_DEVICE_ERROR@0", 1);
    MC_CHECK_RV(mc_init(&m), CKR_GENERAL_ERROR);
    setenv("P11E_MOCK_FAIL", "C_Sign=CKR_DEVICE_ERROR!sometimes", 1);
    MC_CHECK_RV(mc_init(&m), CKR_GENERAL_ERROR);
    setenv("P11E_MOCK_FAIL", "C_Sign=CKR_DEVICE_ERROR@3+!once", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
}

TEST("/mock/flags/ored_into_token_info")
{
    CK_SLOT_ID slot;
    CK_TOKEN_INFO ti;

    setenv("P11E_MOCK_TOKEN_FLAGS",
           "CKF_USER_PIN_FINAL_TRY,CKF_USER_PIN_COUNT_LOW", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_find_slot(&m, FX_LABEL, &slot), CKR_OK);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_USER_PIN_FINAL_TRY);
    CHECK(ti.flags & CKF_USER_PIN_COUNT_LOW);
    CHECK(!(ti.flags & CKF_USER_PIN_LOCKED));
    CHECK(ti.flags & CKF_TOKEN_INITIALIZED); /* SoftHSM's own flags stay */
    setenv("P11E_MOCK_TOKEN_FLAGS", "CKF_USER_PIN_LOCKED", 1);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_USER_PIN_LOCKED);
    CHECK(!(ti.flags & CKF_USER_PIN_FINAL_TRY));
}

TEST("/mock/flags/pinpad_login_without_pin")
{
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO ti;

    setenv("P11E_MOCK_TOKEN_FLAGS", "CKF_PROTECTED_AUTHENTICATION_PATH", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_find_slot(&m, FX_LABEL, &slot), CKR_OK);
    MC_CHECK_RV(m.f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
    MC_CHECK_RV(mc_open(&m, FX_LABEL, 1, &h), CKR_OK);
    MC_CHECK_RV(m.f->C_Login(h, CKU_USER, NULL, 0), CKR_PIN_INCORRECT);
    setenv("P11E_MOCK_PINPAD_PIN", FX_USER_PIN, 1);
    MC_CHECK_RV(m.f->C_Login(h, CKU_USER, NULL, 0), CKR_OK);
}

TEST("/mock/log/one_line_per_call_and_no_pin")
{
    const char *pin = "97531864";
    CK_SESSION_HANDLE h;
    char *log;

    CHECK_INT(fx_sh("softhsm2-util --init-token --free --label pinlog "
                    "--so-pin %s --pin %s >/dev/null",
                    FX_SO_PIN, pin),
              0);
    setenv("P11E_MOCK_LOG", logpath, 1);
    setenv("P11E_MOCK_FAIL", "C_Login=CKR_PIN_INCORRECT@1", 1);
    MC_CHECK_RV(mc_init(&m), CKR_OK);
    MC_CHECK_RV(mc_open(&m, "pinlog", 1, &h), CKR_OK);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, pin), CKR_PIN_INCORRECT);
    MC_CHECK_RV(mc_login(&m, h, CKU_USER, pin), CKR_OK);
    MC_CHECK_RV(m.f->C_Finalize(NULL), CKR_OK);
    log = mc_slurp(logpath);
    CHECK(log != NULL);
    CHECK_CONTAINS(log, "C_Initialize CKR_OK\n");
    CHECK_CONTAINS(log, "C_Login user=1 pin=*** [injected] "
                        "CKR_PIN_INCORRECT\n");
    CHECK_CONTAINS(log, "C_Login user=1 pin=*** CKR_OK\n");
    CHECK_CONTAINS(log, "C_Finalize CKR_OK\n");
    CHECK(strstr(log, pin) == NULL);
    CHECK(strstr(log, "9753") == NULL);
    free(log);
}
