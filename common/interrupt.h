/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interrupt.h - Ctrl-C and SIGTERM as a request to stop at the next safe
 * point, never in the middle of a token or journal write.
 *
 * interrupt_catch() installs handlers that only set a flag (no
 * SA_RESTART, so a sleep or a read at a prompt returns early); the long
 * waits (interrupt_sleep, the HTTP transfers, the prompts) and the
 * enrollment driver between two steps look at it and return
 * PE_E_INTERRUPTED.
 */
#ifndef P11E_INTERRUPT_H
#define P11E_INTERRUPT_H

#include <stdbool.h>

#include "rc.h"

/* Catch SIGINT and SIGTERM from now on. */
void interrupt_catch(void);

/* true once SIGINT or SIGTERM arrived. */
bool interrupt_pending(void);

/* Sleep secs seconds; PE_E_INTERRUPTED (with a detail-free sentence)
 * as soon as a signal arrives, else PE_OK. */
enum pe_rc interrupt_sleep(long secs);

/* The same in milliseconds. */
enum pe_rc interrupt_sleep_ms(long ms);

#endif
