#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ways out of every state an enrollment can be stuck in
# (docs/state-machine.md): a download that is not ready, a wrong endpoint,
# a wrong --trust, a CA that asks to wait a day, Ctrl-C, forget, and a
# second order of the same certificate.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
en_setup
common=()
mapfile -t common < <(en_common)

status_next() { # ID: the "next:" line of status
    "$P11ENROLL" status --state-dir "$EN_STATE" "$1" | sed -n 's/^  next: //p'
}

# ---- issued, but the download answers "not collected yet" every time ----
scm_sim_fault '{"type":"not_collected","count":0}'
en_run notcollected en_rest --label notcollected --wait 3
en_expect_rc 3
en_expect_err "is issued but cannot be downloaded yet"
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = issued ] || en_fail "notcollected: not issued"
[ ! -e "$EN_STATE/$id.bundle" ] || en_fail "notcollected: a bundle was saved"
[ "$(status_next "$id")" = "p11enroll resume $id" ] ||
    en_fail "notcollected: status names no resume"
en_expect_token 1 0 0
scm_sim_admin DELETE /admin/faults >/dev/null
nc_id=$id
en_run notcollected2 en_resume "$id"
en_expect_rc 0
en_expect_token 1 1 3
en_expect_orders 1

# ---- the endpoint given as the API's URL: refused before any key --------
en_run apiurl "$P11ENROLL" enroll "${common[@]}" \
    --endpoint "$SCM_SIM_URL/api/v1/certificates" --client-id p11e-client \
    --client-secret-file "$EN/secret" --email dev@example.org --label apiurl
en_expect_rc 2
en_expect_err "base URL"
en_expect_token 1 1 3
en_expect_orders 1

# ---- a --ca-file that is not there: a local file error, not a TLS one ---
records=$(find "$EN_STATE" -name '*.json' | wc -l)
en_run nocafile en_rest --label nocafile --ca-file "$EN/no-such-ca.pem"
en_expect_rc 10
en_expect_err 'Cannot read the --ca-file'
[ "$(find "$EN_STATE" -name '*.json' | wc -l)" -eq "$records" ] ||
    en_fail "nocafile: a record was kept"
if grep -q "recorded in" "$EN/nocafile.err"; then
    en_fail "nocafile: said \"recorded\" for a record it did not keep"
fi

# ---- a wrong --trust: refused locally, then resume --trust RIGHT ---------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$EN/other.key" -out "$EN/other.pem" -subj /CN=Other -days 30 \
    2>/dev/null
en_run wrongtrust en_rest --label trust --trust "$EN/other.pem"
en_expect_rc 9
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = issued ] ||
    en_fail "wrongtrust: $(en_journal_status "$id"), expected issued"
en_expect_token 2 1 3
en_run righttrust en_resume "$id" --trust "$SCM_SIM_ROOTS"
en_expect_rc 0
en_expect_token 2 2 4
grep -q "\"trust\": \"$SCM_SIM_ROOTS\"" "$EN_STATE/$id.json" ||
    en_fail "righttrust: the record kept the old --trust"
en_expect_orders 2

# ---- --no-wait and --wait bound the run, whatever the CA asks ------------
# (timeout only catches a run that would sleep for a day; no timing here)
scm_sim_admin POST /admin/config '{"issuanceDelay": 3600}' >/dev/null
scm_sim_fault '{"type":"503","retryAfter":86400,"count":0,"path":"/status"}'
en_run nowait timeout 60 "$P11ENROLL" enroll "${common[@]}" \
    --endpoint "$SCM_SIM_URL" --client-id p11e-client \
    --client-secret-file "$EN/secret" --email dev@example.org \
    --label nowait --no-wait
en_expect_rc 3
en_expect_err "still pending at the CA; continue with: p11enroll resume"
if grep -q "trying again in" "$EN/nowait.err"; then
    en_fail "nowait: --no-wait slept"
fi
nowait_id=$(en_journal_id)
en_run wait2 timeout 60 "$P11ENROLL" resume "$nowait_id" --module \
    "$FX_MODULE" --pin-file "$EN/pin" --client-secret-file "$EN/secret" \
    --state-dir "$EN_STATE" --poll-interval 1 --wait 2
en_expect_rc 3
scm_sim_admin DELETE /admin/faults >/dev/null

# ---- Ctrl-C while waiting: one line, exit 130, resume finishes it -------
"$P11ENROLL" resume "$nowait_id" --module "$FX_MODULE" --pin-file "$EN/pin" \
    --client-secret-file "$EN/secret" --state-dir "$EN_STATE" \
    --poll-interval 1 --wait 600 >"$EN/int.out" 2>"$EN/int.err" &
pid=$!
for _ in $(seq 1 300); do
    grep -q 'asking again in' "$EN/int.err" && break
    sleep 0.1
done
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 130 ] || en_fail "interrupt: exit code $rc, expected 130"
grep -q "Interrupted; continue with: p11enroll resume $nowait_id" \
    "$EN/int.err" || en_fail "interrupt: no way on named"
