/* SPDX-License-Identifier: Apache-2.0 */
/* bg: a step on its own thread, its result and its detail collected. */
#include <pthread.h>
#include <string.h>

#include "bg.h"
#include "harness.h"

struct job {
    pthread_t ran_on;
    enum pe_rc rc;
};

static enum pe_rc step(void *arg)
{
    struct job *j = arg;

    j->ran_on = pthread_self();
    if (j->rc != PE_OK)
        return pe_failf(j->rc, "The step failed on its thread.");
    return PE_OK;
}

TEST("/bg/result_and_thread")
{
    struct job j = {.rc = PE_OK};
    struct bg *bg = bg_start(step, &j);

    CHECK(bg != NULL);
    CHECK_INT(bg_wait(bg), PE_OK);
    CHECK(!pthread_equal(j.ran_on, pthread_self()));
    CHECK_INT(bg_wait(NULL), PE_OK);
}

TEST("/bg/failure_detail_comes_back")
{
    struct job j = {.rc = PE_E_CA_AUTH};

    pe_clear();
    CHECK_INT(bg_wait(bg_start(step, &j)), PE_E_CA_AUTH);
    CHECK_STR(pe_detail(), "The step failed on its thread.");
}

TEST("/bg/discard_keeps_this_threads_detail")
{
    struct job j = {.rc = PE_E_CA_AUTH};
    struct bg *bg = bg_start(step, &j);

    pe_failf(PE_E_TOKEN, "The token failed here first.");
    bg_discard(bg);
    CHECK_STR(pe_detail(), "The token failed here first.");
    bg_discard(NULL);
}
