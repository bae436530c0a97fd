/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonout.c - the versioned --json envelope (docs/json-schema.md).
 */
#include "jsonout.h"

#include <stdio.h>
#include <stdlib.h>

json_t *jsonout_error(enum pe_rc rc)
{
    if (rc == PE_OK)
        return NULL;
    return json_pack("{s:i, s:s, s:s}", "code", pe_rc_exit(rc), "name",
                     pe_rc_name(rc), "message", pe_sentence(rc));
}

json_t *jsonout_envelope(const char *command, json_t *result, enum pe_rc rc)
{
    json_t *err = rc == PE_OK ? json_null() : jsonout_error(rc);

    if (err == NULL) {
        json_decref(result);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "schema", JSONOUT_SCHEMA,
                     "command", command, "result",
                     result != NULL ? result : json_null(), "error", err);
}

enum pe_rc jsonout_print(const char *command, json_t *result, enum pe_rc rc)
{
    json_t *env = jsonout_envelope(command, result, rc);
    char *s;

    if (env == NULL)
        return PE_E_NOMEM;
    s = json_dumps(env, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(env);
    if (s == NULL)
        return PE_E_NOMEM;
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    return rc;
}
