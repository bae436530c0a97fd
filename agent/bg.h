/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bg.h - one step on a thread of its own while this thread goes on.
 *
 * An enrollment waits on three things that do not need each other: the
 * CA (round trips), the token (its own processor) and the disk (fsync).
 * bg lets a step that needs only one of them run beside another:
 *
 *   struct bg *bg = bg_start(step, &job);     NULL: run step(&job) here
 *   ...
 *   rc = bg_wait(bg);                         its result, its pe_detail
 *
 * step must not touch what this thread uses until bg_wait returns.
 */
#ifndef P11E_BG_H
#define P11E_BG_H

#include "rc.h"

struct bg;

/* fn(arg) on a new thread; NULL when none could be started (the caller
 * then runs fn itself, in turn). */
struct bg *bg_start(enum pe_rc (*fn)(void *arg), void *arg);

/* Wait for it and free it: its result, and when that is a failure its
 * detail becomes this thread's (pe_detail), as if fn had run here.
 * NULL: PE_OK. */
enum pe_rc bg_wait(struct bg *bg);

/* Wait for it and free it, keeping this thread's detail (an earlier
 * failure is being reported).  NULL: nothing. */
void bg_discard(struct bg *bg);

#endif
