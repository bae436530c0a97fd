#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim's start-up contract, its state folder (a pending request survives
# a restart), the issuance delay, the config file, admin calls and the log.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$here/scm_sim_lib.sh"
scm_sim_start || exit 1
# shellcheck source=tests/integration/scm_sim_check_lib.sh
. "$here/scm_sim_check_lib.sh"

api=/api/v1/certificates

# --- what start-up prints ----------------------------------------------------
t /state/port_printed [ "$SCM_SIM_PORT" -gt 0 ]
t /state/url eq "$SCM_SIM_URL" "https://127.0.0.1:$SCM_SIM_PORT"
t /state/ca_file eq "$SCM_SIM_CA_FILE" "$SCM_SIM_STATE/tls-ca.pem"
t /state/roots eq "$SCM_SIM_ROOTS" "$SCM_SIM_STATE/ca/roots.pem"
t /state/outbox_dir [ -d "$SCM_SIM_OUTBOX" ]
t /state/two_roots eq "$(grep -c 'BEGIN CERTIFICATE' "$SCM_SIM_ROOTS")" 2
roots=$(openssl crl2pkcs7 -nocrl -certfile "$SCM_SIM_ROOTS" |
    openssl pkcs7 -print_certs -text -noout)
t /state/ec_root_p384 has "$roots" "NIST CURVE: P-384"
t /state/rsa_root_4096 has "$roots" "Public-Key: (4096 bit)"
int=$(openssl x509 -in "$SCM_SIM_STATE/ca/rsa-int.pem" -noout -text)
t /state/rsa_int_3072 has "$int" "Public-Key: (3072 bit)"
t /state/int_pathlen has "$int" "CA:TRUE, pathlen:0"
tls=$(openssl x509 -in "$SCM_SIM_STATE/tls/server.pem" -noout -text)
t /state/tls_san has "$tls" "IP Address:127.0.0.1"
t /state/tls_san_localhost has "$tls" "DNS:localhost"
t /state/tls_ca_separate lacks "$(cat "$SCM_SIM_ROOTS")" \
    "$(sed -n 2p "$SCM_SIM_CA_FILE")"
t /state/key_files_private eq "$(stat -c %a "$SCM_SIM_STATE/ca/ec-root.key")" 600
out=$(curl -sS --max-time 10 "$SCM_SIM_URL/" 2>&1)
t /state/untrusted_client_fails has "$out" "certificate"
out=$(scm_sim_curl -o /dev/null -w '%{http_code}' \
    "https://localhost:$SCM_SIM_PORT/nothing")
t /state/localhost_name_ok eq "$out" 404
t /state/listens_on_loopback_only has "$(ss -ltn 2>/dev/null ||
    echo "127.0.0.1:$SCM_SIM_PORT")" "127.0.0.1:$SCM_SIM_PORT"

# --- pending, restart, issued --------------------------------------------------
# (a long delay and an admin push where timing must not matter; a short one,
# with a margin, where it is the point)
scm_sim_delay 600
TOK=$(scm_sim_token)
make_csr "$W/k" ec:P-256
printf '{"csr":"%s","email":"dev@example.org"}' "$(cat "$W/k.b64")" \
    >"$W/e.json"
call POST "$api" "@$W/e.json"
id=$(json certId)
t /state/applied has "$BODY" '"status":"Applied"'
call GET "$api/$id/status"
t /state/still_applied has "$BODY" '"status":"Applied"'
call GET "$api/$id"
t /state/pending_download_404 eq "$STATUS" 404
t /state/pending_download_code has "$BODY" '"code":-103'
t /state/request_file [ -s "$SCM_SIM_STATE/requests/$id.json" ]

