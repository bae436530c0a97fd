#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim's self-enrollment form: one-time code by .eml, verify with limited
# tries, session, form config, enroll rules (required fields, EULA, term),
# status, download, and an expired session.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$here/scm_sim_lib.sh"
scm_sim_start || exit 1
# shellcheck source=tests/integration/scm_sim_check_lib.sh
. "$here/scm_sim_check_lib.sh"

form=/customer/demo/cs/cs
mail=dev@example.org

# --- the one-time code ------------------------------------------------------
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /form/email_accepted eq "$STATUS" 202
eml=$(ls "$SCM_SIM_OUTBOX"/*.eml 2>/dev/null)
t /form/one_eml_written eq "$(printf '%s\n' "$eml" | grep -c .)" 1
t /form/eml_to has "$(cat "$eml")" "To: <$mail>"
t /form/eml_subject has "$(cat "$eml")" "Subject: "
code=$(scm_sim_otp "$mail")
t /form/code_is_6_digits eq "${#code}" 6
call POST "$form/auth/email" '{"email":"stranger@example.org"}'
t /form/uninvited_refused eq "$STATUS" 403
t /form/uninvited_text has "$BODY" "no invitation for stranger@example.org"
call POST "$form/auth/email" '{"email":"not an address"}'
t /form/bad_address eq "$STATUS" 400
call POST /customer/demo/cs/nosuchform/auth/email "{\"email\":\"$mail\"}"
t /form/unknown_form eq "$STATUS" 404

# wrong codes: 3 tries, then the code is void even when right
wrong=000000
[ "$code" = 000000 ] && wrong=111111
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$wrong\"}"
t /form/wrong_code eq "$STATUS" 401
t /form/wrong_code_tries_left has "$BODY" "2 tries left"
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$wrong\"}"
t /form/wrong_code_2 has "$BODY" "1 try left"
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$wrong\"}"
t /form/wrong_code_3_voids has "$BODY" "no longer valid"
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$code\"}"
t /form/void_code_refused eq "$STATUS" 401
t /form/void_code_text has "$BODY" "request a new one"

# a new code keeps the wrong tries of the old one: none left, none sent
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /form/no_code_without_tries eq "$STATUS" 429
# (codes live in memory: a restart forgets the address's tries)
# shellcheck disable=SC2119 # the same config again
scm_sim_restart
# a new code works, once
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
code=$(scm_sim_otp "$mail")
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$code\"}"
t /form/verify_ok eq "$STATUS" 200
t /form/verify_expiry has "$BODY" '"expires_in":900'
session=$(json session)
t /form/session_is_long eq "${#session}" 64
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$code\"}"
t /form/code_used_once eq "$STATUS" 401

# --- the form's config ------------------------------------------------------
call GET "$form/config"
t /form/config eq "$STATUS" 200
t /form/config_org has "$BODY" '"organization":"Example Org"'
t /form/config_department has "$BODY" '"department":"Engineering"'
t /form/config_profile has "$BODY" '"profile":"Sectigo OV Code Signing"'
t /form/config_terms has "$BODY" '"terms":[365,730,1095]'
t /form/config_required has "$BODY" '"requiredFields":["firstName","lastName","term","csr","eulaAccepted"]'
t /form/config_eula_id has "$BODY" '"eulaId":"scm-sim-eula-1"'
t /form/config_eula_text has "$BODY" '"eulaText":"scm-sim test subscriber'
TOK=$session
call GET "$form/config"
t /form/config_person has "$BODY" '"firstName":"Dana"'

# --- enroll -----------------------------------------------------------------
make_csr "$W/k" ec:P-384
csr=$(cat "$W/k.b64")
enroll() { # JSON-MEMBERS
    printf '{%s}' "$1" >"$W/e.json"
    call POST "$form/enroll" "@$W/e.json"
}
full="\"term\":730,\"title\":\"Developer\",\"sanEmailAddress\":\"dana@example.org\",\"firstName\":\"Dana\",\"lastName\":\"Developer\",\"csr\":\"$csr\""

TOK=
enroll "$full,\"eulaAccepted\":true"
t /form/enroll_needs_session eq "$STATUS" 401
TOK=not-a-session
enroll "$full,\"eulaAccepted\":true"
t /form/enroll_bad_session eq "$STATUS" 401
TOK=$session
enroll "$full"
t /form/eula_missing eq "$STATUS" 400
t /form/eula_missing_text has "$BODY" "EULA must be accepted"
enroll "$full,\"eulaAccepted\":false"
t /form/eula_refused eq "$STATUS" 400
enroll "$full,\"eulaAccepted\":true,\"eulaId\":\"old-eula\""
t /form/eula_id_wrong eq "$STATUS" 400
enroll "\"term\":730,\"firstName\":\"Dana\",\"csr\":\"$csr\",\"eulaAccepted\":true"
t /form/missing_last_name eq "$STATUS" 400
t /form/missing_last_name_text has "$BODY" "lastName is required"
enroll "\"term\":730,\"firstName\":\"Dana\",\"lastName\":\"\",\"csr\":\"$csr\",\"eulaAccepted\":true"
t /form/empty_last_name has "$BODY" "lastName is required"
enroll "\"firstName\":\"Dana\",\"lastName\":\"D\",\"csr\":\"$csr\",\"eulaAccepted\":true"
t /form/missing_term has "$BODY" "term is required"
long=$(printf 'x%.0s' $(seq 60)) # 4 + 1 + 60 > 64
enroll "${full/\"lastName\":\"Developer\"/\"lastName\":\"$long\"},\"eulaAccepted\":true"
t /form/name_too_long_for_cn has "$BODY" "longer than the 64 characters"
enroll "${full/730/400},\"eulaAccepted\":true"
t /form/term_not_allowed eq "$STATUS" 400
t /form/term_not_allowed_code has "$BODY" '"code":-36'
make_csr "$W/weak" rsa:2048
enroll "${full/$csr/$(cat "$W/weak.b64")},\"eulaAccepted\":true"
t /form/weak_key eq "$STATUS" 400
enroll "$full,\"eulaAccepted\":true,\"eulaId\":\"scm-sim-eula-1\""
t /form/enroll_ok eq "$STATUS" 200
t /form/enroll_applied has "$BODY" '"status":"Applied"'
id=$(json certId)

call GET "$form/certificates/$id/status"
t /form/status_issued has "$BODY" '"status":"Issued"'
call GET "$form/certificates/$id?format=pemia"
t /form/download eq "$STATUS" 200
printf '%s\n' "$BODY" >"$W/chain.pem"
openssl x509 -in "$W/chain.pem" -out "$W/leaf.pem"
text=$(openssl x509 -in "$W/leaf.pem" -noout -text -nameopt RFC2253)
t /form/leaf_subject has "$text" \
    "Subject: CN=Dana Developer,OU=Engineering,O=Example Org"
t /form/leaf_san has "$text" "email:dana@example.org"
t /form/leaf_eku has "$text" "Code Signing"
t /form/leaf_key eq "$(openssl x509 -in "$W/leaf.pem" -noout -pubkey)" \
    "$(openssl pkey -in "$W/k.key" -pubout)"
t /form/leaf_term_730 has "$(openssl x509 -in "$W/leaf.pem" -noout \
    -checkend $((729 * 86400)))" "will not expire"
t /form/leaf_verifies has "$(openssl verify -CAfile "$SCM_SIM_ROOTS" \
    -untrusted "$W/chain.pem" "$W/leaf.pem" 2>&1)" ": OK"
TOK=
call GET "$form/certificates/$id/status"
t /form/status_needs_session eq "$STATUS" 401

# the REST side cannot read a form request
TOK=$(scm_sim_token)
call GET "/api/v1/certificates/$id/status"
t /form/rest_cannot_see_form_request eq "$STATUS" 404

# an expired session is refused with a sentence that says so
scm_sim_admin POST /admin/config '{"sessionLifetime": 1}' >/dev/null
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
code=$(scm_sim_otp "$mail")
TOK=
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$code\"}"
TOK=$(json session)
sleep 2
call GET "$form/certificates/$id/status"
t /form/expired_session eq "$STATUS" 401
t /form/expired_session_text has "$BODY" "session has expired"

# an expired one-time code
scm_sim_admin POST /admin/config '{"otpLifetime": 1}' >/dev/null
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
code=$(scm_sim_otp "$mail")
sleep 2
TOK=
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$code\"}"
t /form/expired_code eq "$STATUS" 401
t /form/expired_code_text has "$BODY" "expired"

# no secret in the log: codes, sessions, tokens
log=$(cat "$SCM_SIM_LOG")
t /form/log_has_no_code lacks "$log" "$code"
t /form/log_has_no_session lacks "$log" "$session"

finish
