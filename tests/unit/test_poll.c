/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"
#include "poll.h"

TEST("/poll/backoff_doubles_to_max")
{
    struct poll_opts o = {600, 2, 30};

    CHECK_INT(poll_next_delay(0, -1, &o), 2);
    CHECK_INT(poll_next_delay(2, -1, &o), 4);
    CHECK_INT(poll_next_delay(16, -1, &o), 30);
    CHECK_INT(poll_next_delay(30, -1, &o), 30);
}

TEST("/poll/retry_after_wins_when_longer")
{
    struct poll_opts o = {600, 2, 30};

    CHECK_INT(poll_next_delay(0, 10, &o), 10);
    CHECK_INT(poll_next_delay(8, 3, &o), 16);
    CHECK_INT(poll_next_delay(0, 99999, &o), 3600);
    CHECK_INT(poll_next_delay(0, 0, &o), 2);
}

TEST("/poll/defaults")
{
    struct poll_opts o = {0, 0, 0};

    CHECK_INT(poll_next_delay(0, -1, &o), 2);
    CHECK_INT(poll_next_delay(40, -1, &o), 60);
}

TEST("/poll/elapsed")
{
    char b[32];

    CHECK_STR(poll_elapsed_str(5, b, sizeof(b)), "0:05");
    CHECK_STR(poll_elapsed_str(65, b, sizeof(b)), "1:05");
    CHECK_STR(poll_elapsed_str(7384, b, sizeof(b)), "2:03:04");
}
