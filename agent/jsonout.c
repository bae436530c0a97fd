/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonout.c - the versioned --json envelope (docs/json-schema.md).
 */
#include "jsonout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "bundle.h"
#include "util.h"

static bool printed;

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
    printed = true;
    return rc;
}

bool jsonout_printed(void)
{
    return printed;
}

bool jsonout_wanted(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && argv[i] != NULL; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--json") == 0)
            return true;
    }
    return false;
}

json_t *jsonout_time(time_t t)
{
    char buf[UTIL_TIME_SIZE];

    if (t == 0)
        return json_null();
    return json_string(util_time_rfc3339(t, buf, sizeof(buf)));
}

json_t *jsonout_time_text(const char *s)
{
    time_t t = 0;

    if (!util_time_parse(s, &t))
        return json_null();
    return jsonout_time(t);
}

const char *jsonout_snake(const char *name, char *buf, size_t size)
{
    size_t n = 0;
    const char *p;

    for (p = name; *p != '\0'; p++) {
        if (n + 3 > size) {
            if (size > 0)
                buf[0] = '\0';
            return buf;
        }
        if (*p >= 'A' && *p <= 'Z') {
            if (n > 0)
                buf[n++] = '_';
            buf[n++] = (char)(*p - 'A' + 'a');
        } else {
            buf[n++] = *p;
        }
    }
    if (size > 0)
        buf[n] = '\0';
    return buf;
}

json_t *jsonout_cert(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;
    char s[512], i[512];
    time_t end = 0;
    json_t *j;

    if (util_time_asn1(X509_get0_notAfter(x), &end) != PE_OK)
        end = 0;
    j = json_pack(
        "{s:s, s:s, s:s, s:o}", "subject",
        bundle_name_str(X509_get_subject_name(x), s, sizeof(s)), "issuer",
        bundle_name_str(X509_get_issuer_name(x), i, sizeof(i)), "serial",
        serial != NULL ? serial : "?", "not_after", jsonout_time(end));
    OPENSSL_free(serial);
    BN_free(bn);
    return j;
}
