/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.h - the small helpers every layer needs once: hex, durations and
 * RFC 3339 times.
 *
 * Durations have one rule everywhere: a whole number followed by one unit,
 * s (seconds), m (minutes), h (hours), d (days) or w (weeks); a bare number
 * is seconds.  Options that expect days (such as --within) refuse a bare
 * number that would be surprisingly short, at the option, not here.
 *
 * Times are shown and stored as RFC 3339 in UTC, "2027-12-05T04:11:04Z".
 */
#ifndef P11E_UTIL_H
#define P11E_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/asn1.h>

#include "rc.h"

/* Room for "2027-12-05T04:11:04Z" and its NUL. */
#define UTIL_TIME_SIZE 21

/*
 * len bytes of data as lower-case hex into buf; returns buf.  buf holds ""
 * when it is smaller than 2 * len + 1 bytes (size 0: buf is untouched).
 */
const char *util_hex_encode(const unsigned char *data, size_t len, char *buf,
                            size_t size);

/*
 * Hex ("0a1b", "0A:1B", "%0a%1b": ':', '%' and ' ' between bytes are
 * skipped) into at most size bytes of buf; the count into *plen.
 * PE_E_INPUT naming the text if it is not hex or does not fit.
 */
enum pe_rc util_hex_decode(const char *hex, unsigned char *buf, size_t size,
                           size_t *plen);

/*
 * "90", "90s", "15m", "12h", "30d", "2w" -> seconds into *psecs (see the
 * unit rule above); 0 .. max seconds.  PE_E_USAGE with a sentence naming
 * the text otherwise; *psecs is untouched then.
 */
enum pe_rc util_duration_parse(const char *s, long max, long *psecs);

/* t as "2027-12-05T04:11:04Z" into buf (size >= UTIL_TIME_SIZE); "?" if
 * it cannot be shown.  Returns buf. */
const char *util_time_rfc3339(time_t t, char *buf, size_t size);

/*
 * "2027-12-05T04:11:04Z" (RFC 3339 in UTC, 'T' and 'Z' in either case) as
 * time_t into *pt; true if so.  Also reads "2027-12-05 04:11:04 UTC", the
 * form journals of the first release hold.  false, *pt and the error detail
 * untouched, if s (NULL too) is neither or not a real time: it is also used
 * to probe saved values, so the caller words any message.
 */
bool util_time_parse(const char *s, time_t *pt);

/* An X.509 time (UTCTime or GeneralizedTime) as time_t into *pt;
 * PE_E_INPUT if it cannot be read. */
enum pe_rc util_time_asn1(const ASN1_TIME *t, time_t *pt);

#endif
