#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every fault scm-sim can inject, against p11enroll enroll: the message, the
# exit code, and the token afterwards (unchanged, or correctly finished by
# a rerun or resume).
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

next_id() { echo $((1001 + $(en_orders))); }
API=/api/v1/certificates

# 429 and 503 with Retry-After: waited out, then success
scm_sim_fault "{\"type\":\"429\",\"path\":\"$API\",\"method\":\"POST\"}"
en_run f429 en_rest --label f429
en_expect_rc 0
en_expect_err "The CA is busy or unreachable; trying again in 1 s."
scm_sim_fault "{\"type\":\"503\",\"path\":\"$API/$(next_id)/status\",\"retryAfter\":2}"
en_run f503 en_rest --new --label f503
en_expect_rc 0
en_expect_err "trying again in 2 s."
en_expect_token 2 2 4
en_expect_orders 2

# a reset on a GET is retried; on the enroll POST (twice: libcurl itself
# retries once on a fresh connection when a reused one died unanswered) it
# is reported (exit 5) and a rerun submits the same key's request once
scm_sim_fault "{\"type\":\"reset\",\"path\":\"$API/$(next_id)\",\"method\":\"GET\"}"
en_run resetget en_rest --new --label resetget
en_expect_rc 0
scm_sim_fault "{\"type\":\"reset\",\"path\":\"$API\",\"method\":\"POST\",\"count\":2}"
en_run resetpost en_rest --new --label resetpost
en_expect_rc 5
en_expect_err "Cannot reach $SCM_SIM_URL/api/v1/certificates"
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = submitting ] || en_fail "not submitting"
en_expect_orders 3
en_run resetpost2 en_rest --label resetpost
en_expect_rc 0
en_expect_err "Continuing enrollment $id"
en_expect_orders 4
en_expect_token 4 4 6

# a slow answer: past --http-timeout it times out and is asked again
scm_sim_fault "{\"type\":\"slow\",\"path\":\"$API/$(next_id)/status\",\"delayMs\":3000}"
en_run slow en_rest --new --label slow --http-timeout 1
en_expect_rc 0
en_expect_err "trying again"
en_expect_orders 5

# malformed JSON while waiting: exit 6, the order kept; resume finishes it
scm_sim_fault "{\"type\":\"malformed_json\",\"path\":\"$API/$(next_id)/status\"}"
en_run badjson en_rest --new --label badjson
en_expect_rc 6
en_expect_err "is not valid JSON"
id=$(en_journal_id)
en_run badjson2 en_resume "$id"
en_expect_rc 0
en_expect_orders 6
en_expect_token 6 6 8

# a truncated PEM: nothing written (exit 9); resume downloads it again
scm_sim_fault '{"type":"truncated_pem"}'
en_run trunc en_rest --new --label trunc
en_expect_rc 9
en_expect_token 7 6 8
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = issued ] || en_fail "not back to issued"
en_run trunc2 en_resume "$id"
en_expect_rc 0
en_expect_token 7 7 9
en_expect_orders 7

# a certificate for another key, a chain with a wrong intermediate:
# verification fails before anything is written (exit 9)
scm_sim_fault '{"type":"other_key"}'
en_run otherkey en_rest --new --label otherkey
en_expect_rc 9
en_expect_err "is for another key, not the token's key."
en_expect_token 8 7 9
scm_sim_fault '{"type":"wrong_intermediate"}'
en_run wrongint en_rest --new --label wrongint
en_expect_rc 9
en_expect_err "The chain is incomplete: the certificate of"
en_expect_token 9 7 9
en_expect_orders 9

# rejected: exit 4, the key reported and kept until asked
scm_sim_fault '{"type":"rejected"}'
en_run rejected en_rest --new --label rejected
en_expect_rc 4
en_expect_err "The CA rejected request"
id=$(en_journal_id)
en_expect_err "p11enroll forget $id --remove-key removes the enrollment and its key"
[ "$(en_journal_status "$id")" = rejected ] || en_fail "not rejected"
en_expect_token 10 7 9
en_run rejected2 en_resume "$id"
en_expect_rc 4
en_expect_err "p11enroll forget $id --remove-key"
# without consent (no terminal, no --yes) nothing goes; --dry-run says what
# would; --yes removes the key and the record
en_run rejected3 "$P11ENROLL" forget "$id" --remove-key --state-dir "$EN_STATE" \
    --pin-file "$EN/pin"
en_expect_rc 2
en_expect_err "needs --yes"
en_expect_token 10 7 9
en_run rejected4 "$P11ENROLL" forget "$id" --remove-key --dry-run \
    --state-dir "$EN_STATE" --pin-file "$EN/pin"
en_expect_rc 0
en_expect_err "Would forget enrollment $id"
en_expect_token 10 7 9
en_run rejected5 "$P11ENROLL" forget "$id" --remove-key --yes \
    --state-dir "$EN_STATE" --pin-file "$EN/pin"
en_expect_rc 0
en_expect_err "Removed key"
en_expect_token 9 7 9
[ ! -e "$EN_STATE/$id.json" ] || en_fail "forget kept the record"

# an access token that expires while waiting is renewed
scm_sim_admin POST /admin/config '{"tokenLifetime": 1, "issuanceDelay": 4}' \
    >/dev/null
before=$(grep -c 'POST /oauth2/token -> 200' "$SCM_SIM_LOG")
en_run refresh en_rest --new --label refresh
en_expect_rc 0
after=$(grep -c 'POST /oauth2/token -> 200' "$SCM_SIM_LOG")
[ $((after - before)) -ge 2 ] || en_fail "the access token was not renewed"
scm_sim_admin POST /admin/config '{"tokenLifetime": 3600, "issuanceDelay": 0}' \
    >/dev/null

# a 401 as if the token had expired: a new token, the call again
scm_sim_fault "{\"type\":\"401\",\"path\":\"$API/$(next_id)/status\"}"
en_run f401 en_rest --new --label f401
en_expect_rc 0
# status words in another case and another waiting word
scm_sim_admin POST /admin/config \
    '{"pendingStatus": "Requested", "statusCase": "lower", "issuanceDelay": 2}' \
    >/dev/null
en_run lower en_rest --new --label lower
en_expect_rc 0
en_expect_err ": requested, waited"
en_expect_err ": issued after"
scm_sim_admin POST /admin/config \
    '{"pendingStatus": "Applied", "statusCase": "asis", "issuanceDelay": 0}' \
    >/dev/null

# every download format that carries the leaf and its chain
for f in x509 pemia x509R bin base64; do
    en_run "fmt-$f" en_rest --new --label "fmt-$f" --format "$f"
    en_expect_rc 0
done
en_expect_token 17 15 17

# an endpoint over plain http is refused before anything happens
en_run plain en_rest --new --endpoint "http://127.0.0.1:$SCM_SIM_PORT"
en_expect_rc 2
en_expect_err "must be https://"
en_expect_token 17 15 17
echo "enroll_faults: all passed"
