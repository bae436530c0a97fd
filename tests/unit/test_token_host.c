/* SPDX-License-Identifier: Apache-2.0 */
/* Which token servers may receive the client secret (agent/ca_rest.c),
 * and the host libcurl would connect to (agent/http.c). */
#include <stdlib.h>
#include <string.h>

#include "ca_rest.h"
#include "harness.h"
#include "http.h"

#define SECTIGO_TOKEN                                                          \
    "https://auth.sso.sectigo.com/auth/realms/apiclients/protocol/"            \
    "openid-connect/token"

static char *host_of(const char *url)
{
    char *h = NULL;

    return http_url_host(url, &h) == PE_OK ? h : NULL;
}

TEST("/token_host/url_host")
{
    char *h;

    h = host_of("https://User:pw@Example.ORG.:8443/x?y#z");
    CHECK(h != NULL);
    CHECK_STR(h, "example.org");
    free(h);
    h = host_of("https://[::1]:9/t");
    CHECK(h != NULL);
    CHECK_STR(h, "::1");
    free(h);
    /* userinfo that looks like a host is not the host */
    h = host_of("https://127.0.0.1@evil.example/token");
    CHECK(h != NULL);
    CHECK_STR(h, "evil.example");
    free(h);
    CHECK(host_of("not a url") == NULL);
    CHECK(host_of(NULL) == NULL);
}

TEST("/token_host/own_host_allowed")
{
    CHECK_INT(ca_rest_check_token_url("https://127.0.0.1:4443",
                                      "https://127.0.0.1:4443/oauth2/token"),
              PE_OK);
    CHECK_INT(ca_rest_check_token_url("https://ca.example.org/api",
                                      "https://CA.example.org:9443/t"),
              PE_OK);
}

TEST("/token_host/sectigo_auth_for_sectigo_endpoint")
{
    CHECK_INT(ca_rest_check_token_url(
                  "https://acme.enroll.enterprise.sectigo.com", SECTIGO_TOKEN),
              PE_OK);
    /* not for an endpoint outside sectigo.com */
    CHECK_INT(ca_rest_check_token_url("https://ca.example.org", SECTIGO_TOKEN),
              PE_E_CA_AUTH);
    CHECK_INT(ca_rest_check_token_url("https://notsectigo.com", SECTIGO_TOKEN),
              PE_E_CA_AUTH);
    CHECK_INT(ca_rest_check_token_url("https://sectigo.com.evil.example",
                                      SECTIGO_TOKEN),
              PE_E_CA_AUTH);
}

TEST("/token_host/other_hosts_refused")
{
    CHECK_INT(ca_rest_check_token_url("https://127.0.0.1:4443",
                                      "https://127.0.0.2:4443/oauth2/token"),
              PE_E_CA_AUTH);
    CHECK(strstr(pe_detail(), "127.0.0.2") != NULL);
    CHECK(strstr(pe_detail(), "--token-url") != NULL);
    CHECK_INT(ca_rest_check_token_url(
                  "https://acme.enroll.enterprise.sectigo.com",
                  "https://auth.sso.sectigo.com.evil.example/token"),
              PE_E_CA_AUTH);
    CHECK_INT(ca_rest_check_token_url("https://127.0.0.1",
                                      "https://127.0.0.1@evil.example/t"),
              PE_E_CA_AUTH);
    /* http:// is refused even on the endpoint's own host */
    CHECK_INT(ca_rest_check_token_url("https://127.0.0.1",
                                      "http://127.0.0.1/oauth2/token"),
              PE_E_CA_AUTH);
}
