/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_www_authenticate.c - a 401's WWW-Authenticate value as any server
 * may send it: http_auth_param, then the token-host policy on what it found
 * (agent/http.c, agent/ca_rest.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_rest.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"authorization_uri", "error", "realm",
                                        "error_description"};
    char *s, *v = NULL;
    size_t i;

    if (size > 16384)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (http_auth_param(s, names[i], &v) == PE_OK && v != NULL) {
            if (i == 0)
                (void)ca_rest_check_token_url("https://ca.example.org", v);
            free(v);
            v = NULL;
        }
    }
    free(s);
    return 0;
}
