/* SPDX-License-Identifier: Apache-2.0 */
/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34 and later) */
#define _GNU_SOURCE
#include "attest_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/poll.h> /* not agent/poll.h */
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define ENV_N 6 /* PATH, HOME, LANG and the three facts */

/*
 * The child's whole environment: PATH, HOME and LANG as we have them and
 * the P11ENROLL_* facts.  Nothing else of ours is passed on: variables
 * such as a --pin-env one, proxies with passwords, P11ENROLL_DEBUG.  Every
 * string is new (free_env).
 */
static char **child_env(const char *key_uri, const char *key_id_hex,
                        const char *token_uri)
{
    const char *names[ENV_N] = {"PATH",
                                "HOME",
                                "LANG",
                                "P11ENROLL_KEY_URI",
                                "P11ENROLL_KEY_ID",
                                "P11ENROLL_TOKEN_URI"};
    const char *values[ENV_N];
    size_t i, j = 0, len;
    char **env;

    values[0] = getenv("PATH");
    if (values[0] == NULL)
        values[0] = "/usr/local/bin:/usr/bin:/bin";
    values[1] = getenv("HOME");
    values[2] = getenv("LANG");
    values[3] = key_uri;
    values[4] = key_id_hex;
    values[5] = token_uri;
    env = calloc(ENV_N + 1, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (i = 0; i < ENV_N; i++) {
        if (values[i] == NULL && i < 3)
            continue;
        len = strlen(names[i]) + 1 + strlen(values[i] ? values[i] : "");
        env[j] = malloc(len + 1);
        if (env[j] == NULL)
            goto fail;
        snprintf(env[j], len + 1, "%s=%s", names[i],
                 values[i] ? values[i] : "");
        j++;
    }
    return env;
fail:
    for (i = 0; i < j; i++)
        free(env[i]);
    free(env);
    return NULL;
}

static void free_env(char **env)
{
    size_t i;

    if (env == NULL)
        return;
    for (i = 0; env[i] != NULL; i++)
        free(env[i]);
    free(env);
}

static long ms_left(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Read the pipe to its end, at most ATTEST_CMD_MAX bytes kept, until
 * deadline: *ptimed_out then. */
static enum pe_rc read_all(int fd, const struct timespec *deadline,
                           unsigned char *buf, size_t *plen, bool *ptoo_big,
                           bool *ptimed_out)
{
    size_t len = 0;
    ssize_t n;
    unsigned char sink[4096];
    struct pollfd pfd = {fd, POLLIN, 0};
    long left;
    int pr;

    *ptoo_big = false;
    *ptimed_out = false;
    for (;;) {
        left = ms_left(deadline);
        if (left <= 0) {
            *ptimed_out = true;
            break;
        }
        pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR)
            return pe_failf(PE_E_IO,
                            "Waiting for the attestation command "
                            "failed: %s.",
                            strerror(errno));
        if (pr <= 0)
            continue;
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

/* Wait for pid until deadline; false when it is still running then. */
static bool wait_until(pid_t pid, const struct timespec *deadline, int *pst)
{
    struct timespec tick = {0, 20 * 1000000L};
    pid_t w;

    for (;;) {
        w = waitpid(pid, pst, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            return true;
        if (ms_left(deadline) <= 0)
            return false;
        nanosleep(&tick, NULL);
    }
}

/* Start cmd: its own process group (so a timeout ends all it started),
 * stdin /dev/null, stdout the pipe, stderr ours, no other descriptor. */
static enum pe_rc spawn(const char *cmd, char **env, int out_fd, pid_t *ppid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = {sh, dash_c, NULL, NULL};
    int err;

    argv[2] = (char *)(uintptr_t)cmd;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return PE_E_NOMEM;
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return PE_E_NOMEM;
    }
    err = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    if (err == 0)
        err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                               O_RDONLY, 0);
    /* a --pin-fd descriptor, the CA's sockets, the module's files: none
     * of them is the command's business */
    if (err == 0)
        err = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (err == 0)
        err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    if (err == 0)
        err = posix_spawnattr_setpgroup(&attr, 0);
    if (err == 0)
        err = posix_spawn(ppid, "/bin/sh", &fa, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        *ppid = -1;
        return pe_failf(PE_E_TOKEN, "Cannot run the attestation command: %s.",
                        strerror(err));
    }
    return PE_OK;
}

enum pe_rc attest_cmd_run(const char *cmd, const char *key_uri,
                          const char *key_id_hex, const char *token_uri,
                          long timeout_s, unsigned char **pout, size_t *plen)
{
    bool too_big = false, timed_out = false;
    char **env = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int pipefd[2] = {-1, -1};
    int st = 0;
    pid_t pid = -1;
    struct timespec deadline;
    enum pe_rc rc = PE_E_NOMEM;

    *pout = NULL;
    *plen = 0;
    if (timeout_s <= 0)
        timeout_s = ATTEST_CMD_TIMEOUT;
    buf = malloc(ATTEST_CMD_MAX + 1);
    env = child_env(key_uri, key_id_hex, token_uri);
    if (buf == NULL || env == NULL)
        goto out;
    if (pipe(pipefd) != 0 || fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0) {
        rc = pe_failf(PE_E_IO, "Cannot make a pipe: %s.", strerror(errno));
        goto out;
    }
    log_debug(LOG_CAT_GENERAL, "attestation command: %s", cmd);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_s;
    rc = spawn(cmd, env, pipefd[1], &pid);
    if (rc != PE_OK)
        goto out;
    close(pipefd[1]);
    pipefd[1] = -1;
    rc = read_all(pipefd[0], &deadline, buf, &len, &too_big, &timed_out);
    if (rc == PE_OK && !timed_out)
        timed_out = !wait_until(pid, &deadline, &st);
    if (timed_out) {
        kill(-pid, SIGKILL);
        rc = pe_failf(PE_E_TOKEN,
                      "The attestation command did not finish in %ld s and "
                      "was stopped (a longer wait: --attestation-timeout): "
                      "%s",
                      timeout_s, cmd);
        goto out;
    }
    if (rc != PE_OK)
        goto out;
    pid = -1;
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
    if (pid > 0) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    free_env(env);
    free(buf);
    return rc;
}
