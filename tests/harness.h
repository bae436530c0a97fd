/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.h - the in-house unit test harness.
 *
 *   TEST("/csr/rejects_empty_subject") { CHECK(x == 1); }
 *
 * Each test file is one program; tests register themselves, run in file
 * order, and the program ends with the line "N passed, N failed" (plus
 * ", N skipped").  A failed CHECK stops that test and goes on with the
 * next.  argv[1], if given, runs only tests whose path starts with it.
 * SKIP("why") skips a test; a program whose every test skipped exits 77,
 * the ctest skip code, unless P11E_NO_SKIP is set (CI), then it fails.
 */
#ifndef P11E_HARNESS_H
#define P11E_HARNESS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*harness_fn)(void);

void harness_register(const char *path, harness_fn fn, const char *file,
                      int line);
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void harness_skip(const char *why) __attribute__((noreturn));

/* Optional per-program set-up and tear-down around every test. */
void harness_set_fixture(void (*setup)(void), void (*teardown)(void));

#define HARNESS_CAT2(a, b) a##b
#define HARNESS_CAT(a, b)  HARNESS_CAT2(a, b)

#define TEST(path)                                                             \
    static void HARNESS_CAT(test_fn_, __LINE__)(void);                         \
    __attribute__((constructor)) static void HARNESS_CAT(test_reg_,            \
                                                         __LINE__)(void)       \
    {                                                                          \
        harness_register(path, HARNESS_CAT(test_fn_, __LINE__), __FILE__,      \
                         __LINE__);                                            \
    }                                                                          \
    static void HARNESS_CAT(test_fn_, __LINE__)(void)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);              \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);        \
        if (check_a_ != check_b_)                                              \
            harness_fail(__FILE__, __LINE__,                                   \
                         "%s == %lld, expected %s == %lld", #a, check_a_, #b,  \
                         check_b_);                                            \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *check_a_ = (a), *check_b_ = (b);                           \
        if (check_a_ == NULL || check_b_ == NULL ||                            \
            strcmp(check_a_, check_b_) != 0)                                   \
            harness_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"",  \
                         #a, check_a_ ? check_a_ : "(null)",                   \
                         check_b_ ? check_b_ : "(null)");                      \
    } while (0)

/* The haystack contains the needle. */
#define CHECK_CONTAINS(hay, needle)                                            \
    do {                                                                       \
        const char *check_h_ = (hay), *check_n_ = (needle);                    \
        if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL)            \
            harness_fail(__FILE__, __LINE__, "%s == \"%s\" lacks \"%s\"",      \
                         #hay, check_h_ ? check_h_ : "(null)", check_n_);      \
    } while (0)

#define SKIP(why) harness_skip(why)

#endif
