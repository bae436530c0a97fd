/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.h - bounded reads and atomic writes of local files.
 */
#ifndef P11E_FILEIO_H
#define P11E_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "rc.h"

/*
 * Read all of path (or stdin for "-") into a new NUL-terminated buffer
 * (*pbuf, free()), at most max bytes: a larger file is refused with
 * PE_E_INPUT before it is read whole.  *plen excludes the NUL.
 */
enum pe_rc fileio_read(const char *path, size_t max, unsigned char **pbuf,
                       size_t *plen);

/*
 * Write len bytes to path atomically: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory.  Readers see
 * the old content or the new, never a mix.  mode as for open(2).  The
 * temporary file has a random name and is created new (O_EXCL|O_NOFOLLOW)
 * with mode, so a name planted in the folder is never written through.
 */
enum pe_rc fileio_write_atomic(const char *path, const void *data, size_t len,
                               mode_t mode);

/*
 * dir is a folder owned by the effective user and not writable by group or
 * others, so no one else can plant or swap what p11enroll reads from it.
 * PE_E_STATE with a sentence saying how to fix it otherwise.
 */
enum pe_rc fileio_check_private_dir(const char *dir);

/*
 * fileio_read of a regular file (not a symlink) owned by the effective
 * user and not writable by group or others: a record someone else could
 * have written is refused (PE_E_STATE) before it is read.
 */
enum pe_rc fileio_read_private(const char *path, size_t max,
                               unsigned char **pbuf, size_t *plen);

/* mkdir -p with mode for each missing component. */
enum pe_rc fileio_mkdirs(const char *path, mode_t mode);

#endif
