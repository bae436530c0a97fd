/* SPDX-License-Identifier: Apache-2.0 */
#include "fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#ifndef SOFTHSM_MODULE_PATH
#define SOFTHSM_MODULE_PATH ""
#endif

int fx_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

void fx_softhsm_add_token(struct fx_softhsm *fx, const char *label)
{
    if (fx_sh("SOFTHSM2_CONF='%s' softhsm2-util --init-token --free "
              "--label '%s' --so-pin %s --pin %s >/dev/null",
              fx->conf, label, FX_SO_PIN, FX_USER_PIN) != 0)
        harness_fail(__FILE__, __LINE__, "softhsm2-util --init-token %s",
                     label);
}

void fx_softhsm_begin(struct fx_softhsm *fx)
{
    const char *tmp = getenv("TMPDIR");
    FILE *f;

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->module, sizeof(fx->module), "%s", SOFTHSM_MODULE_PATH);
    if (fx->module[0] == '\0' || access(fx->module, R_OK) != 0 ||
        fx_sh("command -v softhsm2-util >/dev/null") != 0)
        harness_skip("SoftHSM2 is not installed");
    snprintf(fx->dir, sizeof(fx->dir), "%s/p11e-softhsm-XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(fx->dir) == NULL)
        harness_fail(__FILE__, __LINE__, "mkdtemp");
    if (snprintf(fx->conf, sizeof(fx->conf), "%.4000s/softhsm2.conf",
                 fx->dir) >= (int)sizeof(fx->conf))
        harness_fail(__FILE__, __LINE__, "TMPDIR is too long");
    if (fx_sh("mkdir -p '%s/tokens'", fx->dir) != 0)
        harness_fail(__FILE__, __LINE__, "mkdir tokens");
    f = fopen(fx->conf, "w");
    if (f == NULL)
        harness_fail(__FILE__, __LINE__, "fopen %s", fx->conf);
    fprintf(f,
            "directories.tokendir = %s/tokens\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n",
            fx->dir);
    fclose(f);
    setenv("SOFTHSM2_CONF", fx->conf, 1);
    snprintf(fx->uri, sizeof(fx->uri), "pkcs11:token=%s", FX_LABEL);
    fx_softhsm_add_token(fx, FX_LABEL);
}

void fx_softhsm_end(struct fx_softhsm *fx)
{
    if (fx->dir[0] != '\0' && getenv("P11E_KEEP_TMP") == NULL)
        fx_sh("rm -rf '%s'", fx->dir);
    fx->dir[0] = '\0';
}
