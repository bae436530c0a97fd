/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renew_json.c - renew's result as JSON: the --json envelope's "result"
 * (docs/json-schema.md) and the file --notify-cmd hands its command.
 */
#include "renew.h"

#include "jsonout.h"

json_t *renew_item_json(const struct renew_item *it)
{
    json_t *j;

    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "outcome",
                  renew_outcome_name(it->outcome), "token", it->token, "key_id",
                  it->key_id, "subject", it->subject, "serial", it->serial,
                  "sha256", it->sha256, "not_after",
                  jsonout_time(it->not_after), "message", it->message);
    if (j != NULL && it->fix[0] != '\0')
        json_object_set_new(j, "fix", json_string(it->fix));
    if (j != NULL && it->enrollment[0] != '\0')
        json_object_set_new(j, "renewal",
                            json_pack("{s:s, s:s, s:s, s:o, s:s}", "enrollment",
                                      it->enrollment, "key_id", it->new_key_id,
                                      "serial", it->new_serial, "not_after",
                                      jsonout_time(it->new_not_after),
                                      "certificate_uri", it->new_cert_uri));
    if (j != NULL && (it->outcome == RENEW_RETIRED || it->removed_certs != 0))
        json_object_set_new(j, "removed",
                            json_pack("{s:I, s:b}", "certificates",
                                      (json_int_t)it->removed_certs, "key",
                                      it->removed_key));
    if (j != NULL && it->rc != PE_OK)
        json_object_set_new(j, "error",
                            json_pack("{s:i, s:s}", "code", pe_rc_exit(it->rc),
                                      "name", pe_rc_name(it->rc)));
    return j;
}

json_t *renew_result_json(const struct renew_result *res, long window)
{
    json_t *items = json_array(), *j;
    size_t i;

    if (items == NULL)
        return NULL;
    for (i = 0; i < res->n; i++) {
        j = renew_item_json(&res->v[i]);
        if (j == NULL || json_array_append_new(items, j) != 0) {
            json_decref(items);
            return NULL;
        }
    }
    return json_pack(
        "{s:o, s:o, s:o}", "window_seconds",
        window >= 0 ? json_integer((json_int_t)window) : json_null(),
        "certificates", items, "next_due", jsonout_time(res->next_due));
}
