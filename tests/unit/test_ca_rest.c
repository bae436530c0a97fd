/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of CA answers (agent/ca.c helpers the protocols share), with
 * canned JSON in SCM's shapes.  The wire flows run against scm-sim in
 * tests/integration/enroll_*.sh. */
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "harness.h"

static struct http_response canned(const char *text)
{
    struct http_response r;

    memset(&r, 0, sizeof(r));
    r.status = 200;
    r.body = strdup(text);
    r.len = strlen(text);
    return r;
}

TEST("/ca/error_body")
{
    const char *b = "{\"code\":-103,\"description\":\"Certificate has not "
                    "been collected yet\"}";
    char desc[64];
    long code = 0;

    CHECK(ca_parse_error(b, strlen(b), &code, desc, sizeof(desc)));
    CHECK_INT(code, -103);
    CHECK_STR(desc, "Certificate has not been collected yet");
    CHECK(ca_retry_later(404, code));
}

TEST("/ca/error_body_control_chars_and_truncation")
{
    const char *b = "{\"code\":-7,\"description\":\"a\\u001bb\\nc "
                    "0123456789012345678901234567890\"}";
    char desc[16];
    long code = 0;

    CHECK(ca_parse_error(b, strlen(b), &code, desc, sizeof(desc)));
    CHECK_INT(code, -7);
    CHECK_STR(desc, "a b c 012345678");
    CHECK(!ca_retry_later(400, code));
}

TEST("/ca/error_body_not_scm")
{
    char desc[16];
    long code = 1;

    CHECK(!ca_parse_error("<html>", 6, &code, desc, sizeof(desc)));
    CHECK(!ca_parse_error("{\"code\":\"x\"}", 12, &code, desc, sizeof(desc)));
    CHECK(!ca_parse_error("[1]", 3, &code, desc, sizeof(desc)));
    CHECK(!ca_parse_error(NULL, 0, &code, desc, sizeof(desc)));
    CHECK_INT(code, 0);
}

TEST("/ca/retry_later_codes")
{
    CHECK(ca_retry_later(400, -1400));
    CHECK(ca_retry_later(400, -140));
    CHECK(ca_retry_later(400, -195));
    CHECK(ca_retry_later(404, -109));
    CHECK(ca_retry_later(429, 0));
    CHECK(ca_retry_later(503, 0));
    CHECK(!ca_retry_later(404, -105));
    CHECK(!ca_retry_later(401, -3));
}

TEST("/ca/status_words")
{
    enum ca_state s;

    CHECK_INT(ca_state_of_word("Applied", &s), PE_OK);
    CHECK_INT(s, CA_STATE_PENDING);
    CHECK_INT(ca_state_of_word("REQUESTED", &s), PE_OK);
    CHECK_INT(s, CA_STATE_PENDING);
    CHECK_INT(ca_state_of_word("issued", &s), PE_OK);
    CHECK_INT(s, CA_STATE_ISSUED);
    CHECK_INT(ca_state_of_word("Declined", &s), PE_OK);
    CHECK_INT(s, CA_STATE_REJECTED);
    CHECK_INT(ca_state_of_word("revoked", &s), PE_OK);
    CHECK_INT(s, CA_STATE_REJECTED);
    CHECK_INT(ca_state_of_word("Frobnicated", &s), PE_E_CA_PROTOCOL);
    CHECK_CONTAINS(pe_detail(), "unknown status \"Frobnicated\"");
    CHECK_INT(ca_state_of_word(NULL, &s), PE_E_CA_PROTOCOL);
}

TEST("/ca/json_object_and_fields")
{
    struct http_response r = canned("{\"certId\":\"1234\",\"n\":7,"
                                    "\"bad\":\"a\\u0001b\",\"num\":\"x\"}");
    const char *v = NULL;
    json_t *j = NULL;
    long n = 0;

    CHECK_INT(ca_json_object(&r, "the test", &j), PE_OK);
    CHECK_INT(ca_json_str(j, "certId", 64, true, "the test", &v), PE_OK);
    CHECK_STR(v, "1234");
    CHECK_INT(ca_json_str(j, "certId", 3, true, "the test", &v),
              PE_E_CA_PROTOCOL);
    CHECK_INT(ca_json_str(j, "bad", 64, true, "the test", &v),
              PE_E_CA_PROTOCOL);
    CHECK_INT(ca_json_str(j, "n", 64, true, "the test", &v), PE_E_CA_PROTOCOL);
    CHECK_CONTAINS(pe_detail(), "\"n\" is not a string");
    CHECK_INT(ca_json_str(j, "absent", 64, false, "the test", &v), PE_OK);
    CHECK(v == NULL);
    CHECK_INT(ca_json_str(j, "absent", 64, true, "the test", &v),
              PE_E_CA_PROTOCOL);
    CHECK_INT(ca_json_long(j, "n", 1, 10, 0, "the test", &n), PE_OK);
    CHECK_INT(n, 7);
    CHECK_INT(ca_json_long(j, "n", 8, 10, 0, "the test", &n), PE_E_CA_PROTOCOL);
    CHECK_INT(ca_json_long(j, "num", 0, 10, 0, "the test", &n),
              PE_E_CA_PROTOCOL);
    CHECK_INT(ca_json_long(j, "absent", 0, 10, 5, "the test", &n), PE_OK);
    CHECK_INT(n, 5);
    json_decref(j);
    http_response_clear(&r);
}

TEST("/ca/json_malformed")
{
    struct http_response r = canned("{\"status\": \"Appl");
    struct http_response a = canned("[\"Issued\"]");
    json_t *j = NULL;

    CHECK_INT(ca_json_object(&r, "the status request", &j), PE_E_CA_PROTOCOL);
    CHECK_CONTAINS(pe_detail(), "answer to the status request is not valid");
    CHECK(j == NULL);
    CHECK_INT(ca_json_object(&a, "the status request", &j), PE_E_CA_PROTOCOL);
    CHECK_CONTAINS(pe_detail(), "not a JSON object");
    http_response_clear(&r);
    http_response_clear(&a);
}

TEST("/ca/request_ids")
{
    CHECK(ca_id_valid("12345"));
    CHECK(ca_id_valid("a-b_c.d"));
    CHECK(!ca_id_valid(""));
    CHECK(!ca_id_valid("../etc"));
    CHECK(!ca_id_valid("a/b"));
    CHECK(!ca_id_valid("a b"));
    CHECK(!ca_id_valid(NULL));
}

TEST("/ca/url_join_and_b64")
{
    char *u = NULL, *b = NULL;

    CHECK_INT(ca_url_join("https://x/customer/demo/cs/cs/", "/auth/email", &u),
              PE_OK);
    CHECK_STR(u, "https://x/customer/demo/cs/cs/auth/email");
    free(u);
    CHECK_INT(ca_b64((const unsigned char *)"\x30\x82\x01", 3, &b), PE_OK);
    CHECK_STR(b, "MIIB");
    free(b);
}

TEST("/ca/rest_refuses_http_endpoint")
{
    struct ca_config cfg;
    struct ca *ca = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.protocol = CA_PROTO_REST;
    cfg.url = "http://127.0.0.1:1";
    CHECK_INT(ca_new(&cfg, &ca), PE_E_CONFIG);
    CHECK_CONTAINS(pe_detail(), "must be https://");
    CHECK(ca == NULL);
    cfg.protocol = CA_PROTO_FORM;
    CHECK_INT(ca_new(&cfg, &ca), PE_E_CONFIG);
    CHECK(ca == NULL);
}
