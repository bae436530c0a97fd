/* SPDX-License-Identifier: Apache-2.0 */
/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34 and later) */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/poll.h> /* not agent/poll.h */
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "interrupt.h"
#include "log.h"

#define ENV_MAX (3 + CHILD_FACTS_MAX)

/*
 * The child's whole environment: PATH, HOME and LANG as we have them and
 * the facts.  Nothing else of ours is passed on: variables such as a
 * --pin-env one, proxies with passwords, P11ENROLL_DEBUG.  Every string is
 * new (free_env).
 */
static char **child_env(const char *const *facts)
{
    const char *names[3] = {"PATH", "HOME", "LANG"};
    const char *value;
    size_t i, j = 0, len;
    char **env;

    env = calloc(ENV_MAX + 1, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (i = 0; i < 3; i++) {
        value = getenv(names[i]);
        if (value == NULL && i == 0)
            value = "/usr/local/bin:/usr/bin:/bin";
        if (value == NULL)
            continue;
        len = strlen(names[i]) + 1 + strlen(value);
        env[j] = malloc(len + 1);
        if (env[j] == NULL)
            goto fail;
        snprintf(env[j++], len + 1, "%s=%s", names[i], value);
    }
    for (i = 0; facts != NULL && facts[i] != NULL && i < CHILD_FACTS_MAX; i++) {
        env[j] = strdup(facts[i]);
        if (env[j++] == NULL)
            goto fail;
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

/* Read the pipe to its end, at most max bytes kept, until deadline:
 * *ptimed_out then. */
static enum pe_rc read_all(const struct child_cmd *c, int fd,
                           const struct timespec *deadline, unsigned char *buf,
                           size_t max, size_t *plen, bool *ptoo_big,
                           bool *ptimed_out)
{
    size_t len = 0;
    ssize_t n;
    unsigned char sink[4096];
    struct pollfd pfd = {fd, POLLIN, 0};
    enum pe_rc rc = PE_OK;
    long left;
    int pr;

    *ptoo_big = false;
    *ptimed_out = false;
    for (;;) {
        /* a Ctrl-C reaches our process group, not the command's */
        if (interrupt_pending()) {
            rc = PE_E_INTERRUPTED;
            break;
        }
        left = ms_left(deadline);
        if (left <= 0) {
            *ptimed_out = true;
            break;
        }
        pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = pe_failf(PE_E_IO, "Waiting for the %s failed: %s.", c->what,
                          strerror(errno));
            break;
        }
        if (pr <= 0)
            continue;
        if (len < max)
            n = read(fd, buf + len, max - len);
        else
            n = read(fd, sink, sizeof(sink));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pe_failf(PE_E_IO, "Reading the output of the %s failed: %s.",
                          c->what, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (len < max)
            len += (size_t)n;
        else
            *ptoo_big = true;
    }
    /* what was dropped may be the tail of a secret */
    OPENSSL_cleanse(sink, sizeof(sink));
    *plen = len;
    return rc;
}

/* Wait for pid until deadline: 1 when it ended (*pst), 0 when it is
 * still running then, -1 when it cannot be waited for (errno). */
static int wait_until(pid_t pid, const struct timespec *deadline, int *pst)
{
    struct timespec tick = {0, 20 * 1000000L};
    pid_t w;

    for (;;) {
        w = waitpid(pid, pst, WNOHANG);
        if (w == pid)
            return 1;
        if (w < 0 && errno != EINTR)
            return -1;
        if (ms_left(deadline) <= 0 || interrupt_pending())
            return 0;
        nanosleep(&tick, NULL);
    }
}

/* Start cmd: its own process group (so a timeout ends all it started),
 * stdin /dev/null, stdout the pipe, stderr ours, no other descriptor. */
static enum pe_rc spawn(const struct child_cmd *c, char **env, int out_fd,
                        pid_t *ppid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = {sh, dash_c, NULL, NULL};
    int err;

    argv[2] = (char *)(uintptr_t)c->cmd;
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
        return pe_failf(c->fail_rc, "Cannot run the %s: %s.", c->what,
                        strerror(err));
    }
    return PE_OK;
}

/* The sentence for a command that ran to its end with status st. */
static enum pe_rc check_status(const struct child_cmd *c, int st)
{
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return PE_OK;
    return pe_failf(c->fail_rc, "The %s failed (%s %d): %s", c->what,
                    WIFEXITED(st) ? "exit status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), c->cmd);
}

enum pe_rc child_run(const struct child_cmd *c, unsigned char *buf, size_t max,
                     size_t *plen, bool *ptruncated)
{
    bool timed_out = false;
    char **env = NULL;
    int pipefd[2] = {-1, -1};
    int st = 0, ended = 1;
    pid_t pid = -1;
    struct timespec deadline;
    enum pe_rc rc = PE_E_NOMEM;

    *plen = 0;
    *ptruncated = false;
    env = child_env(c->facts);
    if (env == NULL)
        goto out;
    if (pipe(pipefd) != 0 || fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0) {
        rc = pe_failf(PE_E_IO, "Cannot make a pipe: %s.", strerror(errno));
        goto out;
    }
    log_debug(LOG_CAT_GENERAL, "%s: %s", c->what, c->cmd);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += c->timeout_s;
    rc = spawn(c, env, pipefd[1], &pid);
    if (rc != PE_OK)
        goto out;
    close(pipefd[1]);
    pipefd[1] = -1;
    rc = read_all(c, pipefd[0], &deadline, buf, max, plen, ptruncated,
                  &timed_out);
    if (rc == PE_OK && !timed_out) {
        ended = wait_until(pid, &deadline, &st);
        timed_out = ended == 0;
    }
    if (rc == PE_OK && ended < 0) {
        rc = pe_failf(c->fail_rc, "Waiting for the %s failed: %s.", c->what,
                      strerror(errno));
        goto out;
    }
    if (rc == PE_OK && timed_out && interrupt_pending())
        rc = PE_E_INTERRUPTED;
    if (rc == PE_OK && timed_out) {
        kill(-pid, SIGKILL);
        rc = pe_failf(c->fail_rc,
                      "The %s did not finish in %ld s and was stopped (a "
                      "longer wait: %s): %s",
                      c->what, c->timeout_s, c->longer, c->cmd);
        goto out;
    }
    if (rc != PE_OK)
        goto out;
    pid = -1;
    rc = check_status(c, st);
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
    return rc;
}
