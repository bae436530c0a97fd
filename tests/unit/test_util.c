/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util.c - hex, durations and RFC 3339 times of common/util.c.
 */
#include <string.h>

#include <openssl/asn1.h>

#include "harness.h"
#include "util.h"

TEST("/util/hex/encode")
{
    const unsigned char id[] = {0x00, 0x0a, 0xff, 0x5c};
    char buf[9];

    CHECK_STR(util_hex_encode(id, sizeof(id), buf, sizeof(buf)), "000aff5c");
    CHECK_STR(util_hex_encode(id, 0, buf, sizeof(buf)), "");
    /* one byte short of room: empty, never cut */
    CHECK_STR(util_hex_encode(id, sizeof(id), buf, sizeof(buf) - 1), "");
}

TEST("/util/hex/decode")
{
    unsigned char b[4];
    size_t n = 0;

    CHECK_INT(util_hex_decode("0a1B", b, sizeof(b), &n), PE_OK);
    CHECK_INT(n, 2);
    CHECK(b[0] == 0x0a && b[1] == 0x1b);
    CHECK_INT(util_hex_decode("0A:1b:FF", b, sizeof(b), &n), PE_OK);
    CHECK_INT(n, 3);
    CHECK(b[2] == 0xff);
    CHECK_INT(util_hex_decode("%0a%1b", b, sizeof(b), &n), PE_OK);
    CHECK_INT(n, 2);
    CHECK_INT(util_hex_decode("", b, sizeof(b), &n), PE_OK);
    CHECK_INT(n, 0);
}

TEST("/util/hex/decode_rejects")
{
    unsigned char b[2];
    size_t n = 7;

    CHECK_INT(util_hex_decode("0g", b, sizeof(b), &n), PE_E_INPUT);
    CHECK_CONTAINS(pe_detail(), "\"0g\" is not hex of at most 2 bytes");
    CHECK_INT(util_hex_decode("abc", b, sizeof(b), &n), PE_E_INPUT);
    CHECK_INT(util_hex_decode("a:b", b, sizeof(b), &n), PE_E_INPUT);
    CHECK_INT(util_hex_decode("010203", b, sizeof(b), &n), PE_E_INPUT);
    CHECK_INT(n, 7);
}

TEST("/util/hex/round_trip")
{
    unsigned char in[64], out[64];
    char hex[2 * 64 + 1];
    size_t i, n = 0;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 37 + 11);
    util_hex_encode(in, sizeof(in), hex, sizeof(hex));
    CHECK_INT(strlen(hex), 128);
    CHECK_INT(util_hex_decode(hex, out, sizeof(out), &n), PE_OK);
    CHECK_INT(n, sizeof(in));
    CHECK(memcmp(in, out, sizeof(in)) == 0);
}

TEST("/util/duration/units")
{
    long s = -1;
    const long year = 365L * 86400;

    CHECK_INT(util_duration_parse("90", year, &s), PE_OK);
    CHECK_INT(s, 90);
    CHECK_INT(util_duration_parse("90s", year, &s), PE_OK);
    CHECK_INT(s, 90);
    CHECK_INT(util_duration_parse("15m", year, &s), PE_OK);
    CHECK_INT(s, 900);
    CHECK_INT(util_duration_parse("12h", year, &s), PE_OK);
    CHECK_INT(s, 12L * 3600);
    CHECK_INT(util_duration_parse("30d", year, &s), PE_OK);
    CHECK_INT(s, 30L * 86400);
    CHECK_INT(util_duration_parse("2w", year, &s), PE_OK);
    CHECK_INT(s, 14L * 86400);
    CHECK_INT(util_duration_parse("0", year, &s), PE_OK);
    CHECK_INT(s, 0);
}

TEST("/util/duration/bare_number_is_seconds")
{
    long s = -1;

    /* the same text means the same time for every option */
    CHECK_INT(util_duration_parse("30", 3650L * 86400, &s), PE_OK);
    CHECK_INT(s, 30);
}

