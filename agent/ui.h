/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui.h - what the enrollment asks the person at the terminal: the
 * one-time code, the form's terms and yes/no questions.
 */
#ifndef P11E_UI_H
#define P11E_UI_H

#include <stdbool.h>

#include "ca.h"
#include "rc.h"
#include "secret.h"

/* Seconds to wait for the one-time code from --otp-file or --otp-cmd
 * unless --otp-timeout says otherwise: a mail is minutes, not hours. */
#define UI_OTP_WAIT 600

/* The one-time code mailed to email (a ca_ui get_code; arg is the
 * struct enroll_opts): --otp-cmd, --otp-file, else a prompt on the
 * terminal. */
enum pe_rc ui_get_code(void *arg, const char *email, struct secret **pcode);

/* Show the form's terms and take the EULA (a ca_ui accept_terms; arg is
 * the struct enroll_opts): --accept-eula, else a question. */
enum pe_rc ui_accept_terms(void *arg, const struct ca_terms *t);

/* question with [y/N] on the terminal; false without one. */
bool ui_ask_yes(const char *question);

#endif
