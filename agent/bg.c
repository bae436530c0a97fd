/* SPDX-License-Identifier: Apache-2.0 */
#include "bg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { BG_DETAIL = 1024 };

struct bg {
    pthread_t thread;
    enum pe_rc (*fn)(void *arg);
    void *arg;
    enum pe_rc rc;
    char detail[BG_DETAIL]; /* pe_detail is per thread: the failure's */
};

static void *bg_main(void *p)
{
    struct bg *bg = p;

    bg->rc = bg->fn(bg->arg);
    if (bg->rc != PE_OK)
        snprintf(bg->detail, sizeof(bg->detail), "%s", pe_sentence(bg->rc));
    return NULL;
}

struct bg *bg_start(enum pe_rc (*fn)(void *arg), void *arg)
{
    struct bg *bg = calloc(1, sizeof(*bg));

    if (bg == NULL)
        return NULL;
    bg->fn = fn;
    bg->arg = arg;
    if (pthread_create(&bg->thread, NULL, bg_main, bg) != 0) {
        free(bg);
        return NULL;
    }
    return bg;
}

/* Join and free; the result, and its detail into detail[BG_DETAIL]. */
static enum pe_rc bg_join(struct bg *bg, char *detail)
{
    enum pe_rc rc;

    pthread_join(bg->thread, NULL);
    rc = bg->rc;
    snprintf(detail, BG_DETAIL, "%s", bg->detail);
    free(bg);
    return rc;
}

enum pe_rc bg_wait(struct bg *bg)
{
    char detail[BG_DETAIL];
    enum pe_rc rc;

    if (bg == NULL)
        return PE_OK;
    rc = bg_join(bg, detail);
    return rc == PE_OK ? rc : pe_failf(rc, "%s", detail);
}

void bg_discard(struct bg *bg)
{
    char detail[BG_DETAIL];

    if (bg != NULL)
        (void)bg_join(bg, detail);
}
