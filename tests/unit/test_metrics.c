/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "harness.h"
#include "journal.h"
#include "metrics.h"

/* Four records: a certificate renewed by a second, whose own renewal is
 * unfinished; a third certificate whose predecessor was retired. */
static const char *const records[] = {
    "{\"id\": \"a1\", \"status\": \"installed\", \"keyId\": \"01\", "
    "\"tokenUri\": \"pkcs11:token=t\", \"certSerial\": \"0A\", "
    "\"certSubject\": \"CN=Dana \\\"D\\\" \\\\ Developer\\nX\", "
    "\"certExpires\": \"2026-12-01 10:00:00 UTC\"}",
    "{\"id\": \"b2\", \"status\": \"installed\", \"keyId\": \"02\", "
    "\"certSerial\": \"0B\", \"certExpires\": \"2027-12-01 10:00:00 UTC\", "
    "\"predecessorKeyId\": \"01\", \"predecessorSerial\": \"0a\"}",
    "{\"id\": \"c3\", \"status\": \"submitted\", \"keyId\": \"03\", "
    "\"predecessorKeyId\": \"02\", \"predecessorSerial\": \"0B\"}",
    "{\"id\": \"d4\", \"status\": \"installed\", \"keyId\": \"05\", "
    "\"certSerial\": \"0D\", \"predecessorKeyId\": \"04\", "
    "\"predecessorSerial\": \"0C\", \"retiredAt\": \"2026-12-02 10:00:00 "
    "UTC\"}",
    "{\"id\": \"e5\", \"status\": \"installed\", \"keyId\": \"04\", "
    "\"certSerial\": \"0C\"}",
};
#define NREC (sizeof(records) / sizeof(records[0]))

static char *render(void)
{
    struct journal_rec *v[NREC] = {NULL};
    struct journal_list jl = {v, NREC};
    char path[] = "/tmp/p11e-metrics-XXXXXX";
    unsigned char *text = NULL;
    size_t i, len = 0;
    struct stat st;
    int fd = mkstemp(path);

    for (i = 0; i < NREC; i++)
        CHECK_INT(journal_parse(records[i], strlen(records[i]), &v[i]), PE_OK);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(metrics_write(path, &jl), PE_OK);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0644);
    CHECK_INT(fileio_read(path, 1 << 20, &text, &len), PE_OK);
    unlink(path);
    for (i = 0; i < NREC; i++)
        journal_rec_free(v[i]);
    return (char *)text;
}

TEST("/metrics/textfile")
{
    char *t = render();

    CHECK_CONTAINS(t, "# TYPE p11enroll_certificate_not_after_seconds "
                      "gauge\n");
    CHECK_CONTAINS(t, "p11enroll_certificate_not_after_seconds{"
                      "enrollment=\"a1\",token=\"pkcs11:token=t\","
                      "key_id=\"01\",subject=\"CN=Dana \\\"D\\\" \\\\ "
                      "Developer\\nX\",serial=\"0A\"} 1796119200\n");
    CHECK_CONTAINS(t, "serial=\"0A\",state=\"renewed\"} 1\n");
    CHECK_CONTAINS(t, "serial=\"0B\",state=\"renewing\"} 1\n");
    CHECK_CONTAINS(t, "serial=\"0C\",state=\"retired\"} 1\n");
    CHECK_CONTAINS(t, "serial=\"0D\",state=\"current\"} 1\n");
    CHECK_CONTAINS(t, "p11enroll_enrollment_unfinished{enrollment=\"c3\"");
    CHECK_CONTAINS(t, "step=\"submitted\"} 1\n");
    CHECK_CONTAINS(t, "\np11enroll_metrics_written_seconds ");
    free(t);
}
