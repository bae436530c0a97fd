#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim's faults on demand: each type, their matching rules (path, method,
# after, count, probability), the admin calls, and faults from the config.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$here/scm_sim_lib.sh"
scm_sim_start || exit 1
# shellcheck source=tests/integration/scm_sim_check_lib.sh
. "$here/scm_sim_check_lib.sh"

api=/api/v1/certificates
TOK=$(scm_sim_token)
make_csr "$W/k" ec:P-256
printf '{"csr":"%s","email":"dev@example.org"}' "$(cat "$W/k.b64")" \
    >"$W/e.json"
enroll() {
    call POST "$api" "@$W/e.json"
}
enroll
id=$(json certId)

# --- 429 and 503 with Retry-After -------------------------------------------
scm_sim_fault '{"type":"429","retryAfter":7}'
call GET "$api/$id/status"
t /faults/429 eq "$STATUS" 429
t /faults/429_retry_after has "$HDRS" "Retry-After: 7"
t /faults/429_error_shape has "$BODY" '"code":-1400'
call GET "$api/$id/status"
t /faults/429_only_once eq "$STATUS" 200

scm_sim_fault '{"type":"503","count":2}'
call GET "$api/$id/status"
t /faults/503 eq "$STATUS" 503
t /faults/503_retry_after has "$HDRS" "Retry-After: 1"
call GET "$api/$id/status"
t /faults/503_twice eq "$STATUS" 503
call GET "$api/$id/status"
t /faults/503_then_ok eq "$STATUS" 200

scm_sim_fault '{"type":"401","path":"/api/"}'
call GET "$api/$id/status"
t /faults/401 eq "$STATUS" 401
t /faults/401_names_token_uri has "$HDRS" \
    "authorization_uri=\"$SCM_SIM_URL/oauth2/token\", error=\"invalid_token\""
call GET "$api/$id/status"
t /faults/401_token_still_valid eq "$STATUS" 200

# --- connection reset, slow answer, malformed JSON --------------------------
scm_sim_fault '{"type":"reset"}'
out=$(scm_sim_bearer "$TOK" "$SCM_SIM_URL$api/$id/status" 2>&1)
rc=$?
t /faults/reset_fails_the_call [ "$rc" -ne 0 ]
t /faults/reset_no_answer lacks "$out" "status"
call GET "$api/$id/status"
t /faults/reset_then_ok eq "$STATUS" 200

scm_sim_fault '{"type":"slow","delayMs":1500}'
start=$(date +%s%N)
call GET "$api/$id/status"
ms=$((($(date +%s%N) - start) / 1000000))
t /faults/slow_answers eq "$STATUS" 200
t /faults/slow_takes_time [ "$ms" -ge 1400 ]
out=$(scm_sim_fault '{"type":"slow","delayMs":3000}')
t /faults/slow_times_out_a_client [ "$(scm_sim_bearer "$TOK" --max-time 1 \
    -o /dev/null -w '%{http_code}' "$SCM_SIM_URL$api/$id/status" \
    2>/dev/null)" = 000 ]

scm_sim_fault '{"type":"malformed_json","path":"/api/v1/certificates"}'
call GET "$api/$id/status"
t /faults/malformed_json_200 eq "$STATUS" 200
t /faults/malformed_json_is_broken [ "${BODY: -1}" != "}" ]

# --- download faults ---------------------------------------------------------
scm_sim_fault '{"type":"truncated_pem"}'
call GET "$api/$id/status"
t /faults/truncated_pem_spares_status has "$BODY" '"status":"Issued"'
call GET "$api/$id?format=x509"
t /faults/truncated_pem_200 eq "$STATUS" 200
printf '%s' "$BODY" >"$W/t.pem"
t /faults/truncated_pem_has_no_end lacks "$BODY" "-----END"
t /faults/truncated_pem_does_not_parse [ "$(openssl x509 -in "$W/t.pem" \
    -noout 2>/dev/null && echo parsed)" = "" ]
call GET "$api/$id?format=x509"
t /faults/truncated_pem_once has "$BODY" "-----END CERTIFICATE-----"

# --- enroll-phase faults: marked at submission -------------------------------
scm_sim_fault '{"type":"other_key"}'
enroll
call GET "$api/$(json certId)?format=x509CO"
t /faults/other_key_issued eq "$STATUS" 200
t /faults/other_key_differs [ "$(printf '%s\n' "$BODY" |
    openssl x509 -noout -pubkey)" != "$(openssl pkey -in "$W/k.key" -pubout)" ]

scm_sim_fault '{"type":"wrong_intermediate"}'
enroll
wid=$(json certId)
call GET "$api/$wid?format=x509"
printf '%s\n' "$BODY" >"$W/w.pem"
t /faults/wrong_int_three_certs eq "$(grep -c 'BEGIN CERT' "$W/w.pem")" 3
t /faults/wrong_int_same_name has "$(openssl crl2pkcs7 -nocrl -certfile \
    "$W/w.pem" | openssl pkcs7 -print_certs -noout)" "scm-sim EC Code Signing CA"