[ "$(en_journal_status "$nowait_id")" = submitted ] ||
    en_fail "interrupt: record is $(en_journal_status "$nowait_id")"

# ---- forget: a pending order goes, its key only with consent -------------
en_run forget1 "$P11ENROLL" forget "$nowait_id" --remove-key --dry-run \
    --state-dir "$EN_STATE"
en_expect_rc 0
en_expect_err "Would forget enrollment $nowait_id (submitted) and remove key"
en_expect_err "still holds request"
en_expect_token 3 2 4
en_run forget2 "$P11ENROLL" forget "$nowait_id" --remove-key --yes \
    --state-dir "$EN_STATE" --pin-file "$EN/pin"
en_expect_rc 0
en_expect_err "Removed key"
en_expect_token 2 2 4
[ ! -e "$EN_STATE/$nowait_id.json" ] || en_fail "forget2: record kept"
# a key with an issued certificate is never removed by forget
en_run forget3 "$P11ENROLL" forget "$id" --remove-key --yes \
    --state-dir "$EN_STATE" --pin-file "$EN/pin"
en_expect_rc 2
en_expect_err "a certificate was issued for it"
en_expect_token 2 2 4
scm_sim_admin POST /admin/config '{"issuanceDelay": 0}' >/dev/null
# killed half-way through forget: the record says abandoned, status names
# forget, and forgetting it again finishes the job
P11ENROLL_TEST_CRASH=abandoned en_run forget-crash "$P11ENROLL" forget \
    "$nc_id" --state-dir "$EN_STATE"
en_expect_rc 137
[ "$(en_journal_status "$nc_id")" = abandoned ] || en_fail "forget-crash: not abandoned"
[ "$(status_next "$nc_id")" = "p11enroll forget $nc_id" ] ||
    en_fail "forget-crash: status does not name forget"
en_run forget-again "$P11ENROLL" forget "$nc_id" --state-dir "$EN_STATE"
en_expect_rc 0
[ ! -e "$EN_STATE/$nc_id.json" ] || en_fail "forget-again: record kept"
en_expect_token 2 2 4

# ---- the same order again after a success: refused without --new --------
en_run again en_rest --label trust
en_expect_rc 2
en_expect_err "give --new to order another"
en_expect_err "valid until"
en_expect_token 2 2 4
en_run againnew en_rest --label trust --new
en_expect_rc 0
en_expect_token 3 3 5

# ---- Ctrl-C at the PIN prompt: the terminal echoes again, exit 130, and
# no record is kept (a pseudo-terminal from script(1))
records=$(find "$EN_STATE" -name '*.json' | wc -l)
cmd=$(printf '%q ' "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --state-dir "$EN_STATE" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$EN/secret" \
    --email dev@example.org --label atprompt)
ts=$EN/prompt.ts
: >"$ts"
{
    check_wait_for "$ts" 'PIN for token' 30 || en_fail "prompt: never asked"
    # p11enroll itself, not script(1) or the shell whose lines name it too
    pkill -INT -f -- "^$P11ENROLL enroll .*--label atprompt"
    check_wait_for "$ts" 'ECHO=' 30 || en_fail "prompt: never ended"
} | script -qfec "$cmd; echo EXIT=\$?; echo ECHO=\$(stty -a | tr ' ;' '\n\n' | grep -x -- '-\?echo')" \
    "$ts" >/dev/null
grep -q 'EXIT=130' "$ts" || {
    cat "$ts"
    en_fail "prompt: not exit 130"
}
grep -q 'ECHO=echo' "$ts" || {
    cat "$ts"
    en_fail "prompt: the terminal's echo stayed off"
}
grep -q 'nothing is recorded' "$ts" || en_fail "prompt: no sentence"
[ "$(find "$EN_STATE" -name '*.json' | wc -l)" -eq "$records" ] ||
    en_fail "prompt: a record was kept"

# ---- key generation refused (the mock module fails C_GenerateKeyPair):
# nothing is kept, so no "Enrollment X recorded" was said either
if [ -n "${P11E_MOCK:-}" ]; then
    records=$(find "$EN_STATE" -name '*.json' | wc -l)
    P11E_MOCK_TARGET=$FX_MODULE P11E_MOCK_FAIL=C_GenerateKeyPair=CKR_DEVICE_ERROR \
        en_run keygenfail en_rest --new --label keygenfail --module "$P11E_MOCK"
    en_expect_rc 7
    en_expect_err "Generating the key pair on token"
    [ "$(find "$EN_STATE" -name '*.json' | wc -l)" -eq "$records" ] ||
        en_fail "keygenfail: a record was kept"
    if grep -q "recorded in" "$EN/keygenfail.err"; then
        en_fail "keygenfail: said \"recorded\" for a record it did not keep"
    fi
elif [ -n "${P11E_NO_SKIP:-}" ]; then
    en_fail "the mock module is not built"
fi

echo "enroll_states: all passed"
