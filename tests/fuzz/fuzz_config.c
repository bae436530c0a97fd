/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_config.c - a config file (agent/enroll_args.c): `key = value`
 * lines of any bytes, read through --config as p11enroll reads them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    char verb[] = "enroll", opt[] = "--config";
    char *argv[] = {verb, opt, path, NULL};
    struct enroll_opts o;
    FILE *f;
    int first = 0;
    bool help = false;

    if (size > 65536)
        return 0;
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/p11e-fuzz-config.%ld.conf",
                 (long)getpid());
    f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    if (size > 0 && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    fclose(f);
    (void)enroll_parse_args(ENROLL_VERB_ENROLL, 3, argv, &o, &first, &help);
    enroll_opts_free(&o);
    unlink(path);
    return 0;
}