scm_sim_restart
TOK=$(scm_sim_token)
call GET "$api/$id/status"
t /state/pending_survives_restart has "$BODY" '"status":"Applied"'
scm_sim_admin POST /admin/config '{"pendingStatus":"requested"}' >/dev/null
call GET "$api/$id/status"
t /state/pending_word_requested has "$BODY" '"status":"Requested"'
scm_sim_admin POST /admin/config '{"statusCase":"upper"}' >/dev/null
call GET "$api/$id/status"
t /state/status_upper_case has "$BODY" '"status":"REQUESTED"'
out=$(scm_sim_admin POST /admin/config '{"pendingStatus":"Waiting"}')
t /state/pending_word_checked has "$out" "pendingStatus"
scm_sim_admin POST /admin/config \
    '{"pendingStatus":"Applied","statusCase":"asis"}' >/dev/null
call GET "$api/$id/status"
t /state/status_words_back has "$BODY" '"status":"Applied"'
scm_sim_admin POST "/admin/requests/$id" '{"status":"Issued"}' >/dev/null
call GET "$api/$id/status"
t /state/admin_issue_now has "$BODY" '"status":"Issued"'
call GET "$api/$id?format=x509CO"
t /state/download_after_restart eq "$STATUS" 200

# a delay long enough that a busy machine still sees Applied first; then
# ask until it is Issued (at most 30 s)
scm_sim_delay 8
call POST "$api" "@$W/e.json"
id2=$(json certId)
t /state/ids_continue [ "$id2" -gt "$id" ]
call GET "$api/$id2/status"
t /state/applied_within_delay has "$BODY" '"status":"Applied"'
for _ in $(seq 1 60); do
    call GET "$api/$id2/status"
    case $BODY in *'"status":"Issued"'*) break ;; esac
    sleep 0.5
done
t /state/issued_after_delay has "$BODY" '"status":"Issued"'

scm_sim_admin GET /admin/requests >"$W/list.json"
t /state/admin_list has "$(cat "$W/list.json")" "\"id\":\"$id\""
fp=$(openssl pkey -in "$W/k.key" -pubout -outform DER | sha256sum | cut -c1-64)
t /state/admin_list_key_sha256 has "$(cat "$W/list.json")" \
    "\"keySha256\":\"$fp\""
scm_sim_delay 0
scm_sim_admin GET /admin/config >"$W/cfg.json"
t /state/admin_config has "$(cat "$W/cfg.json")" '"issuanceDelay":0'
out=$(scm_sim_admin POST /admin/config '{"issuanceDelay":-1}')
t /state/admin_config_checked has "$out" "issuanceDelay must be"
out=$(scm_sim_admin GET /admin/nothing)
t /state/admin_unknown has "$out" "no such admin call"

# parallel enrollments get distinct ids (thread per connection, one lock)
pids=()
for i in 1 2 3 4 5 6 7 8; do
    scm_sim_bearer "$TOK" -H 'Content-Type: application/json' \
        --data-binary "@$W/e.json" "$SCM_SIM_URL$api" >"$W/par.$i" &
    pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the server is a child of this shell too
ids=$(cat "$W"/par.* | grep -o '"certId":"[0-9]*"' | sort -u | wc -l)
t /state/parallel_enrollments_distinct_ids eq "$ids" 8

# --- one server a state folder; loopback only; bad options ------------------
out=$("$SCM_SIM" --state-dir "$SCM_SIM_STATE" 2>&1)
t /state/second_server_refused has "$out" "in use by another scm-sim"
out=$("$SCM_SIM" --state-dir "$W/x" --bind 0.0.0.0 2>&1)
t /state/bind_any_refused has "$out" "loopback"
out=$("$SCM_SIM" 2>&1)
t /state/usage has "$out" "usage: scm-sim --state-dir"
printf '{"issuanceDelay": "soon"}' >"$W/bad.json"
out=$("$SCM_SIM" --state-dir "$W/y" --config "$W/bad.json" 2>&1)
t /state/bad_config_refused has "$out" '"issuanceDelay" must be'
printf '{"forms": [{"uri": "x", "profile": "nope"}]}' >"$W/bad.json"
out=$("$SCM_SIM" --state-dir "$W/y" --config "$W/bad.json" 2>&1)
t /state/bad_profile_refused has "$out" 'profile "nope"'
printf '{"customerUri": ' >"$W/bad.json"
out=$("$SCM_SIM" --state-dir "$W/y" --config "$W/bad.json" 2>&1)
t /state/bad_json_refused has "$out" "bad.json:1"

