/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_rest.h - the REST protocol's policies that tests check on their own.
 */
#ifndef P11E_CA_REST_H
#define P11E_CA_REST_H

#include "rc.h"

/* Sectigo's OAuth host (the tokenUrl of its enrollment API), the one
 * token server a *.sectigo.com endpoint may name besides its own host. */
#define CA_REST_SECTIGO_AUTH_HOST "auth.sso.sectigo.com"

/*
 * May the client secret go to token_url, which the endpoint (REST base URL)
 * named in a 401?  Yes when its host is the endpoint's own, or Sectigo's
 * OAuth host while the endpoint is under sectigo.com.  PE_OK or
 * PE_E_CA_AUTH with a sentence naming the host and --token-url.  A token
 * URL the user gave is not judged by this: it is allowed by being given.
 */
enum pe_rc ca_rest_check_token_url(const char *endpoint, const char *token_url);

#endif