TEST("/util/duration/bounds")
{
    long s = -1;

    CHECK_INT(util_duration_parse("365d", 365L * 86400, &s), PE_OK);
    CHECK_INT(s, 365L * 86400);
    s = -1;
    CHECK_INT(util_duration_parse("366d", 365L * 86400, &s), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "\"366d\" is longer than 365 days");
    CHECK_INT(util_duration_parse("61", 60, &s), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "\"61\" is longer than 60 seconds");
    CHECK_INT(util_duration_parse("99999999999999999999d", 60, &s), PE_E_USAGE);
    CHECK_INT(s, -1);
}

TEST("/util/duration/rejects")
{
    static const char *bad[] = {"",   "soon", "-1",   "+5", " 5", "5 ",
                                "5x", "5dd",  "1.5h", "d",  "5D"};
    long s = -1;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(util_duration_parse(bad[i], 86400, &s), PE_E_USAGE);
        CHECK_CONTAINS(pe_detail(), "is not a duration such as");
    }
    CHECK_INT(util_duration_parse(NULL, 86400, &s), PE_E_USAGE);
    CHECK_INT(s, -1);
}

TEST("/util/time/format")
{
    char buf[UTIL_TIME_SIZE];

    CHECK_STR(util_time_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
    CHECK_STR(util_time_rfc3339(1827979864, buf, sizeof(buf)),
              "2027-12-05T04:11:04Z");
    CHECK_STR(util_time_rfc3339(0, buf, 5), "?");
}

TEST("/util/time/parse")
{
    time_t t = 0;

    CHECK(util_time_parse("2027-12-05T04:11:04Z", &t));
    CHECK_INT(t, 1827979864);
    CHECK(util_time_parse("1970-01-01t00:00:00z", &t));
    CHECK_INT(t, 0);
    /* what journals of the first release hold */
    CHECK(util_time_parse("2027-12-05 04:11:04 UTC", &t));
    CHECK_INT(t, 1827979864);
    CHECK(util_time_parse("2028-02-29T23:59:59Z", &t));
}

TEST("/util/time/parse_rejects")
{
    static const char *bad[] = {"",
                                "2027-12-05",
                                "2027-12-05T04:11:04",
                                "2027-12-05T04:11:04+01:00",
                                "2027-12-05T04:11:04Z ",
                                "2027-12-05 04:11:04Z",
                                "2027-12-05T04:11:04 UTC",
                                "2027-13-05T04:11:04Z",
                                "2027-02-30T04:11:04Z",
                                "2027-12-05T24:00:00Z",
                                "2027-12-05T04:60:00Z",
                                "2027-1-05T04:11:04Z",
                                "x027-12-05T04:11:04Z"};
    time_t t = 42;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!util_time_parse(bad[i], &t));
    CHECK(!util_time_parse(NULL, &t));
    /* a probe: the detail of an earlier failure is kept */
    pe_failf(PE_E_REJECTED, "earlier");
    CHECK(!util_time_parse("", &t));
    CHECK_STR(pe_detail(), "earlier");
    CHECK_INT(t, 42);
}

TEST("/util/time/round_trip")
{
    static const time_t v[] = {0, 86399, 951782400, 1827979864, 4102444800};
    char buf[UTIL_TIME_SIZE];
    time_t t;
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        t = -1;
        CHECK(util_time_parse(util_time_rfc3339(v[i], buf, sizeof(buf)), &t));
        CHECK_INT(t, v[i]);
    }
}

TEST("/util/time/asn1")
{
    ASN1_TIME *a = ASN1_TIME_set(NULL, 1827979864);
    time_t t = 0;

    CHECK(a != NULL);
    CHECK_INT(util_time_asn1(a, &t), PE_OK);
    CHECK_INT(t, 1827979864);
    ASN1_TIME_free(a);
    CHECK_INT(util_time_asn1(NULL, &t), PE_E_INPUT);
}
