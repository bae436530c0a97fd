/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui.c - the questions of ui.h.
 */
#include "ui.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "child.h"
#include "enroll.h"
#include "interrupt.h"
#include "log.h"

/* What --otp-cmd may print: a code on the first line, a little more after
 * it (a script's chatter is not read past this). */
#define OTP_CMD_MAX 1024

/*
 * --otp-file names a file that a mail filter or a person writes when the
 * mail comes: a regular file older than the request holds the code of an
 * earlier one, so wait (interruptibly) until it is rewritten.  A FIFO or
 * a descriptor gives only what is written now.
 */
static enum pe_rc wait_fresh(const char *path, const struct timespec *since,
                             long wait_s)
{
    struct stat st;
    long i;

    for (i = 0; i < wait_s * 2; i++) {
        /* empty: a writer that truncated the file has not written yet */
        if (stat(path, &st) == 0 &&
            (!S_ISREG(st.st_mode) ||
             (st.st_size > 0 && (st.st_mtim.tv_sec > since->tv_sec ||
                                 (st.st_mtim.tv_sec == since->tv_sec &&
                                  st.st_mtim.tv_nsec >= since->tv_nsec)))))
            return PE_OK;
        if (i == 0)
            say("Waiting for the one-time code in %s (at most %ld s)...", path,
                wait_s);
        if (interrupt_sleep_ms(500) != PE_OK)
            return PE_E_INTERRUPTED;
    }
    return pe_failf(PE_E_USAGE,
                    "No new one-time code reached %s within %ld s of the "
                    "request; write the code from the e-mail there (a "
                    "longer wait: --otp-timeout).",
                    path, wait_s);
}

/*
 * --otp-cmd: the first line the command prints is the code.  It is told
 * the address and the time the mail was asked for (P11ENROLL_OTP_SINCE,
 * Unix seconds) so that it can pass over older mails; nothing secret.
 * The output is read into locked memory and only the code is kept.
 */
static enum pe_rc code_from_cmd(const struct enroll_opts *o, const char *email,
                                time_t since, long wait_s,
                                struct secret **pcode)
{
    char f_email[300], f_since[64];
    const char *facts[] = {f_email, f_since, NULL};
    struct child_cmd c = {0};
    unsigned char *buf;
    size_t len = 0, n;
    bool truncated = false;
    enum pe_rc rc;

    snprintf(f_email, sizeof(f_email), "P11ENROLL_EMAIL=%s", email);
    snprintf(f_since, sizeof(f_since), "P11ENROLL_OTP_SINCE=%lld",
             (long long)since);
    c.cmd = o->otp_cmd;
    c.what = "one-time code command (--otp-cmd)";
    c.longer = "--otp-timeout";
    c.facts = facts;
    c.timeout_s = wait_s;
    c.fail_rc = PE_E_CONFIG;
    buf = secret_mem_alloc(OTP_CMD_MAX);
    if (buf == NULL)
        return PE_E_NOMEM;
    say("Running the --otp-cmd for the code sent to %s (at most %ld s)...",
        email, wait_s);
    rc = child_run(&c, buf, OTP_CMD_MAX, &len, &truncated);
    if (rc != PE_OK)
        goto out;
    for (n = 0; n < len && buf[n] != '\n' && buf[n] != '\r'; n++)
        ;
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    if (n == 0 || memchr(buf, '\0', n) != NULL || (n == len && truncated)) {
        rc = pe_failf(PE_E_CONFIG,
                      "The --otp-cmd printed no one-time code on its first "
                      "line: %s",
                      o->otp_cmd);
        goto out;
    }
    rc = secret_from_bytes(buf, n, pcode);
out:
    secret_mem_free(buf, OTP_CMD_MAX);
    return rc;
}

enum pe_rc ui_get_code(void *arg, const char *email, struct secret **pcode)
{
    const struct enroll_opts *o = arg;
    struct secret_source src = {SECRET_NONE, NULL, NULL};
    struct timespec since;
    char prompt[300];
    long wait_s = o->otp_timeout > 0 ? o->otp_timeout : UI_OTP_WAIT;
    enum pe_rc rc;

    /* the mail was requested just before this call */
    clock_gettime(CLOCK_REALTIME, &since);
    since.tv_sec -= 1; /* a writer's clock granularity */
    if (o->otp_cmd != NULL)
        return code_from_cmd(o, email, since.tv_sec, wait_s, pcode);
    if (o->otp_file != NULL) {
        rc = wait_fresh(o->otp_file, &since, wait_s);
        if (rc != PE_OK)
            return rc;
        src.kind = SECRET_FILE;
        src.arg = o->otp_file;
    } else if (secret_can_prompt()) {
        snprintf(prompt, sizeof(prompt), "One-time code from the e-mail to %s",
                 email);
        src.kind = SECRET_PROMPT;
        src.prompt = prompt;
    } else {
        return pe_failf(PE_E_USAGE,
                        "The one-time code sent to %s is needed: "
                        "give --otp-file or --otp-cmd, or run on a "
                        "terminal.",
                        email);
    }
    rc = secret_read(&src, false, pcode);
    if (rc == PE_E_PIN_SOURCE)
        rc = pe_failf(PE_E_USAGE, "The one-time code could not be read: %s",
                      pe_detail());
    return rc;
}

bool ui_ask_yes(const char *question)
{
    char line[16];

    if (!secret_can_prompt())
        return false;
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

enum pe_rc ui_accept_terms(void *arg, const struct ca_terms *t)
{
    const struct enroll_opts *o = arg;
    size_t i;

    /* a term the form does not offer is refused before a key is made */
    for (i = 0; o->term > 0 && i < t->nterms && t->terms[i] != o->term; i++)
        ;
    if (o->term > 0 && t->nterms > 0 && i == t->nterms)
        return pe_failf(PE_E_USAGE,
                        "The form does not offer a term of %ld days (it "
                        "offers %ld%s).",
                        o->term, t->terms[0],
                        t->nterms > 1 ? " and others" : "");

    say("Organization: %s", t->organization ? t->organization : "-");
    say("Department:   %s", t->department ? t->department : "-");
    if (t->profile != NULL)
        say("Profile:      %s", t->profile);
    say("Term:         %ld days", o->term > 0 ? o->term : t->default_term);
    if (t->eula_text != NULL && t->eula_text[0] != '\0' && !o->accept_eula)
        say("\n%s\n", t->eula_text);
    if (o->accept_eula) {
        say("EULA%s%s accepted (--accept-eula).", t->eula_id ? " " : "",
            t->eula_id ? t->eula_id : "");
        return PE_OK;
    }
    if (ui_ask_yes("Do you accept the EULA above?"))
        return PE_OK;
    return pe_failf(PE_E_USAGE, "The EULA was not accepted, so nothing was "
                                "made or submitted; read it and pass "
                                "--accept-eula to accept it.");
}
