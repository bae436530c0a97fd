/* SPDX-License-Identifier: Apache-2.0 */
/* Request ids and CA text made safe (agent/ca_text.c). */
#include <string.h>

#include "ca_text.h"
#include "harness.h"

TEST("/ca_text/request_ids")
{
    CHECK(ca_text_id_ok("1001"));
    CHECK(ca_text_id_ok("a.b-c_D"));
    CHECK(ca_text_id_ok("..."));
    CHECK(!ca_text_id_ok("."));
    CHECK(!ca_text_id_ok(".."));
    CHECK(!ca_text_id_ok("../x"));
    CHECK(!ca_text_id_ok("a/b"));
    CHECK(!ca_text_id_ok(""));
    CHECK(!ca_text_id_ok(NULL));
    CHECK(!ca_text_id_ok("a b"));
    CHECK(!ca_text_id_ok("0123456789012345678901234567890123456789"
                         "01234567890123456789012345"));
}

TEST("/ca_text/one_line")
{
    char s[] = "ok\x1b]0;owned\x07 \r\nline2\tend\x7f";

    CHECK_STR(ca_text_clean(s, false), "ok ]0;owned    line2 end?");
}

TEST("/ca_text/multiline_keeps_newlines")
{
    char s[] = "Terms\r\n1. \x1b[2Jsign\nthe end\r";

    CHECK_STR(ca_text_clean(s, true), "Terms\n1.  [2Jsign\nthe end ");
}

TEST("/ca_text/c1_controls")
{
    /* U+009B (CSI) and U+0085 (NEL) in UTF-8; U+00E9 stays */
    char s[] = "a\xc2\x9b"
               "31mb\xc2\x85"
               "c \xc3\xa9";

    CHECK_STR(ca_text_clean(s, false), "a?31mb?c \xc3\xa9");
    CHECK(ca_text_clean(NULL, true) == NULL);
}
