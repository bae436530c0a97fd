/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin.c - the test hooks under /admin/: faults, the changeable numbers of
 * the config, and a look at (and a push to) the stored requests.  main.c
 * answers these only to loopback clients; they need no auth.
 */
#include "config.h"
#include "faults.h"
#include "handlers.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void faults_reply(struct sim *s, struct sim_reply *rp)
{
    reply_json(rp, 200,
               json_pack("{s:o}", "faults", faults_to_json(s->faults)));
}

static void admin_faults(struct sim *s, const struct sim_req *rq,
                         struct sim_reply *rp)
{
    json_t *body = NULL, *spec;
    char err[256];

    if (strcmp(rq->method, "GET") == 0) {
        faults_reply(s, rp);
        return;
    }
    if (strcmp(rq->method, "DELETE") == 0) {
        faults_clear(s->faults);
        faults_reply(s, rp);
        return;
    }
    if (strcmp(rq->method, "POST") != 0) {
        reply_error(rp, 405, -2, "use GET, POST or DELETE");
        return;
    }
    body = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, NULL);
    if (body == NULL) {
        reply_error(rp, 400, -2,
                    "a fault object, an array of them, or "
                    "{\"clear\": true, \"faults\": [...]} expected");
        return;
    }
    spec = body;
    if (json_is_object(body) && json_object_get(body, "type") == NULL) {
        if (json_is_true(json_object_get(body, "clear")))
            faults_clear(s->faults);
        spec = json_object_get(body, "faults");
    }
    if (spec != NULL &&
        faults_add_json(s->faults, spec, err, sizeof(err)) != 0) {
        reply_error(rp, 400, -2, "%s", err);
        json_decref(body);
        return;
    }
    json_decref(body);
    faults_reply(s, rp);
}

static void config_reply(struct sim *s, struct sim_reply *rp)
{
    const struct sim_config *c = s->cfg;

    static const char *const cases[] = {"asis", "upper", "lower"};

    reply_json(rp, 200,
               json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
                         "issuanceDelay", (json_int_t)c->issuance_delay,
                         "tokenLifetime", (json_int_t)c->token_lifetime,
                         "sessionLifetime", (json_int_t)c->session_lifetime,
                         "otpLifetime", (json_int_t)c->otp_lifetime, "otpTries",
                         (json_int_t)c->otp_tries, "otpPerHour",
                         (json_int_t)c->otp_per_hour, "pendingStatus",
                         c->pending_status, "statusCase",
                         cases[c->status_case]));
}

static void admin_config(struct sim *s, const struct sim_req *rq,
                         struct sim_reply *rp)
{
    const struct config_num *n;
    json_t *body, *v;
    char err[256];
    size_t i;

    if (strcmp(rq->method, "GET") == 0) {
        config_reply(s, rp);
        return;
    }
    body = reply_parse_body(rq, rp);
    if (body == NULL)
        return;
    for (i = 0; i < CONFIG_NNUMS; i++) {
        n = &config_nums[i];
        v = json_object_get(body, n->key);
        if (v != NULL &&
            (!json_is_integer(v) || json_integer_value(v) < n->min ||
             json_integer_value(v) > n->max)) {
            reply_error(rp, 400, -2, "%s must be an integer %ld..%ld", n->key,
                        n->min, n->max);
            json_decref(body);
            return;
        }
    }
    if (config_status_words(s->cfg, body, err, sizeof(err)) != 0) {
        reply_error(rp, 400, -2, "%s", err);
        json_decref(body);
        return;
    }
    for (i = 0; i < CONFIG_NNUMS; i++) {
        v = json_object_get(body, config_nums[i].key);
        if (v != NULL)
            CONFIG_NUM(s->cfg, &config_nums[i]) = (long)json_integer_value(v);
    }
    json_decref(body);
    sim_log("config changed: issuance delay %ld s", s->cfg->issuance_delay);
    config_reply(s, rp);
}

/* POST /admin/requests/{id} {"status": "Issued"|"Rejected"|...}:
 * Issued makes it due now; the others set the status at once. */
static void admin_push(struct sim *s, const struct sim_req *rq, const char *id,
                       struct sim_reply *rp)
{
    static const char *const allowed[] = {"Issued",   "Applied", "Rejected",
                                          "Declined", "Revoked", NULL};
    json_t *body = reply_parse_body(rq, rp), *rec = NULL;
    const char *st = json_string_value(json_object_get(body, "status"));
    size_t i;

    if (body == NULL)
        return;
    for (i = 0; st != NULL && allowed[i] != NULL; i++)
        if (strcmp(st, allowed[i]) == 0)
            break;
    rec = store_load(s, id);
    if (st == NULL || allowed[i] == NULL) {
        reply_error(rp, 400, -2,
                    "status: Issued, Applied, Rejected, "
                    "Declined or Revoked");
    } else if (rec == NULL) {
        reply_error(rp, 404, -105, "Unknown certificate ID %.40s", id);
    } else {
        if (strcmp(st, "Issued") == 0 || strcmp(st, "Applied") == 0) {
            if (strcmp(config_member(rec, "status", ""), "Applied") == 0 &&
                strcmp(st, "Issued") == 0)
                json_object_set_new(rec, "issueAt",
                                    json_integer((json_int_t)util_now()));
        } else {
            json_object_set_new(rec, "status", json_string(st));
            json_object_set_new(rec, "statusReason",
                                json_string("set by the administrator"));
        }
        store_save(s, rec);
        json_object_del(rec, "csr");
        json_object_del(rec, "cert");
        reply_json(rp, 200, json_incref(rec));
    }
    json_decref(rec);
    json_decref(body);
}

void admin_handle(struct sim *s, const struct sim_req *rq, struct sim_reply *rp)
{
    const char *p = rq->path + strlen("/admin");

    if (strcmp(p, "/faults") == 0) {
        admin_faults(s, rq, rp);
    } else if (strcmp(p, "/config") == 0) {
        admin_config(s, rq, rp);
    } else if (strcmp(p, "/requests") == 0 && strcmp(rq->method, "GET") == 0) {
        reply_json(rp, 200, json_pack("{s:o}", "requests", store_list(s)));
    } else if (strncmp(p, "/requests/", 10) == 0 &&
               strcmp(rq->method, "POST") == 0) {
        admin_push(s, rq, p + 10, rp);
    } else if (strncmp(p, "/requests/", 10) == 0 &&
               strcmp(rq->method, "GET") == 0) {
        json_t *rec = store_load(s, p + 10);
        if (rec == NULL) {
            reply_error(rp, 404, -105, "Unknown certificate ID");
            return;
        }
        json_object_del(rec, "csr");
        reply_json(rp, 200, rec);
    } else {
        reply_error(rp, 404, -2, "no such admin call");
    }
}
