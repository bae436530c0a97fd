/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interrupt.c - the stop flag of interrupt.h.
 */
#include "interrupt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    caught = sig;
}

void interrupt_catch(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool interrupt_pending(void)
{
    return caught != 0;
}

enum pe_rc interrupt_sleep(long secs)
{
    return interrupt_sleep_ms(secs > 0 ? secs * 1000 : 0);
}

enum pe_rc interrupt_sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms > 0 ? ms / 1000 : 0;
    ts.tv_nsec = ms > 0 ? (ms % 1000) * 1000000L : 0;
    while (!interrupt_pending() && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return interrupt_pending() ? PE_E_INTERRUPTED : PE_OK;
}
