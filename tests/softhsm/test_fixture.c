/* SPDX-License-Identifier: Apache-2.0 */
/* The fixture itself: a private token, found by label, removed after. */
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"

TEST("/fixture/private_token_by_label")
{
    struct fx_softhsm fx;
    char dir[PATH_MAX];

    fx_softhsm_begin(&fx);
    CHECK_STR(getenv("SOFTHSM2_CONF"), fx.conf);
    CHECK_INT(
        fx_sh("softhsm2-util --show-slots | grep -q 'Label: *%s *$'", FX_LABEL),
        0);
    fx_softhsm_add_token(&fx, "second");
    CHECK_INT(fx_sh("softhsm2-util --show-slots | grep -c 'Label:' | "
                    "grep -q '^3$'"),
              0);
    snprintf(dir, sizeof(dir), "%s", fx.dir);
    fx_softhsm_end(&fx);
    CHECK(access(dir, F_OK) != 0);
}
