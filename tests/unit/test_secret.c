/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "secret.h"

static char tmpfile_path[64];

static void write_tmp(const char *content, size_t len)
{
    int fd;

    snprintf(tmpfile_path, sizeof(tmpfile_path), "/tmp/p11e-secret-XXXXXX");
    fd = mkstemp(tmpfile_path);
    CHECK(fd >= 0);
    CHECK(write(fd, content, len) == (ssize_t)len);
    close(fd);
}

TEST("/secret/parse_sources")
{
    struct secret_source src;

    CHECK_INT(secret_source_parse("file:/x/pin", &src), PE_OK);
    CHECK_INT(src.kind, SECRET_FILE);
    CHECK_STR(src.arg, "/x/pin");
    CHECK_INT(secret_source_parse("file:///x/pin", &src), PE_OK);
    CHECK_STR(src.arg, "/x/pin");
    CHECK_INT(secret_source_parse("/abs/pin", &src), PE_OK);
    CHECK_INT(src.kind, SECRET_FILE);
    CHECK_INT(secret_source_parse("fd:3", &src), PE_OK);
    CHECK_INT(src.kind, SECRET_FD);
    CHECK_INT(secret_source_parse("env:MYPIN", &src), PE_OK);
    CHECK_INT(src.kind, SECRET_ENV);
    CHECK_INT(secret_source_parse("prompt", &src), PE_OK);
    CHECK_INT(secret_source_parse("pinpad", &src), PE_OK);
    CHECK_INT(src.kind, SECRET_PINPAD);
}

TEST("/secret/rejects_bad_sources")
{
    struct secret_source src;

    CHECK_INT(secret_source_parse("", &src), PE_E_USAGE);
    CHECK_INT(secret_source_parse("1234", &src), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "is not one of");
    CHECK_INT(secret_source_parse("env:", &src), PE_E_USAGE);
}

TEST("/secret/file_first_line_without_newline")
{
    struct secret_source src = {SECRET_FILE, NULL, NULL};
    struct secret *s = NULL;

    write_tmp("123456\r\nsecond line\n", 20);
    src.arg = tmpfile_path;
    CHECK_INT(secret_read(&src, false, &s), PE_OK);
    unlink(tmpfile_path);
    CHECK_INT(s->len, 6);
    CHECK_STR(s->buf, "123456");
    secret_free(s);
}

TEST("/secret/empty_file_is_refused")
{
    struct secret_source src = {SECRET_FILE, NULL, NULL};
    struct secret *s = NULL;

    write_tmp("\n", 1);
    src.arg = tmpfile_path;
    CHECK_INT(secret_read(&src, false, &s), PE_E_PIN_SOURCE);
    unlink(tmpfile_path);
    CHECK(s == NULL);
    CHECK_CONTAINS(pe_detail(), "empty");
}

TEST("/secret/oversized_file_is_refused")
{
    struct secret_source src = {SECRET_FILE, NULL, NULL};
    struct secret *s = NULL;
    char *big = malloc(SECRET_MAX + 10);

    CHECK(big != NULL);
    memset(big, 'a', SECRET_MAX + 10);
    write_tmp(big, SECRET_MAX + 10);
    free(big);
    src.arg = tmpfile_path;
    CHECK_INT(secret_read(&src, false, &s), PE_E_PIN_SOURCE);
    unlink(tmpfile_path);
    CHECK_CONTAINS(pe_detail(), "longer than");
}

TEST("/secret/missing_file_names_it")
{
    struct secret_source src = {SECRET_FILE, "/nonexistent/pin", NULL};
    struct secret *s = NULL;

    CHECK_INT(secret_read(&src, false, &s), PE_E_PIN_SOURCE);
    CHECK_CONTAINS(pe_detail(), "/nonexistent/pin");
}

TEST("/secret/locked_memory")
{
    struct secret *s = NULL;
    char *p;

    CHECK_INT(secret_from_bytes("abc", 3, &s), PE_OK);
    CHECK_STR(s->buf, "abc");
    /* a whole page of its own: MADV_DONTDUMP leaves nothing else out */
    CHECK_INT((unsigned long)(void *)s->buf % 4096, 0);
    secret_free(s);
    p = secret_mem_alloc(10000);
    CHECK(p != NULL);
    memset(p, 'x', 10000);
    secret_mem_free(p, 10000);
    secret_mem_free(NULL, 5);
}

TEST("/secret/env_and_fd")
{
    struct secret_source src = {SECRET_ENV, "P11E_TEST_SECRET", NULL};
    struct secret *s = NULL;
    int p[2];

    setenv("P11E_TEST_SECRET", "s3cret", 1);
    CHECK_INT(secret_read(&src, false, &s), PE_OK);
    CHECK_STR(s->buf, "s3cret");
    secret_free(s);
    /* gone from the environment once read; read again, the same value */
    CHECK(getenv("P11E_TEST_SECRET") == NULL);
    CHECK_INT(secret_read(&src, false, &s), PE_OK);
    CHECK_STR(s->buf, "s3cret");
    secret_free(s);
    src.arg = "P11E_TEST_SECRET_NEVER_SET";
    CHECK_INT(secret_read(&src, false, &s), PE_E_PIN_SOURCE);

    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "4321\n", 5) == 5);
    close(p[1]);
    src.kind = SECRET_FD;
    src.arg = p[0] == 3 ? "3" : NULL;
    if (src.arg == NULL) {
        char num[16];

        snprintf(num, sizeof(num), "%d", p[0]);
        src.arg = num;
        CHECK_INT(secret_read(&src, false, &s), PE_OK);
    } else {
        CHECK_INT(secret_read(&src, false, &s), PE_OK);
    }
    close(p[0]);
    CHECK_STR(s->buf, "4321");
    secret_free(s);
    secret_free(NULL);
}

TEST("/secret/file_readable_by_others_refused")
{
    struct secret_source src = {SECRET_FILE, tmpfile_path, NULL};
    struct secret *s = NULL;

    write_tmp("1234\n", 5);
    CHECK(chmod(tmpfile_path, 0644) == 0);
    CHECK_INT(secret_read(&src, false, &s), PE_E_PIN_SOURCE);
    CHECK(s == NULL);
    CHECK(strstr(pe_detail(), "mode 0644") != NULL);
    CHECK(strstr(pe_detail(), "chmod 600") != NULL);
    CHECK(chmod(tmpfile_path, 0640) == 0);
    CHECK_INT(secret_read(&src, false, &s), PE_E_PIN_SOURCE);
    CHECK(chmod(tmpfile_path, 0400) == 0);
    CHECK_INT(secret_read(&src, false, &s), PE_OK);
    CHECK_STR(s->buf, "1234");
    secret_free(s);
    unlink(tmpfile_path);
}
