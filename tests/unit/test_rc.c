/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"
#include "rc.h"

TEST("/rc/every_code_has_name_message_and_exit")
{
    int i;

    for (i = 0; i < PE_RC_COUNT; i++) {
        CHECK(strncmp(pe_rc_name((enum pe_rc)i), "PE_", 3) == 0);
        CHECK(pe_rc_message((enum pe_rc)i)[0] != '\0');
        CHECK(pe_rc_exit((enum pe_rc)i) >= 0);
        CHECK(pe_rc_exit((enum pe_rc)i) <= PE_EXIT_NOT_RENEWED ||
              pe_rc_exit((enum pe_rc)i) == PE_EXIT_INTERRUPTED);
    }
}

TEST("/rc/documented_exit_codes")
{
    CHECK_INT(pe_rc_exit(PE_OK), 0);
    CHECK_INT(pe_rc_exit(PE_E_INTERNAL), 1);
    CHECK_INT(pe_rc_exit(PE_E_USAGE), 2);
    CHECK_INT(pe_rc_exit(PE_E_CONFIG), 2);
    CHECK_INT(pe_rc_exit(PE_PENDING), 3);
    CHECK_INT(pe_rc_exit(PE_E_REJECTED), 4);
    CHECK_INT(pe_rc_exit(PE_E_CA_UNREACHABLE), 5);
    CHECK_INT(pe_rc_exit(PE_E_CA_TLS), 5);
    CHECK_INT(pe_rc_exit(PE_E_CA_PROTOCOL), 6);
    CHECK_INT(pe_rc_exit(PE_E_CA_AUTH), 6);
    CHECK_INT(pe_rc_exit(PE_E_TOKEN_NOT_FOUND), 7);
    CHECK_INT(pe_rc_exit(PE_E_PIN_INCORRECT), 8);
    CHECK_INT(pe_rc_exit(PE_E_PIN_LOCKED), 8);
    CHECK_INT(pe_rc_exit(PE_E_VERIFY), 9);
    CHECK_INT(pe_rc_exit(PE_E_IO), 10);
    CHECK_INT(pe_rc_exit(PE_E_NOT_RENEWED), 11);
    CHECK_INT(pe_rc_exit(PE_E_INTERRUPTED), 130);
}

TEST("/rc/failf_keeps_last_detail")
{
    pe_clear();
    CHECK_STR(pe_sentence(PE_E_VERIFY), pe_rc_message(PE_E_VERIFY));
    CHECK_INT(pe_failf(PE_E_TOKEN, "first %d", 1), PE_E_TOKEN);
    CHECK_INT(pe_failf(PE_E_TOKEN, "second %s", "x"), PE_E_TOKEN);
    CHECK_STR(pe_detail(), "second x");
    CHECK_STR(pe_sentence(PE_E_TOKEN), "second x");
    pe_clear();
    CHECK_STR(pe_detail(), "");
}

TEST("/rc/failf_may_quote_the_last_detail")
{
    pe_failf(PE_E_KEY, "inner %s", "reason");
    CHECK_INT(pe_failf(PE_E_TOKEN, "outer: %s.", pe_detail()), PE_E_TOKEN);
    CHECK_STR(pe_detail(), "outer: inner reason.");
}

TEST("/rc/out_of_range_is_internal")
{
    CHECK_INT(pe_rc_exit((enum pe_rc)9999), PE_EXIT_INTERNAL);
    CHECK_STR(pe_rc_name((enum pe_rc) - 1), "PE_E_UNKNOWN");
}
