/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.h - `renew --notify-cmd CMD`: tell people when a renewal is due,
 * done, pending or failed, the way certmonger's notification command does.
 *
 * CMD runs through /bin/sh -c with a clean environment (PATH, LANG=C and
 * P11ENROLL_* variables that say what happened), standard input from
 * /dev/null, standard output onto standard error, and no descriptor beyond
 * 0-2: a PIN given through --pin-fd never reaches it.  The same facts, and
 * more, are in a JSON file named by P11ENROLL_EVENT_FILE, removed when the
 * command returns.  Nothing in either is a secret.
 */
#ifndef P11E_NOTIFY_H
#define P11E_NOTIFY_H

#include <jansson.h>

#include "rc.h"

/* Run cmd for event ("due", "done", "pending", "failed") with facts (an
 * object of renew_item_json; borrowed).  A command that cannot start or
 * fails is logged as a warning and returned (PE_E_IO); the renewal's own
 * result does not change. */
enum pe_rc notify_run(const char *cmd, const char *event, json_t *facts);

#endif
