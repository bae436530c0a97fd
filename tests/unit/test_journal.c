/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "harness.h"
#include "journal.h"

static char dir[256];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/p11e-journal-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        dir[0] = '\0';
}

static void teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (dir[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

__attribute__((constructor)) static void fixture(void)
{
    harness_set_fixture(setup, teardown);
}

TEST("/journal/create_save_open")
{
    struct journal_rec *rec = NULL, *back = NULL;
    char sub[300], id[40];

    snprintf(sub, sizeof(sub), "%s/state/p11enroll", dir);
    CHECK_INT(journal_create(sub, &rec), PE_OK);
    CHECK_INT(rec->status, JOURNAL_NEW);
    CHECK_INT(journal_set(&rec->token_uri, "pkcs11:token=p11e-test"), PE_OK);
    CHECK_INT(journal_set(&rec->key_id_hex, "0a1b2c"), PE_OK);
    CHECK_INT(journal_set(&rec->client_id, "p11e-client"), PE_OK);
    rec->term = 365;
    CHECK_INT(journal_step(rec, JOURNAL_KEY_GENERATED, NULL), PE_OK);
    snprintf(id, sizeof(id), "%s", rec->id);
    journal_rec_free(rec);

    CHECK_INT(journal_open(sub, id, &back), PE_OK);
    CHECK_STR(back->id, id);
    CHECK_INT(back->status, JOURNAL_KEY_GENERATED);
    CHECK_STR(back->token_uri, "pkcs11:token=p11e-test");
    CHECK_STR(back->key_id_hex, "0a1b2c");
    CHECK_STR(back->client_id, "p11e-client");
    CHECK_INT(back->term, 365);
    CHECK(back->request_id == NULL);
    journal_rec_free(back);
}

TEST("/journal/record_file_is_private_json")
{
    struct journal_rec *rec = NULL;
    unsigned char *text = NULL;
    char path[400];
    struct stat st;
    size_t len = 0;

    CHECK_INT(journal_create(dir, &rec), PE_OK);
    CHECK_INT(journal_set(&rec->request_id, "4711"), PE_OK);
    CHECK_INT(journal_step(rec, JOURNAL_SUBMITTED, "CA busy"), PE_OK);
    snprintf(path, sizeof(path), "%s/%s.json", dir, rec->id);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT(fileio_read(path, 65536, &text, &len), PE_OK);
    CHECK_CONTAINS((char *)text, "\"status\": \"submitted\"");
    CHECK_CONTAINS((char *)text, "\"requestId\": \"4711\"");
    CHECK_CONTAINS((char *)text, "\"lastError\": \"CA busy\"");
    free(text);
    journal_rec_free(rec);
}

TEST("/journal/lock_excludes_second_opener")
{
    struct journal_rec *rec = NULL, *other = NULL;
    char id[40];
    pid_t pid;
    int status = 0;

    CHECK_INT(journal_create(dir, &rec), PE_OK);
    CHECK_INT(journal_save(rec), PE_OK);
    snprintf(id, sizeof(id), "%s", rec->id);
    /* flock is per open file: another process must be refused */
    pid = fork();
    if (pid == 0) {
        struct journal_rec *r = NULL;
        enum pe_rc rc = journal_open(dir, id, &r);
        journal_rec_free(r);
        _exit(rc == PE_E_STATE && strstr(pe_detail(), "another p11enroll") ? 0
                                                                           : 1);
    }
    CHECK(pid > 0);
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* and within one process a second open is refused too */
    CHECK_INT(journal_open(dir, id, &other), PE_E_STATE);
    CHECK(other == NULL);
    journal_rec_free(rec);
    /* once released, it opens */
    CHECK_INT(journal_open(dir, id, &other), PE_OK);
    journal_rec_free(other);
}

TEST("/journal/list_sorted_and_skips_damaged")
{
    struct journal_rec *a = NULL, *b = NULL;
    struct journal_list *list = NULL;
    char path[400];
    FILE *f;

    CHECK_INT(journal_create(dir, &a), PE_OK);
    CHECK_INT(journal_create(dir, &b), PE_OK);
    a->created = 1000;
    b->created = 900;
    CHECK_INT(journal_save(a), PE_OK);
    CHECK_INT(journal_save(b), PE_OK);
    snprintf(path, sizeof(path), "%s/20260101T000000Z-deadbeef.json", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("{\"id\": \"20260101T000000Z-deadbeef\", \"status\": \"bogus\"}", f);
    fclose(f);
    CHECK_INT(journal_list(dir, &list), PE_OK);
    CHECK_INT(list->n, 2);
    CHECK_STR(list->v[0]->id, b->id);
    CHECK_STR(list->v[1]->id, a->id);
    journal_list_free(list);
    journal_rec_free(a);
    journal_rec_free(b);
}

TEST("/journal/list_missing_dir_is_empty")
{
    struct journal_list *list = NULL;
    char sub[300];

    snprintf(sub, sizeof(sub), "%s/none", dir);
    CHECK_INT(journal_list(sub, &list), PE_OK);
    CHECK_INT(list->n, 0);
    journal_list_free(list);
}

TEST("/journal/parse_rejects_bad_records")
{
    struct journal_rec *rec = NULL;
    const char *bad_id = "{\"id\": \"../../etc\", \"status\": \"new\"}";
    const char *bad_field =
        "{\"id\": \"20260101T000000Z-00\", \"status\": \"new\", "
        "\"url\": 5}";
    const char *good = "{\"id\": \"20260101T000000Z-00\", \"status\": "
                       "\"downloaded\", \"url\": \"https://x\"}";

    CHECK_INT(journal_parse("{", 1, &rec), PE_E_STATE);
    CHECK_INT(journal_parse(bad_id, strlen(bad_id), &rec), PE_E_STATE);
    CHECK_INT(journal_parse(bad_field, strlen(bad_field), &rec), PE_E_STATE);
    CHECK_CONTAINS(pe_detail(), "bad \"url\"");
    CHECK(rec == NULL);
    CHECK_INT(journal_parse(good, strlen(good), &rec), PE_OK);
    CHECK_INT(rec->status, JOURNAL_DOWNLOADED);
    CHECK_STR(rec->url, "https://x");
    journal_rec_free(rec);
}

TEST("/journal/open_unknown_and_bad_id")
{
    struct journal_rec *rec = NULL;

    CHECK_INT(journal_open(dir, "20260101T000000Z-00", &rec), PE_E_STATE);
    CHECK_CONTAINS(pe_detail(), "There is no enrollment");
    CHECK_INT(journal_open(dir, "../x", &rec), PE_E_USAGE);
}

TEST("/journal/status_names")
{
    enum journal_status s;
    int i;

    for (i = 0; i < JOURNAL_STATUS_COUNT; i++) {
        CHECK_INT(journal_status_parse(
                      journal_status_name((enum journal_status)i), &s),
                  PE_OK);
        CHECK_INT(s, i);
    }
    CHECK(journal_status_final(JOURNAL_INSTALLED));
    CHECK(journal_status_final(JOURNAL_REJECTED));
    CHECK(!journal_status_final(JOURNAL_SUBMITTED));
}

TEST("/journal/default_dir")
{
    char *d = NULL;

    setenv("XDG_STATE_HOME", "/x/state", 1);
    CHECK_INT(journal_default_dir(&d), PE_OK);
    if (geteuid() == 0) { /* root: the systemd unit's folder, always */
        CHECK_STR(d, "/var/lib/p11enroll");
        free(d);
        unsetenv("XDG_STATE_HOME");
        return;
    }
    CHECK_STR(d, "/x/state/p11enroll");
    free(d);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK_INT(journal_default_dir(&d), PE_OK);
    CHECK_STR(d, "/home/u/.local/state/p11enroll");
    free(d);
}
