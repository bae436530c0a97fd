/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_text.h - what the CA sends that ends up in a file name or on a
 * terminal: request ids and free text.
 */
#ifndef P11E_CA_TEXT_H
#define P11E_CA_TEXT_H

#include <stdbool.h>

/* A request id safe as a URL path segment and in a file name: 1..CA_ID_MAX
 * of [A-Za-z0-9._-] (ca_id_valid), and neither "." nor "..". */
bool ca_text_id_ok(const char *id);

/*
 * Make CA text s (NUL-terminated, changed in place) safe for a terminal:
 * C0 controls, DEL and the C1 controls (U+0080..U+009F, which some
 * terminals obey like ESC) become a space, or '?' for DEL and C1; with
 * multiline, "\n" stays and "\r\n" becomes "\n".  Returns s.
 */
char *ca_text_clean(char *s, bool multiline);

#endif
