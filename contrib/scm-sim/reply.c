/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reply.c - JSON answers and error bodies in SCM's shape.
 */
#include "scm_sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply_clear(struct sim_reply *rp)
{
    free(rp->body);
    rp->body = NULL;
    rp->len = 0;
}

void reply_json(struct sim_reply *rp, unsigned int status, json_t *j)
{
    char *text = NULL;

    reply_clear(rp);
    if (j != NULL)
        text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text == NULL) {
        rp->status = 500;
        rp->ctype = "application/json";
        rp->body = strdup("{\"code\":-1,\"description\":\"out of memory\"}");
        rp->len = rp->body != NULL ? strlen(rp->body) : 0;
        return;
    }
    rp->status = status;
    rp->ctype = "application/json";
    rp->body = text;
    rp->len = strlen(text);
}

void reply_error(struct sim_reply *rp, unsigned int status, int code,
                 const char *fmt, ...)
{
    char desc[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    reply_json(rp, status,
               json_pack("{s:i, s:s}", "code", code, "description", desc));
}

void reply_bytes(struct sim_reply *rp, unsigned int status, const char *ctype,
                 const void *data, size_t len)
{
    reply_clear(rp);
    rp->body = malloc(len + 1);
    if (rp->body == NULL) {
        reply_error(rp, 500, -1, "out of memory");
        return;
    }
    memcpy(rp->body, data, len);
    rp->body[len] = '\0';
    rp->len = len;
    rp->status = status;
    rp->ctype = ctype;
}

json_t *reply_parse_body(const struct sim_req *rq, struct sim_reply *rp)
{
    json_error_t err;
    json_t *j = NULL;

    if (rq->len == 0) {
        reply_error(rp, 400, -2, "the request has no body; JSON expected");
        return NULL;
    }
    j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        reply_error(rp, 400, -2, "the body is not valid JSON: %s (line %d)",
                    err.text, err.line);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        reply_error(rp, 400, -2, "the body must be a JSON object");
        return NULL;
    }
    return j;
}
