/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_text.c - request ids and CA text made safe (ca_text.h).
 *
 * A CA (or someone in the middle of a misissued TLS certificate) chooses
 * these bytes; a request id names a journal file and a URL path, and a
 * status reason or a EULA is printed on the user's terminal, where escape
 * sequences could rewrite what the user reads or set the window title.
 */
#include "ca_text.h"

#include <string.h>

#include "ca.h"

bool ca_text_id_ok(const char *id)
{
    return ca_id_valid(id) && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

char *ca_text_clean(char *s, bool multiline)
{
    unsigned char *r, *w;

    if (s == NULL)
        return s;
    for (r = w = (unsigned char *)s; *r != '\0'; r++) {
        if (*r == '\r' && multiline && r[1] == '\n')
            continue; /* "\r\n" -> "\n" */
        if (*r == '\n' && multiline)
            *w++ = '\n';
        else if (*r < 0x20)
            *w++ = ' ';
        else if (*r == 0x7f)
            *w++ = '?';
        else if (*r == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
            *w++ = '?'; /* UTF-8 of a C1 control */
            r++;
        } else
            *w++ = *r;
    }
    *w = '\0';
    return s;
}
