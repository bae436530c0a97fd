/* SPDX-License-Identifier: Apache-2.0 */
#include "attest_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"

/* "NAME=value" as a new string in *pfact (free()). */
static enum pe_rc fact(const char *name, const char *value, char **pfact)
{
    size_t len = strlen(name) + 1 + strlen(value != NULL ? value : "");

    *pfact = malloc(len + 1);
    if (*pfact == NULL)
        return PE_E_NOMEM;
    snprintf(*pfact, len + 1, "%s=%s", name, value != NULL ? value : "");
    return PE_OK;
}

enum pe_rc attest_cmd_run(const char *cmd, const char *key_uri,
                          const char *key_id_hex, const char *token_uri,
                          long timeout_s, unsigned char **pout, size_t *plen)
{
    char *facts[4] = {NULL, NULL, NULL, NULL};
    struct child_cmd c = {0};
    bool too_big = false;
    unsigned char *buf = NULL;
    size_t len = 0, i;
    enum pe_rc rc;

    *pout = NULL;
    *plen = 0;
    rc = fact("P11ENROLL_KEY_URI", key_uri, &facts[0]);
    if (rc == PE_OK)
        rc = fact("P11ENROLL_KEY_ID", key_id_hex, &facts[1]);
    if (rc == PE_OK)
        rc = fact("P11ENROLL_TOKEN_URI", token_uri, &facts[2]);
    buf = malloc(ATTEST_CMD_MAX + 1);
    if (rc != PE_OK || buf == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    c.cmd = cmd;
    c.what = "attestation command";
    c.longer = "--attestation-timeout";
    c.facts = (const char *const *)facts;
    c.timeout_s = timeout_s > 0 ? timeout_s : ATTEST_CMD_TIMEOUT;
    c.fail_rc = PE_E_TOKEN;
    rc = child_run(&c, buf, ATTEST_CMD_MAX, &len, &too_big);
    if (rc != PE_OK)
        goto out;
    if (too_big) {
        rc = pe_failf(PE_E_TOKEN,
                      "The attestation command printed more "
                      "than %d bytes.",
                      ATTEST_CMD_MAX);
        goto out;
    }
    if (len == 0) {
        rc = pe_failf(PE_E_TOKEN,
                      "The attestation command printed "
                      "nothing: %s",
                      cmd);
        goto out;
    }
    buf[len] = '\0';
    *pout = buf;
    *plen = len;
    buf = NULL;
    rc = PE_OK;
out:
    for (i = 0; i < 3; i++)
        free(facts[i]);
    free(buf);
    return rc;
}
