#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The client secret goes only to a token server the user named or the
# endpoint's own host (issue: an endpoint's 401 could name any https://
# host and receive the client ID and secret).  scm-sim's 401s name a
# recorder on another loopback address, same port; nothing may reach it.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

# the recorder: a TLS server on 127.0.0.2 that logs every message it gets
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$EN/rec.key" -out "$EN/rec.crt" -subj /CN=recorder -days 1 \
    2>/dev/null
openssl s_server -accept "127.0.0.2:$SCM_SIM_PORT" -cert "$EN/rec.crt" \
    -key "$EN/rec.key" -msg -www >"$EN/rec.log" 2>&1 </dev/null &
rec_pid=$!
for _ in $(seq 1 200); do
    grep -q '^ACCEPT' "$EN/rec.log" && break
    kill -0 "$rec_pid" 2>/dev/null || en_fail "the recorder did not start"
    sleep 0.05
done
rec_url="https://127.0.0.2:$SCM_SIM_PORT/oauth2/token"
rec_seen() { grep -c '^<<<' "$EN/rec.log" || true; }

cat >"$EN/evil.json" <<JSON
{"authorizationUri": "$rec_url"}
JSON
scm_sim_restart "$EN/evil.json"

# 1. a discovered token URL on another host: exit 6, nothing sent, no key
en_run evil en_rest
en_expect_rc 6
en_expect_err "names the token server 127.0.0.2"
en_expect_err "--token-url"
[ "$(rec_seen)" -eq 0 ] || en_fail "the recorder was reached"
en_expect_token 0 0 0
en_expect_orders 0

# 2. --token-url is used and never replaced: a 401 in the middle of the
#    run names the recorder again, the run goes on with the given URL
scm_sim_fault '{"type": "401", "path": "/api/v1/certificates/", "method": "GET"}'
en_run given en_rest --token-url "$SCM_SIM_URL/oauth2/token"
en_expect_rc 0
grep -q 'fault=401' "$SCM_SIM_LOG" || en_fail "the 401 fault did not fire"
[ "$(rec_seen)" -eq 0 ] || en_fail "the recorder was reached"

# 3. the same from a config file's token-url
printf 'token-url = %s\n' "$SCM_SIM_URL/oauth2/token" >"$EN/conf/t.conf"
en_run conf en_rest --new --label conf
en_expect_rc 0
rm "$EN/conf/t.conf"
[ "$(rec_seen)" -eq 0 ] || en_fail "the recorder was reached"

# 4. the endpoint's own host is followed; discovery is one status call a
#    run, and a later 401 does not repeat it
echo '{}' >"$EN/plain.json"
scm_sim_restart "$EN/plain.json"
: >"$SCM_SIM_LOG"
scm_sim_fault '{"type": "401", "path": "/api/v1/certificates/", "method": "GET", "after": 1}'
en_run own en_rest --new --label own
en_expect_rc 0
grep -q 'fault=401' "$SCM_SIM_LOG" || en_fail "the 401 fault did not fire"
n=$(grep -c 'GET /api/v1/certificates/0/status' "$SCM_SIM_LOG" || true)
[ "$n" -eq 1 ] || en_fail "discovery ran $n times, expected once"

# the recorder would have seen a client: the check above can fail
curl -sk "https://127.0.0.2:$SCM_SIM_PORT/" -o /dev/null || true
[ "$(rec_seen)" -gt 0 ] || en_fail "the recorder records nothing"
kill "$rec_pid" 2>/dev/null || true
echo "PASS"
