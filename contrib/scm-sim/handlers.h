/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handlers.h - the three ways in: REST endpoint, form, admin.  Each is
 * called by main.c with the state lock held.
 */
#ifndef SCM_SIM_HANDLERS_H
#define SCM_SIM_HANDLERS_H

#include "scm_sim.h"

/* POST /oauth2/token: the OAuth 2.0 client-credentials grant. */
void rest_token(struct sim *s, const struct sim_req *rq, struct sim_reply *rp);

/* The token URL a 401 names (new string, free()): ours, or the config's
 * "authorizationUri" when it gives one. */
char *rest_authorization_uri(const struct sim *s);

/* /api/v1/certificates[/{id}[/status]]. */
void rest_handle(struct sim *s, const struct sim_req *rq, struct sim_reply *rp);

/* true if path is under /customer/<customerUri>/cs/. */
bool form_match(struct sim *s, const char *path);

/* /customer/<customerUri>/cs/<form>/... */
void form_handle(struct sim *s, const struct sim_req *rq, struct sim_reply *rp);

/* /admin/... (loopback clients only). */
void admin_handle(struct sim *s, const struct sim_req *rq,
                  struct sim_reply *rp);

#endif