mkdir -p "$W/ex"
cp -a "$SCM_SIM_STATE/ca" "$SCM_SIM_STATE/tls" "$W/ex/"
out=$("$SCM_SIM" --state-dir "$W/ex" --init-only \
    --config "$here/../../contrib/scm-sim/example.json" 2>&1)
t /state/example_config_loads has "$out" "SCM_SIM_STATE=$W/ex"

# --- a config file of our own --------------------------------------------------
cat >"$W/own.json" <<'JSON'
{
  "customerUri": "acme",
  "organization": "ACME Widgets Ltd",
  "departments": ["Release", "QA"],
  "profiles": [{"name": "Sectigo OV Code Signing", "terms": [365, 1095]}],
  "persons": [{"email": "rel@acme.test", "firstName": "Rel",
               "lastName": "Eng"}],
  "forms": [{"uri": "sign", "department": "Release",
             "profile": "Sectigo OV Code Signing", "eulaId": "acme-1",
             "eulaText": "ACME terms",
             "requiredFields": ["term", "csr", "title", "sanEmailAddress"]}],
  "invitations": [{"email": "rel@acme.test", "form": "sign"}],
  "restAccounts": [{"clientId": "ci", "clientSecret": "ci-secret-000111222",
                    "department": "QA", "profile": "Sectigo OV Code Signing",
                    "term": 1095}],
  "issuanceDelay": 0
}
JSON
scm_sim_restart "$W/own.json"
TOK=$(scm_sim_token ci ci-secret-000111222)
t /state/own_rest_account [ -n "$TOK" ]
t /state/default_account_gone [ -z "$(scm_sim_token)" ]
call POST "$api" "@$W/e.json"
call GET "$api/$(json certId)?format=x509CO"
subj=$(printf '%s\n' "$BODY" | openssl x509 -noout -subject -nameopt RFC2253)
t /state/own_org_and_department has "$subj" "OU=QA,O=ACME Widgets Ltd"
t /state/own_term has "$(printf '%s\n' "$BODY" | openssl x509 -noout \
    -checkend $((1094 * 86400)))" "will not expire"
TOK=
call GET /customer/acme/cs/sign/config
t /state/own_form has "$BODY" '"eulaText":"ACME terms"'
t /state/own_form_required has "$BODY" '"title","sanEmailAddress"'
call GET /customer/demo/cs/cs/config
t /state/old_form_gone eq "$STATUS" 404
call POST /customer/acme/cs/sign/auth/email '{"email":"REL@acme.test"}'
t /state/invitation_email_any_case eq "$STATUS" 202
code=$(scm_sim_otp "REL@acme.test")
call POST /customer/acme/cs/sign/auth/verify \
    "{\"email\":\"rel@acme.test\",\"code\":\"$code\"}"
t /state/code_for_any_case eq "$STATUS" 200
TOK=$(json session)
printf '{"term":1095,"csr":"%s","eulaAccepted":true,"title":"RE"}' \
    "$(cat "$W/k.b64")" >"$W/f.json"
call POST /customer/acme/cs/sign/enroll "@$W/f.json"
t /state/own_required_field has "$BODY" "sanEmailAddress is required"

# --- the log: one line a request, no secrets ------------------------------------
log=$(cat "$SCM_SIM_LOG")
t /state/log_line has "$log" "GET /api/v1/certificates/$id/status -> 200"
t /state/log_no_client_secret lacks "$log" "ci-secret-000111222"
t /state/log_no_default_secret lacks "$log" "p11e-secret-0123456789"
t /state/log_no_code lacks "$log" "$code"
t /state/log_no_session lacks "$log" "$TOK"
t /state/log_no_bearer lacks "$log" "Bearer"

finish