t /faults/wrong_int_fails_verify lacks "$(openssl verify -CAfile \
    "$SCM_SIM_ROOTS" -untrusted "$W/w.pem" "$W/w.pem" 2>&1)" ": OK"
call GET "$api/$id?format=x509"
printf '%s\n' "$BODY" >"$W/g.pem"
t /faults/right_int_for_others has "$(openssl verify -CAfile \
    "$SCM_SIM_ROOTS" -untrusted "$W/g.pem" "$W/g.pem" 2>&1)" ": OK"

scm_sim_fault '{"type":"rejected"}'
enroll
rid=$(json certId)
t /faults/rejected_is_applied_first has "$BODY" '"status":"Applied"'
call GET "$api/$rid/status"
t /faults/rejected_status has "$BODY" '"status":"Rejected"'
t /faults/rejected_reason has "$BODY" '"statusReason":"the CA rejected'
call GET "$api/$rid"
t /faults/rejected_download eq "$STATUS" 400
t /faults/rejected_download_code has "$BODY" '"code":-183'

# --- matching rules ----------------------------------------------------------
scm_sim_fault '{"type":"503","path":"/oauth2/token"}'
call GET "$api/$id/status"
t /faults/path_limits eq "$STATUS" 200
t /faults/path_hits [ -z "$(scm_sim_token)" ]
t /faults/path_once [ -n "$(scm_sim_token)" ]

scm_sim_fault '{"type":"503","method":"POST","path":"/api/"}'
call GET "$api/$id/status"
t /faults/method_limits eq "$STATUS" 200
enroll
t /faults/method_hits eq "$STATUS" 503

scm_sim_fault '{"type":"429","after":2}'
call GET "$api/$id/status"
s1=$STATUS
call GET "$api/$id/status"
s2=$STATUS
call GET "$api/$id/status"
t /faults/after_lets_two_pass eq "$s1 $s2 $STATUS" "200 200 429"

scm_sim_fault '{"type":"503","probability":0}'
call GET "$api/$id/status"
t /faults/probability_0_never eq "$STATUS" 200
scm_sim_admin GET /admin/faults >"$W/f.json"
t /faults/list has "$(cat "$W/f.json")" '"type":"503"'
t /faults/list_probability has "$(cat "$W/f.json")" '"probability":0'
scm_sim_admin DELETE /admin/faults >"$W/f.json"
t /faults/clear has "$(cat "$W/f.json")" '"faults":[]'
scm_sim_fault '{"type":"503","probability":1,"count":3}'
n=0
for _ in 1 2 3 4; do
    call GET "$api/$id/status"
    [ "$STATUS" = 503 ] && n=$((n + 1))
done
t /faults/probability_1_count_3 eq "$n" 3

scm_sim_admin DELETE /admin/faults >/dev/null
scm_sim_fault '{"type":"503","probability":0.5,"path":"/api/"}'
n=0
for _ in $(seq 30); do
    call GET "$api/$id/status"
    [ "$STATUS" = 503 ] && n=$((n + 1))
done
t /faults/probability_half_fires_sometimes [ "$n" -ge 3 -a "$n" -le 27 ]
scm_sim_admin GET /admin/faults >"$W/f.json"
t /faults/probability_unlimited_without_count has "$(cat "$W/f.json")" \
    "\"fired\":$n"

scm_sim_admin POST /admin/faults \
    '{"clear":true,"faults":[{"type":"429"},{"type":"503"}]}' >"$W/f.json"
t /faults/clear_and_add_list eq "$(grep -o '"type"' "$W/f.json" | wc -l)" 2
call GET "$api/$id/status"
s1=$STATUS
call GET "$api/$id/status"
t /faults/in_order eq "$s1 $STATUS" "429 503"

out=$(scm_sim_curl -o /dev/null -w '%{http_code}' -d '{"type":"fire"}' \
    "$SCM_SIM_URL/admin/faults")
t /faults/unknown_type_refused eq "$out" 400
out=$(scm_sim_curl -d '{"type":"429","count":"x"}' "$SCM_SIM_URL/admin/faults")
t /faults/bad_count_refused has "$out" "count"

# admin calls are never faulted
scm_sim_fault '{"type":"503","count":5}'
out=$(scm_sim_admin GET /admin/config)
t /faults/admin_not_faulted has "$out" "issuanceDelay"
scm_sim_admin DELETE /admin/faults >/dev/null

# faults from the config file, armed at start
cat >"$W/cfg.json" <<'JSON'
{"faults": [{"type": "503", "path": "/api/v1/certificates", "count": 1,
             "retryAfter": 3}]}
JSON
scm_sim_restart "$W/cfg.json"
TOK=$(scm_sim_token)
t /faults/config_token_unaffected [ -n "$TOK" ]
call GET "$api/$id/status"
t /faults/config_fault eq "$STATUS" 503
t /faults/config_retry_after has "$HDRS" "Retry-After: 3"
call GET "$api/$id/status"
t /faults/config_fault_once eq "$STATUS" 200

finish
