/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.c - run the --notify-cmd command for a renewal event.
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define ENV_MAX 16

/* "P11ENROLL_<name>=<value>" into env[*pn] (value cut at a newline, so
 * one variable never reads as two lines). */
static void env_add(char **env, size_t *pn, const char *name, const char *value)
{
    size_t len, size;
    char *s;

    if (*pn >= ENV_MAX - 1 || value == NULL)
        return;
    len = strcspn(value, "\n");
    size = strlen(name) + len + 2;
    s = malloc(size);
    if (s == NULL)
        return;
    snprintf(s, size, "%s=%.*s", name, (int)len, value);
    env[(*pn)++] = s;
}

static const char *fact(json_t *facts, const char *key)
{
    return json_string_value(json_object_get(facts, key));
}

/* The child: descriptors 0-2 only, then the shell. */
static void child(const char *cmd, char *const *env)
{
    int null = open("/dev/null", O_RDONLY);

    if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
        dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        _exit(127);
    closefrom(3);
    execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, env);
    _exit(127);
}

enum pe_rc notify_run(const char *cmd, const char *event, json_t *facts)
{
    char path[] = "/tmp/p11enroll-event-XXXXXX";
    char *env[ENV_MAX] = {NULL}, *text = NULL;
    json_t *j = json_deep_copy(facts);
    size_t n = 0, i;
    int fd = -1, status = 0;
    pid_t pid;
    enum pe_rc rc = PE_E_IO;

    if (j == NULL || json_object_set_new(j, "event", json_string(event)) != 0)
        goto out;
    text = json_dumps(j, JSON_INDENT(2));
    fd = mkstemp(path);
    if (text == NULL || fd < 0 ||
        write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
        close(fd) != 0) {
        log_warn("--notify-cmd: the event file %s could not be written: %s",
                 path, strerror(errno));
        goto out;
    }
    fd = -1;
    env_add(env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin");
    env_add(env, &n, "LANG", "C");
    env_add(env, &n, "P11ENROLL_EVENT", event);
    env_add(env, &n, "P11ENROLL_EVENT_FILE", path);
    env_add(env, &n, "P11ENROLL_OUTCOME", fact(j, "outcome"));
    env_add(env, &n, "P11ENROLL_TOKEN", fact(j, "token"));
    env_add(env, &n, "P11ENROLL_KEY_ID", fact(j, "key_id"));
    env_add(env, &n, "P11ENROLL_SUBJECT", fact(j, "subject"));
    env_add(env, &n, "P11ENROLL_SERIAL", fact(j, "serial"));
    env_add(env, &n, "P11ENROLL_NOT_AFTER", fact(j, "not_after"));
    env_add(env, &n, "P11ENROLL_MESSAGE", fact(j, "message"));
    env_add(env, &n, "P11ENROLL_ENROLLMENT",
            json_string_value(
                json_object_get(json_object_get(j, "renewal"), "enrollment")));
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        child(cmd, env);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        log_warn("--notify-cmd for \"%s\" failed (status %d).", event,
                 pid < 0 ? -1 : status);
    else
        rc = PE_OK;
    (void)unlink(path);
out:
    if (fd >= 0) {
        close(fd);
        (void)unlink(path);
    }
    for (i = 0; i < n; i++)
        free(env[i]);
    free(text);
    json_decref(j);
    return rc;
}
