/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd.h - the subcommands; one cmd_<verb>.c file each.
 *
 * A command gets argv with argv[0] == its verb and returns an enum pe_rc;
 * main() prints the one sentence and maps it to the exit code.  A command
 * that printed its own message already returns it through pe_failf()
 * detail-free (pe_clear()) only when nothing more should be said.
 */
#ifndef P11E_CMD_H
#define P11E_CMD_H

#include "rc.h"

struct cmd {
    const char *name;
    enum pe_rc (*run)(int argc, char **argv);
    const char *summary;
};

/* The table, NULL-terminated (main.c). */
extern const struct cmd pe_commands[];

/* p11enroll csr: key on the token and a PKCS#10 request (cmd_csr.c). */
enum pe_rc cmd_csr(int argc, char **argv);

/* p11enroll install: verified certificate and chain onto the token
 * (cmd_install.c). */
enum pe_rc cmd_install(int argc, char **argv);

/* p11enroll tokens: modules and tokens with URIs and flags
 * (cmd_tokens.c). */
enum pe_rc cmd_tokens(int argc, char **argv);

/* p11enroll list: keys and certificates on a token (cmd_list.c). */
enum pe_rc cmd_list(int argc, char **argv);

/* p11enroll enroll: the whole flow against SCM (cmd_enroll.c). */
enum pe_rc cmd_enroll(int argc, char **argv);

/* p11enroll resume [ID]: continue a recorded enrollment (cmd_resume.c). */
enum pe_rc cmd_resume(int argc, char **argv);

/* p11enroll forget ID: drop a recorded enrollment, and with --remove-key
 * the key it made (cmd_forget.c). */
enum pe_rc cmd_forget(int argc, char **argv);

/* p11enroll status [ID]: the recorded enrollments (cmd_status.c). */
enum pe_rc cmd_status(int argc, char **argv);

/* p11enroll doctor: pre-flight checks of token, PIN, certificates and CA
 * (cmd_doctor.c). */
enum pe_rc cmd_doctor(int argc, char **argv);

/* p11enroll renew: enroll again what expires within a window
 * (cmd_renew.c). */
enum pe_rc cmd_renew(int argc, char **argv);

/* p11enroll export: a key's certificate and chain from the token
 * (cmd_export.c). */
enum pe_rc cmd_export(int argc, char **argv);

/* p11enroll sign-setup TOOL: signing commands and config files for a key
 * on the token (cmd_sign_setup.c). */
enum pe_rc cmd_sign_setup(int argc, char **argv);
/* p11enroll adopt: a journal record for a certificate and key already on
 * a token, so renew manages it (cmd_adopt.c). */
enum pe_rc cmd_adopt(int argc, char **argv);

/* Print the usage of the program to f-like stream (stdout or stderr). */
void pe_usage(int to_stderr);

#endif
