/* SPDX-License-Identifier: Apache-2.0 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* st (of what) is ours and not writable by group or others. */
static enum pe_rc check_private(const struct stat *st, const char *what,
                                const char *path)
{
    if (st->st_uid != geteuid())
        return pe_failf(PE_E_STATE,
                        "The %s %s belongs to user %ld, not to you (%ld); "
                        "p11enroll uses only state that only you can change.",
                        what, path, (long)st->st_uid, (long)geteuid());
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return pe_failf(PE_E_STATE,
                        "The %s %s can be changed by group or others (mode "
                        "%04o); make it yours alone: chmod go-w %s",
                        what, path, (unsigned)(st->st_mode & 07777), path);
    return PE_OK;
}

enum pe_rc fileio_check_private_dir(const char *dir)
{
    struct stat st;

    if (lstat(dir, &st) != 0)
        return pe_failf(PE_E_STATE, "Cannot read the state folder %s: %s.", dir,
                        strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return pe_failf(PE_E_STATE, "The state folder %s is not a folder.",
                        dir);
    return check_private(&st, "state folder", dir);
}

enum pe_rc fileio_read_private(const char *path, size_t max,
                               unsigned char **pbuf, size_t *plen)
{
    struct stat st;
    enum pe_rc rc;

    *pbuf = NULL;
    *plen = 0;
    /* checked by name, then read by name: the folder is private (checked
     * first by the callers), so no one can swap the file in between */
    if (lstat(path, &st) != 0)
        return pe_failf(PE_E_IO, "Cannot open \"%s\": %s.", path,
                        strerror(errno));
    if (!S_ISREG(st.st_mode))
        return pe_failf(PE_E_STATE, "The record %s is not a regular file.",
                        path);
    rc = check_private(&st, "record", path);
    if (rc != PE_OK)
        return rc;
    return fileio_read(path, max, pbuf, plen);
}

enum pe_rc fileio_read(const char *path, size_t max, unsigned char **pbuf,
                       size_t *plen)
{
    unsigned char *buf = NULL, *nbuf;
    size_t len = 0, cap = 0;
    ssize_t n;
    int fd;
    enum pe_rc rc = PE_E_IO;
    bool is_stdin = strcmp(path, "-") == 0;

    *pbuf = NULL;
    *plen = 0;
    fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pe_failf(PE_E_IO, "Cannot open \"%s\": %s.", path,
                        strerror(errno));
    for (;;) {
        if (len == cap) {
            cap = cap == 0 ? 16384 : cap * 2;
            if (cap > max + 1)
                cap = max + 1;
            nbuf = realloc(buf, cap + 1);
            if (nbuf == NULL) {
                rc = PE_E_NOMEM;
                goto out;
            }
            buf = nbuf;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pe_failf(PE_E_IO, "Reading \"%s\" failed: %s.", path,
                          strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            rc = pe_failf(PE_E_INPUT,
                          "\"%s\" is larger than the %zu bytes "
                          "accepted.",
                          path, max);
            goto out;
        }
    }
    if (buf == NULL) {
        buf = malloc(1);
        if (buf == NULL) {
            rc = PE_E_NOMEM;
            goto out;
        }
    }
    buf[len] = '\0';
    *pbuf = buf;
    *plen = len;
    buf = NULL;
    rc = PE_OK;
out:
    if (!is_stdin)
        close(fd);
    free(buf);
    return rc;
}

static void fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    char *slash;
    int fd;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/*
 * A new temporary file beside path, named ".<name>.<random>", made with
 * O_CREAT|O_EXCL|O_NOFOLLOW: a name planted in advance (a symlink to
 * another file, a file someone else owns) is never opened, only skipped.
 * The fd into *pfd, the name into tmp.
 */
static enum pe_rc temp_create(const char *path, mode_t mode, char *tmp,
                              size_t tmpsz, int *pfd)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash != NULL ? (int)(slash - path + 1) : 0;
    unsigned char rnd[8];
    int tries, fd, err = EEXIST;

    *pfd = -1;
    for (tries = 0; tries < 100; tries++) {
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            return pe_failf(PE_E_IO, "No random bytes for a file name: %s.",
                            strerror(errno));
        if (snprintf(tmp, tmpsz, "%.*s.%s.%02x%02x%02x%02x%02x%02x%02x%02x",
                     dirlen, path, path + dirlen, rnd[0], rnd[1], rnd[2],
                     rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]) >= (int)tmpsz)
            return pe_failf(PE_E_IO, "The path \"%s\" is too long.", path);
        /* O_EXCL: the file is ours and new, so mode (less the umask) is
         * its mode from the start */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
        if (fd >= 0) {
            *pfd = fd;
            return PE_OK;
        }
        err = errno;
        if (err != EEXIST)
            break;
    }
    return pe_failf(PE_E_IO,
                    "Cannot create a temporary file beside \"%s\": "
                    "%s.",
                    path, strerror(err));
}

/* Temporary file, data fsync, rename over path, the directory's fsync
 * (which makes the rename itself durable). */
static enum pe_rc write_replace(const char *path, const void *data, size_t len,
                                mode_t mode)
{
    char tmp[PATH_MAX];
    const unsigned char *p = data;
    size_t done = 0;
    ssize_t n;
    int fd;
    enum pe_rc rc;

    rc = temp_create(path, mode, tmp, sizeof(tmp), &fd);
    if (rc != PE_OK)
        return rc;
    while (done < len) {
        n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    fsync_dir_of(path);
    return PE_OK;
fail : {
    int err = errno;

    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return pe_failf(PE_E_IO, "Writing \"%s\" failed: %s.", path, strerror(err));
}
}

enum pe_rc fileio_write_atomic(const char *path, const void *data, size_t len,
                               mode_t mode)
{
    return write_replace(path, data, len, mode);
}

enum pe_rc fileio_mkdirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    char *p;

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return pe_failf(PE_E_IO, "The path \"%s\" is too long.", path);
    for (p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return pe_failf(PE_E_IO, "Cannot create \"%s\": %s.", buf,
                            strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return pe_failf(PE_E_IO, "Cannot create \"%s\": %s.", buf,
                        strerror(errno));
    return PE_OK;
}
