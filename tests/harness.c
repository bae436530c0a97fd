/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

#define HARNESS_MAX 512

static struct {
    const char *path;
    harness_fn fn;
    const char *file;
    int line;
} tests[HARNESS_MAX];
static int ntests;
static jmp_buf jump;
static void (*fx_setup)(void);
static void (*fx_teardown)(void);

void harness_register(const char *path, harness_fn fn, const char *file,
                      int line)
{
    if (ntests >= HARNESS_MAX) {
        fprintf(stderr, "harness: more than %d tests\n", HARNESS_MAX);
        exit(1);
    }
    tests[ntests].path = path;
    tests[ntests].fn = fn;
    tests[ntests].file = file;
    tests[ntests].line = line;
    ntests++;
}

void harness_set_fixture(void (*setup)(void), void (*teardown)(void))
{
    fx_setup = setup;
    fx_teardown = teardown;
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    longjmp(jump, 1);
}

void harness_skip(const char *why)
{
    fprintf(stderr, "  skipped: %s\n", why);
    longjmp(jump, 2);
}

/* 0 passed, 1 failed, 2 skipped */
static int run_one(int i)
{
    volatile int outcome;

    outcome = setjmp(jump);
    if (outcome == 0) {
        if (fx_setup != NULL)
            fx_setup();
        tests[i].fn();
    }
    if (fx_teardown != NULL)
        fx_teardown();
    return outcome;
}

int main(int argc, char **argv)
{
    int i, passed = 0, failed = 0, skipped = 0, outcome;
    const char *only = argc > 1 ? argv[1] : NULL;

    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 0; i < ntests; i++) {
        if (only != NULL && strncmp(tests[i].path, only, strlen(only)) != 0)
            continue;
        fprintf(stderr, "%s\n", tests[i].path);
        outcome = run_one(i);
        if (outcome == 0) {
            passed++;
            printf("ok   %s\n", tests[i].path);
        } else if (outcome == 2) {
            skipped++;
            printf("skip %s\n", tests[i].path);
        } else {
            failed++;
            printf("FAIL %s (%s:%d)\n", tests[i].path, tests[i].file,
                   tests[i].line);
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed > 0)
        return 1;
    if (skipped > 0 && passed == 0) {
        if (getenv("P11E_NO_SKIP") != NULL) {
            printf("every test skipped, and P11E_NO_SKIP is set\n");
            return 1;
        }
        return 77;
    }
    return 0;
}
