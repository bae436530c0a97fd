/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_journal.c - a journal record as it may be found on disk, damaged or
 * written by someone else (agent/journal.c): parse, and what parses dumps
 * and parses again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct journal_rec *rec = NULL, *again = NULL;
    char *text = NULL;

    if (size > 65536)
        return 0;
    if (journal_parse((const char *)data, size, &rec) != PE_OK) {
        journal_rec_free(rec);
        return 0;
    }
    if (journal_dump(rec, &text) == PE_OK && text != NULL) {
        size_t n = 0;

        while (text[n] != '\0')
            n++;
        if (journal_parse(text, n, &again) != PE_OK)
            abort(); /* what we write we must read back */
        journal_rec_free(again);
    }
    free(text);
    journal_rec_free(rec);
    return 0;
}
