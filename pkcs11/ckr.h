/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ckr.h - translate CK_RV values: the only place that knows CKR_* names.
 */
#ifndef P11E_CKR_H
#define P11E_CKR_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "rc.h"

/* "CKR_PIN_INCORRECT" for CKR_PIN_INCORRECT; static, never NULL. */
const char *ckr_name(CK_RV rv);

/* The program result a CK_RV maps to (PE_OK for CKR_OK). */
enum pe_rc ckr_rc(CK_RV rv);

/* true for the errors after which a network HSM wants a re-initialise. */
bool ckr_is_device_lost(CK_RV rv);

#endif
