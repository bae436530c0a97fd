/* SPDX-License-Identifier: Apache-2.0 */
/* Atomic writes (common/fileio.c) in a folder where someone planted names
 * in advance: the predictable "<path>.tmp.<pid>" of old, as a symlink to
 * another file and as a file of mode 0666. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "harness.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/p11e-fileio-XXXXXX");
    if (mkdtemp(dir) == NULL)
        harness_fail(__FILE__, __LINE__, "mkdtemp");
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        harness_fail(__FILE__, __LINE__, "fopen %s", path);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;

    if (fileio_read(path, 4096, &buf, &len) != PE_OK)
        return NULL;
    return (char *)buf;
}

/* Entries of dir (without . and ..). */
static int entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d != NULL && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d != NULL)
        closedir(d);
    return n;
}

TEST("/fileio/planted_symlink_at_temp_name")
{
    char out[128], old_tmp[160], victim[128], *s;

    setup();
    snprintf(out, sizeof(out), "%s/out.pem", dir);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    snprintf(old_tmp, sizeof(old_tmp), "%s.tmp.%ld", out, (long)getpid());
    put(victim, "victim\n");
    CHECK(symlink(victim, old_tmp) == 0);
    CHECK_INT(fileio_write_atomic(out, "new\n", 4, 0600), PE_OK);
    s = get(victim);
    CHECK(s != NULL);
    CHECK_STR(s, "victim\n");
    free(s);
    s = get(out);
    CHECK(s != NULL);
    CHECK_STR(s, "new\n");
    free(s);
    /* out.pem, victim and the planted link; no temporary file left */
    CHECK_INT(entries(), 3);
    teardown();
}

TEST("/fileio/planted_file_at_temp_name")
{
    char out[128], old_tmp[160];
    struct stat st;

    setup();
    snprintf(out, sizeof(out), "%s/journal.json", dir);
    snprintf(old_tmp, sizeof(old_tmp), "%s.tmp.%ld", out, (long)getpid());
    CHECK(close(open(old_tmp, O_WRONLY | O_CREAT, 0666)) == 0);
    CHECK(chmod(old_tmp, 0666) == 0);
    CHECK_INT(fileio_write_atomic(out, "{}\n", 3, 0600), PE_OK);
    CHECK(lstat(out, &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_INT(st.st_mode & 07777, 0600);
    CHECK_INT(st.st_uid, getuid());
    /* the planted file is untouched and still there */
    CHECK(lstat(old_tmp, &st) == 0);
    CHECK_INT(st.st_size, 0);
    teardown();
}

TEST("/fileio/symlink_at_target_is_replaced_not_followed")
{
    char out[128], victim[128], *s;
    struct stat st;

    setup();
    snprintf(out, sizeof(out), "%s/chain.pem", dir);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    put(victim, "victim\n");
    CHECK(symlink(victim, out) == 0);
    CHECK_INT(fileio_write_atomic(out, "chain\n", 6, 0644), PE_OK);
    CHECK(lstat(out, &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    s = get(victim);
    CHECK(s != NULL);
    CHECK_STR(s, "victim\n");
    free(s);
    CHECK_INT(entries(), 2);
    teardown();
}

TEST("/fileio/private_dir_and_record")
{
    char rec[128], link[128];
    unsigned char *buf = NULL;
    size_t len = 0;

    setup();
    snprintf(rec, sizeof(rec), "%s/r.json", dir);
    snprintf(link, sizeof(link), "%s/l.json", dir);
    put(rec, "{}");
    CHECK(chmod(rec, 0600) == 0);
    CHECK(chmod(dir, 0700) == 0);
    CHECK_INT(fileio_check_private_dir(dir), PE_OK);
    CHECK_INT(fileio_read_private(rec, 100, &buf, &len), PE_OK);
    CHECK_INT(len, 2);
    free(buf);
    buf = NULL;
    /* group- or world-writable: refused, with the fix in the sentence */
    CHECK(chmod(dir, 0770) == 0);
    CHECK_INT(fileio_check_private_dir(dir), PE_E_STATE);
    CHECK(strstr(pe_detail(), "chmod go-w") != NULL);
    CHECK(chmod(dir, 0755) == 0);
    CHECK_INT(fileio_check_private_dir(dir), PE_OK);
    CHECK(chmod(rec, 0606) == 0);
    CHECK_INT(fileio_read_private(rec, 100, &buf, &len), PE_E_STATE);
    CHECK(buf == NULL);
    CHECK(chmod(rec, 0644) == 0);
    CHECK_INT(fileio_read_private(rec, 100, &buf, &len), PE_OK);
    free(buf);
    buf = NULL;
    /* a symlink is not a record, and a file is not a folder */
    CHECK(symlink(rec, link) == 0);
    CHECK_INT(fileio_read_private(link, 100, &buf, &len), PE_E_STATE);
    CHECK_INT(fileio_check_private_dir(rec), PE_E_STATE);
    teardown();
}
