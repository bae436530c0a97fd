/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ca_answer.c - the CA's answers (agent/ca.c, agent/ca_text.c): the
 * first byte picks the HTTP status, the rest is the body of a status, a
 * download or an error answer; the status words and reasons must come out
 * without control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum pe_rc fail(const struct http_response *p, const char *what,
                       enum pe_rc final)
{
    char desc[256];
    long code = 0;
    enum pe_rc rc;

    if (ca_fail_transient(p, "The CA", what, &code, desc, sizeof(desc), &rc))
        return rc;
    ca_text_clean(desc, false);
    return final;
}

static void clean_checked(char *s)
{
    const unsigned char *p;

    ca_text_clean(s, false);
    for (p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 400, 401, 404, 429, 500, 503, 202};
    struct http_response r;
    struct ca_status st;
    unsigned char *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;
    const char *v = NULL;
    long n = 0;
    char desc[64];

    if (size < 1 || size > 65536)
        return 0;
    memset(&r, 0, sizeof(r));
    r.status = statuses[data[0] % 8];
    r.retry_after = (data[0] & 0x80) != 0 ? strdup("7") : NULL;
    r.body = malloc(size);
    if (r.body == NULL)
        return 0;
    memcpy(r.body, data + 1, size - 1);
    r.body[size - 1] = '\0';
    r.len = size - 1;

    memset(&st, 0, sizeof(st));
    if (ca_status_answer(&r, fail, &st) == PE_OK) {
        clean_checked(st.word);
        clean_checked(st.reason);
    }
    (void)ca_parse_error(r.body, r.len, &n, desc, sizeof(desc));
    if (ca_json_object(&r, "the fuzz", &j) == PE_OK) {
        (void)ca_json_str(j, "certId", CA_ID_MAX, true, "the fuzz", &v);
        if (v != NULL)
            (void)ca_text_id_ok(v);
        (void)ca_json_long(j, "expires_in", 1, 86400, 300, "the fuzz", &n);
        json_decref(j);
    }
    if (ca_download_answer(&r, fail, &buf, &len, &st) == PE_OK) {
        free(buf); /* the body was handed over */
        r.body = NULL;
        r.len = 0;
    }
    http_response_clear(&r);
    return 0;
}
