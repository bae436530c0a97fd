/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of agent/http.c; the network side is tests/integration. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http.h"

TEST("/http/retry_after_delta")
{
    CHECK_INT(http_retry_after_seconds("7", 1000), 7);
    CHECK_INT(http_retry_after_seconds(" 0 ", 1000), 0);
    CHECK_INT(http_retry_after_seconds("999999", 1000), 86400);
    CHECK_INT(http_retry_after_seconds(NULL, 1000), -1);
    CHECK_INT(http_retry_after_seconds("soon", 1000), -1);
    CHECK_INT(http_retry_after_seconds("5x", 1000), -1);
}

TEST("/http/retry_after_date")
{
    /* Sun, 06 Nov 1994 08:49:37 GMT == 784111777 */
    CHECK_INT(http_retry_after_seconds("Sun, 06 Nov 1994 08:49:37 GMT",
                                       784111777 - 30),
              30);
    CHECK_INT(http_retry_after_seconds("Sun, 06 Nov 1994 08:49:37 GMT",
                                       784111777 + 30),
              0);
}

TEST("/http/auth_param_quoted")
{
    char *v = NULL;

    CHECK_INT(http_auth_param("Bearer realm=\"scm\", authorization_uri=\""
                              "https://a.example/t\"",
                              "authorization_uri", &v),
              PE_OK);
    CHECK_STR(v, "https://a.example/t");
    free(v);
}

TEST("/http/auth_param_token_and_absent")
{
    char *v = NULL;

    CHECK_INT(http_auth_param("Bearer authorization_uri=https://x/t,realm=a",
                              "authorization_uri", &v),
              PE_OK);
    CHECK_STR(v, "https://x/t");
    free(v);
    v = NULL;
    CHECK_INT(http_auth_param("Bearer realm=\"a\"", "authorization_uri", &v),
              PE_OK);
    CHECK(v == NULL);
    CHECK_INT(http_auth_param(NULL, "authorization_uri", &v), PE_OK);
    CHECK(v == NULL);
    /* a parameter whose name only ends with the one asked for */
    CHECK_INT(http_auth_param("Bearer xauthorization_uri=\"no\"",
                              "authorization_uri", &v),
              PE_OK);
    CHECK(v == NULL);
}

TEST("/http/auth_param_unterminated")
{
    char *v = NULL;

    CHECK_INT(http_auth_param("Bearer authorization_uri=\"https://x",
                              "authorization_uri", &v),
              PE_E_CA_PROTOCOL);
    CHECK(v == NULL);
}

TEST("/http/form_encodes")
{
    struct secret *body = NULL;

    CHECK_INT(http_form_add(&body, "grant_type", "client_credentials", 18),
              PE_OK);
    CHECK_INT(http_form_add(&body, "client_secret", "a b&c=d+", 8), PE_OK);
    CHECK_STR(body->buf,
              "grant_type=client_credentials&client_secret=a%20b%26c%3Dd%2B");
    CHECK_INT(body->len, strlen(body->buf));
    secret_free(body);
}

TEST("/http/url_is_https")
{
    CHECK(http_url_is_https("https://x"));
    CHECK(http_url_is_https("HTTPS://x"));
    CHECK(!http_url_is_https("http://x"));
    CHECK(!http_url_is_https(NULL));
}
