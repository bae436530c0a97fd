/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_pkcs11_uri.c - pkcs11: URIs from the command line, a config file or
 * the journal (pkcs11/slot.c, RFC 7512 through p11-kit), with the
 * pin-source they may carry (common/secret.c), and token URIs formatted
 * from token info of arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "tok_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    P11KitUri *uri = NULL;
    struct secret_source src;
    CK_TOKEN_INFO ti;
    const char *ps;
    char *s, *out = NULL;

    if (size > 8192)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (tok_uri_parse(s, &uri) == PE_OK && uri != NULL) {
        ps = p11_kit_uri_get_pin_source(uri);
        if (ps != NULL)
            (void)secret_source_parse(ps, &src);
        if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_ANY, &out) ==
            P11_KIT_URI_OK)
            free(out);
    }
    if (uri != NULL)
        p11_kit_uri_free(uri);
    memset(&ti, ' ', sizeof(ti));
    memcpy(&ti, data, size < sizeof(ti) ? size : sizeof(ti));
    free(tok_format_token_uri(&ti));
    free(s);
    return 0;
}
