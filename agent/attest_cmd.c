/* SPDX-License-Identifier: Apache-2.0 */
#include "attest_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

/* environ plus our three variables, in a new array (free the strings
 * we made: the first three). */
static char **child_env(const char *key_uri, const char *key_id_hex,
                        const char *token_uri)
{
    const char *names[3] = {
        "P11ENROLL_KEY_URI=", "P11ENROLL_KEY_ID=", "P11ENROLL_TOKEN_URI="};
    const char *values[3] = {key_uri, key_id_hex, token_uri};
    size_t n = 0, i, j = 3;
    char **env;

    while (environ[n] != NULL)
        n++;
    env = calloc(n + 4, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (i = 0; i < 3; i++) {
        size_t len = strlen(names[i]) + strlen(values[i] ? values[i] : "");

        env[i] = malloc(len + 1);
        if (env[i] == NULL)
            goto fail;
        snprintf(env[i], len + 1, "%s%s", names[i], values[i] ? values[i] : "");
    }
    for (i = 0; i < n; i++)
        if (strncmp(environ[i], "P11ENROLL_KEY_", 14) != 0 &&
            strncmp(environ[i], "P11ENROLL_TOKEN_URI=", 20) != 0)
            env[j++] = environ[i];
    env[j] = NULL;
    return env;
fail:
    for (i = 0; i < 3; i++)
        free(env[i]);
    free(env);
    return NULL;
}

static void free_env(char **env)
{
    int i;

    if (env == NULL)
        return;
    for (i = 0; i < 3; i++)
        free(env[i]);
    free(env);
}

/* Read the pipe to its end, at most ATTEST_CMD_MAX bytes kept. */
static enum pe_rc read_all(int fd, unsigned char *buf, size_t *plen,
                           bool *ptoo_big)
{
    size_t len = 0;
    ssize_t n;
    unsigned char sink[4096];

    *ptoo_big = false;
    for (;;) {
        if (len < ATTEST_CMD_MAX)
            n = read(fd, buf + len, ATTEST_CMD_MAX - len);
        else
            n = read(fd, sink, sizeof(sink));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pe_failf(PE_E_IO,
                            "Reading the attestation command's "
                            "output failed: %s.",
                            strerror(errno));
        if (n == 0)
            break;
        if (len < ATTEST_CMD_MAX)
            len += (size_t)n;
        else
            *ptoo_big = true;
    }
    *plen = len;
    return PE_OK;
}

enum pe_rc attest_cmd_run(const char *cmd, const char *key_uri,
                          const char *key_id_hex, const char *token_uri,
                          unsigned char **pout, size_t *plen)
{
    posix_spawn_file_actions_t fa;
    bool fa_made = false, too_big = false;
    char **env = NULL;
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = {sh, dash_c, NULL, NULL};
    unsigned char *buf = NULL;
    size_t len = 0;
    int pipefd[2] = {-1, -1};
    int st, err;
    pid_t pid = -1;
    enum pe_rc rc = PE_E_NOMEM;

    *pout = NULL;
    *plen = 0;
    argv[2] = (char *)(uintptr_t)cmd;
    buf = malloc(ATTEST_CMD_MAX + 1);
    env = child_env(key_uri, key_id_hex, token_uri);
    if (buf == NULL || env == NULL)
        goto out;
    if (pipe(pipefd) != 0 || fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0) {
        rc = pe_failf(PE_E_IO, "Cannot make a pipe: %s.", strerror(errno));
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto out;
    fa_made = true;
    if (posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO) != 0 ||
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                         O_RDONLY, 0) != 0)
        goto out;
    log_debug(LOG_CAT_GENERAL, "attestation command: %s", cmd);
    err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env);
    if (err != 0) {
        pid = -1;
        rc = pe_failf(PE_E_TOKEN, "Cannot run the attestation command: %s.",
                      strerror(err));
        goto out;
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    rc = read_all(pipefd[0], buf, &len, &too_big);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    pid = -1;
    if (rc != PE_OK)
        goto out;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        rc = pe_failf(PE_E_TOKEN, "The attestation command failed (%s %d): %s",
                      WIFEXITED(st) ? "exit status" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), cmd);
        goto out;
    }
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
    if (pid > 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    if (fa_made)
        posix_spawn_file_actions_destroy(&fa);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    free_env(env);
    free(buf);
    return rc;
}
