/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_retry_after.c - a Retry-After value (delta-seconds or an HTTP date)
 * as any server may send it (agent/http.c): the wait is always in
 * [0, 86400] or -1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    long w;

    if (size > 4096)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    w = http_retry_after_seconds(s, (time_t)1764921600);
    if (w < -1 || w > 86400)
        abort();
    free(s);
    return 0;
}
