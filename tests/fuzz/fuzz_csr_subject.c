/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_csr_subject.c - the --subject parser ("/CN=x/O=a\/b"), and the
 * email check, on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csr_subject subj = {0};
    char *s, *nl;

    if (size > 8192)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* "subject\nemail": both parsers from one input */
    subj.dn = s;
    nl = strchr(s, '\n');
    if (nl != NULL) {
        *nl = '\0';
        subj.email = nl + 1;
    }
    (void)csr_subject_check(&subj);
    free(s);
    ERR_clear_error();
    return 0;
}
