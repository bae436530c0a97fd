/* SPDX-License-Identifier: Apache-2.0 */
#include "rc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#define DETAIL_MAX 1024

static _Thread_local char detail[DETAIL_MAX];

static const struct {
    const char *name;
    const char *message;
    int exit_code;
} table[PE_RC_COUNT] = {
    [PE_OK] = {"PE_OK", "Done.", PE_EXIT_OK},
    [PE_PENDING] = {"PE_PENDING",
                    "The request was submitted and is waiting for the CA.",
                    PE_EXIT_PENDING},
    [PE_E_REJECTED] = {"PE_E_REJECTED", "The CA rejected the request.",
                       PE_EXIT_REJECTED},
    [PE_E_CA_UNREACHABLE] = {"PE_E_CA_UNREACHABLE",
                             "The CA could not be reached.",
                             PE_EXIT_CA_UNREACHABLE},
    [PE_E_CA_TLS] = {"PE_E_CA_TLS", "The CA's TLS certificate is not trusted.",
                     PE_EXIT_CA_UNREACHABLE},
    [PE_E_CA_AUTH] = {"PE_E_CA_AUTH",
                      "The CA refused the credentials or one-time code.",
                      PE_EXIT_CA_ERROR},
    [PE_E_CA_PROTOCOL] = {"PE_E_CA_PROTOCOL",
                          "The CA sent an answer that cannot be used.",
                          PE_EXIT_CA_ERROR},
    [PE_E_USAGE] = {"PE_E_USAGE", "Bad command line; see --help.",
                    PE_EXIT_USAGE},
    [PE_E_CONFIG] = {"PE_E_CONFIG", "The configuration is not valid.",
                     PE_EXIT_USAGE},
    [PE_E_MODULE] = {"PE_E_MODULE", "The PKCS#11 module could not be loaded.",
                     PE_EXIT_TOKEN},
    [PE_E_TOKEN_NOT_FOUND] = {"PE_E_TOKEN_NOT_FOUND",
                              "No single token matches.", PE_EXIT_TOKEN},
    [PE_E_TOKEN] = {"PE_E_TOKEN", "The token reported an error.",
                    PE_EXIT_TOKEN},
    [PE_E_PIN_INCORRECT] = {"PE_E_PIN_INCORRECT", "The token refused the PIN.",
                            PE_EXIT_PIN},
    [PE_E_PIN_LOCKED] = {"PE_E_PIN_LOCKED",
                         "The PIN is locked or on its final try.", PE_EXIT_PIN},
    [PE_E_PIN_SOURCE] = {"PE_E_PIN_SOURCE", "No PIN could be read.",
                         PE_EXIT_PIN},
    [PE_E_KEY] = {"PE_E_KEY", "The key on the token cannot be used.",
                  PE_EXIT_TOKEN},
    [PE_E_VERIFY] = {"PE_E_VERIFY", "The issued certificate did not verify.",
                     PE_EXIT_VERIFY},
    [PE_E_INPUT] = {"PE_E_INPUT", "The input cannot be parsed.",
                    PE_EXIT_VERIFY},
    [PE_E_IO] = {"PE_E_IO", "A local file could not be read or written.",
                 PE_EXIT_IO},
    [PE_E_STATE] = {"PE_E_STATE", "The enrollment journal is not usable.",
                    PE_EXIT_IO},
    [PE_E_NOT_RENEWED] = {"PE_E_NOT_RENEWED",
                          "A certificate that falls due cannot be renewed "
                          "here.",
                          PE_EXIT_NOT_RENEWED},
    [PE_E_NOMEM] = {"PE_E_NOMEM", "Out of memory.", PE_EXIT_INTERNAL},
    [PE_E_INTERRUPTED] = {"PE_E_INTERRUPTED", "Interrupted.",
                          PE_EXIT_INTERRUPTED},
    [PE_E_INTERNAL] = {"PE_E_INTERNAL", "Internal error.", PE_EXIT_INTERNAL},
};

static int valid(enum pe_rc rc)
{
    return (int)rc >= 0 && rc < PE_RC_COUNT && table[rc].name != NULL;
}

const char *pe_rc_message(enum pe_rc rc)
{
    return valid(rc) ? table[rc].message : table[PE_E_INTERNAL].message;
}

const char *pe_rc_name(enum pe_rc rc)
{
    return valid(rc) ? table[rc].name : "PE_E_UNKNOWN";
}

int pe_rc_exit(enum pe_rc rc)
{
    return valid(rc) ? table[rc].exit_code : PE_EXIT_INTERNAL;
}

enum pe_rc pe_failf(enum pe_rc rc, const char *fmt, ...)
{
    char buf[DETAIL_MAX];
    va_list ap;

    /* format aside first: callers may pass pe_detail() as an argument */
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    memcpy(detail, buf, sizeof(detail));
    return rc;
}

const char *pe_detail(void)
{
    return detail;
}

void pe_clear(void)
{
    detail[0] = '\0';
}

const char *pe_sentence(enum pe_rc rc)
{
    return detail[0] != '\0' ? detail : pe_rc_message(rc);
}

enum pe_rc pe_fail_ossl(enum pe_rc rc, const char *what)
{
    unsigned long e;
    size_t len;
    char buf[256];

    snprintf(detail, sizeof(detail), "%s", what);
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        len = strlen(detail);
        if (len + 3 < sizeof(detail))
            snprintf(detail + len, sizeof(detail) - len, ": %s",
                     ERR_reason_error_string(e) ? ERR_reason_error_string(e)
                                                : buf);
    }
    return rc;
}
