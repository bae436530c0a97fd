/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor_ca.c - the CA side of `p11enroll doctor`: the endpoint answers
 * over HTTPS with a certificate we trust, our clock agrees with its Date
 * header, and the REST credentials get an OAuth token.
 */
#include "doctor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "http.h"
#include "secret.h"

#define SKEW_OK       60
#define SKEW_WARN     300
#define DATE_BODY_MAX (64 * 1024)

enum doctor_status doctor_skew_status(long skew_s)
{
    long a = skew_s < 0 ? -skew_s : skew_s;

    if (a <= SKEW_OK)
        return DOCTOR_OK;
    return a <= SKEW_WARN ? DOCTOR_WARN : DOCTOR_FAIL;
}

/* One GET of the endpoint over TLS we trust: its Date header (0 when it
 * sends none) and our clock at that moment (the middle of the request). */
static enum pe_rc ca_get(const struct doctor_ca_opts *o, time_t *pserver,
                         time_t *plocal)
{
    struct http_config cfg = {0};
    struct http_client *c = NULL;
    struct http_request req = {0};
    struct http_response resp = {0};
    time_t t0, t1;
    enum pe_rc rc;

    cfg.ca_file = o->ca_file;
    cfg.connect_timeout_s = o->timeout_s;
    cfg.timeout_s = o->timeout_s;
    cfg.max_body = DATE_BODY_MAX;
    req.method = "GET";
    req.url = o->url;
    rc = http_client_new(&cfg, &c);
    if (rc == PE_OK) {
        t0 = time(NULL);
        rc = http_do(c, &req, &resp);
        t1 = time(NULL);
        *pserver = resp.date;
        *plocal = t0 + (t1 - t0) / 2;
    }
    http_response_clear(&resp);
    http_client_free(c);
    return rc;
}

/* The endpoint answers at all, over TLS we trust: the "ca" check, and
 * the answer's Date for check_clock. */
static bool check_reach(struct doctor_report *r, const struct doctor_ca_opts *o,
                        time_t *pserver, time_t *plocal)
{
    enum pe_rc rc;

    if (!http_url_is_https(o->url)) {
        doctor_add(r, "ca", DOCTOR_FAIL, PE_E_CONFIG,
                   "%s is not an https:// URL; credentials and requests "
                   "are only sent over verified HTTPS.",
                   o->url);
        return false;
    }
    rc = ca_get(o, pserver, plocal);
    if (rc != PE_OK)
        doctor_add(r, "ca", DOCTOR_FAIL, rc, "%s", pe_sentence(rc));
    else
        doctor_add(r, "ca", DOCTOR_OK, PE_OK,
                   "%s answers over HTTPS with a certificate trusted by %s%s.",
                   o->url, o->ca_file != NULL ? "--ca-file " : "the system",
                   o->ca_file != NULL ? o->ca_file : " trust store");
    return rc == PE_OK;
}

static void check_clock(struct doctor_report *r, const struct doctor_ca_opts *o,
                        time_t server, time_t local)
{
    enum doctor_status st;
    long skew;

    if (server == 0) {
        doctor_add(r, "clock", DOCTOR_SKIP, PE_OK,
                   "Not checked: %s sends no readable Date header.", o->url);
        return;
    }
    skew = (long)(local - server);
    st = doctor_skew_status(skew);
    if (st == DOCTOR_OK)
        doctor_add(r, "clock", st, PE_OK,
                   "The local clock is within %ld s of the CA's.",
                   skew < 0 ? -skew : skew);
    else
        doctor_add(r, "clock", st, PE_E_CONFIG,
                   "The local clock is %ld s %s the CA's: certificates may "
                   "look not yet valid or expired, and tokens refused; "
                   "set the clock (NTP).",
                   skew < 0 ? -skew : skew, skew < 0 ? "behind" : "ahead of");
}

static void check_credentials(struct doctor_report *r,
                              const struct doctor_ca_opts *o)
{
    struct ca_config cfg = {0};
    struct secret_source src;
    struct secret *secret = NULL;
    struct ca *ca = NULL;
    enum pe_rc rc;

    if (o->form) {
        doctor_add(r, "credentials", DOCTOR_SKIP, PE_OK,
                   "Not checked for a form: logging in would mail a one-time "
                   "code.");
        return;
    }
    if (o->client_id == NULL || o->secret_spec == NULL) {
        doctor_add(r, "credentials", DOCTOR_SKIP, PE_OK,
                   "Not checked: give --client-id and the client secret "
                   "(--client-secret-file, -fd or -env) to check them.");
        return;
    }
    rc = secret_source_parse(o->secret_spec, &src);
    if (rc == PE_OK)
        rc = secret_read(&src, false, &secret);
    if (rc != PE_OK) {
        doctor_add(r, "credentials", DOCTOR_FAIL, PE_E_CONFIG,
                   "The client secret cannot be read: %s", pe_sentence(rc));
        return;
    }
    cfg.protocol = CA_PROTO_REST;
    cfg.url = o->url;
    cfg.client_id = o->client_id;
    cfg.client_secret = secret;
    cfg.token_url = o->token_url;
    cfg.http.ca_file = o->ca_file;
    cfg.http.connect_timeout_s = o->timeout_s;
    cfg.http.timeout_s = o->timeout_s;
    rc = ca_new(&cfg, &ca);
    if (rc == PE_OK && ca->ops->prepare != NULL)
        rc = ca->ops->prepare(ca);
    if (rc == PE_OK)
        doctor_add(r, "credentials", DOCTOR_OK, PE_OK,
                   "The token server accepted client ID \"%s\".", o->client_id);
    else
        doctor_add(r, "credentials", DOCTOR_FAIL, rc, "%s", pe_sentence(rc));
    ca_free(ca);
    secret_free(secret);
}

void doctor_ca(struct doctor_report *r, const struct doctor_ca_opts *o)
{
    time_t server = 0, local = 0;

    if (o->url == NULL) {
        doctor_add(r, "ca", DOCTOR_SKIP, PE_OK,
                   "Not checked: no --endpoint or --form given.");
        return;
    }
    if (!check_reach(r, o, &server, &local)) {
        doctor_add(r, "clock", DOCTOR_SKIP, PE_OK,
                   "Not checked: the CA did not answer.");
        doctor_add(r, "credentials", DOCTOR_SKIP, PE_OK,
                   "Not checked: the CA did not answer.");
        return;
    }
    check_clock(r, o, server, local);
    check_credentials(r, o);
}
