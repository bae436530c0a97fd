#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 at each point of the enrollment flow, then a rerun or `resume`:
# at the end one key, one order and one certificate for each enrollment.
# The kills at exact steps come from P11ENROLL_TEST_CRASH=<step> (SIGKILL
# right after the journal reached the step); "while waiting" is a real
# kill -9 from outside.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

n=0 # enrollments finished so far (EC: the two chain certificates shared)
expect_done() {
    n=$((n + 1))
    en_expect_token "$n" "$n" $((n + 2))
    en_expect_orders "$n"
}

# killed in each state of the table (docs/state-machine.md), right after
# the record reached it, and finished by a rerun of the same command
for step in key-generated csr-built submitting submitted issued downloaded; do
    P11ENROLL_TEST_CRASH=$step en_run "crash-$step" en_rest --label "$step"
    en_expect_rc 137
    id=$(en_journal_id)
    [ "$(en_journal_status "$id")" = "$step" ] ||
        en_fail "$step: journal says $(en_journal_status "$id")"
    en_run "rerun-$step" en_rest --label "$step"
    en_expect_rc 0
    en_expect_err "Continuing enrollment $id"
    expect_done
done

# killed after the last save: the enrollment is finished, and `resume`
# says so; a rerun of enroll refuses to order a second certificate
P11ENROLL_TEST_CRASH=installed en_run crash-installed en_rest --label inst
en_expect_rc 137
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = installed ] || en_fail "installed: not saved"
en_run resume-installed en_resume "$id"
en_expect_rc 0
en_expect_err "is finished already"
expect_done

newest_record() { # the ID of the record saved last
    find "$EN_STATE" -maxdepth 1 -name '*.json' -printf '%T@ %f\n' |
        sort -n | tail -n 1 | cut -d' ' -f2 | sed 's/\.json$//'
}

# killed with the key's ID saved and the key not made yet ("new", keygen
# started): the rerun makes the key under that ID
P11ENROLL_TEST_CRASH=keygen en_run crash-keygen en_rest --label keygen
en_expect_rc 137
# not named yet (it is, once it holds a key): the newest record
id=$(newest_record)
[ "$(en_journal_status "$id")" = new ] || en_fail "keygen: not new"
en_run rerun-keygen en_rest --label keygen
en_expect_rc 0
en_expect_err "Continuing enrollment $id"
expect_done

# killed during key generation, leaving only the public half under the
# drawn ID (made here with pkcs11-tool, as a token would keep it): the
# half is removed and the key made again, never "already has an object"
P11ENROLL_TEST_CRASH=keygen en_run crash-half en_rest --label half
en_expect_rc 137
id=$(newest_record)
kid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keyId"])' \
    "$EN_STATE/$id.json")
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$EN/half.key" 2>/dev/null
openssl pkey -in "$EN/half.key" -pubout -outform DER -out "$EN/half.pub"
pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
    --pin "$FX_USER_PIN" --write-object "$EN/half.pub" --type pubkey \
    --id "$kid" --label half >/dev/null 2>&1 || en_fail "cannot plant the half"
en_run rerun-half en_resume "$id"
en_expect_rc 0
en_expect_err "Removed the public half of key $kid"
expect_done
pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
    --pin "$FX_USER_PIN" --list-objects --type pubkey 2>/dev/null |
    grep -c "ID:.*$kid" >"$EN/half.count" || true
[ "$(cat "$EN/half.count")" = 1 ] ||
    en_fail "half: $(cat "$EN/half.count") public keys with ID $kid, expected 1"

# killed at a step, finished by `resume` without an ID (the only one)
P11ENROLL_TEST_CRASH=submitted en_run crash-r en_rest --label resumed
en_expect_rc 137
en_run resume-r en_resume
en_expect_rc 0
en_expect_err "Resuming enrollment"
expect_done

# without --token (the one token there is): the rerun finds it too
notoken() {
    "$P11ENROLL" enroll --module "$FX_MODULE" --pin-file "$EN/pin" \
        --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
        --state-dir "$EN_STATE" --poll-interval 1 --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --client-secret-file "$EN/secret" \
        --email dev@example.org --label notoken
}
P11ENROLL_TEST_CRASH=submitted en_run crash-nt notoken
en_expect_rc 137
id=$(en_journal_id)
en_run rerun-nt notoken
en_expect_rc 0
en_expect_err "Continuing enrollment $id"
expect_done

# killed while waiting for the CA (a real kill -9 from outside)
scm_sim_delay 30
common=()
mapfile -t common < <(en_common)
"$P11ENROLL" enroll "${common[@]}" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$EN/secret" \
    --email dev@example.org --label waiting >"$EN/wait.out" 2>"$EN/wait.err" &
pid=$! # p11enroll itself, not a subshell
for _ in $(seq 1 200); do
    grep -q 'Request .*: Applied' "$EN/wait.err" && break
    sleep 0.1
done
grep -q 'Request .*: Applied' "$EN/wait.err" || en_fail "never waited"
kill -9 "$pid"
wait "$pid" || true
EN_LAST="wait"
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = submitted ] || en_fail "wait: not submitted"
scm_sim_delay 0
# the wait is over at the CA only for requests due now: make it due
scm_sim_admin POST "/admin/requests/$(($(en_orders) + 1000))" \
    '{"status": "Issued"}' >/dev/null
en_run resume-w en_resume "$id"
en_expect_rc 0
expect_done

# the CA goes away while we wait (exit 5, the order kept), comes back after
# a restart (its state survives), and resume finishes the order
scm_sim_delay 30
"$P11ENROLL" enroll "${common[@]}" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$EN/secret" \
    --email dev@example.org --label down >"$EN/down.out" 2>"$EN/down.err" &
pid=$!
for _ in $(seq 1 200); do
    grep -q 'Request .*: Applied' "$EN/down.err" && break
    sleep 0.1
done
scm_sim_stop
set +e
wait "$pid"
EN_RC=$?
set -e
EN_LAST="down"
en_expect_rc 5
en_expect_err "Cannot reach"
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = submitted ] || en_fail "down: not submitted"
# shellcheck disable=SC2119 # (no new config: the same one)
scm_sim_restart
scm_sim_delay 0
scm_sim_admin POST "/admin/requests/$(($(en_orders) + 1000))" \
    '{"status": "Issued"}' >/dev/null
en_run resume-d en_resume "$id"
en_expect_rc 0
expect_done

# mid-write: the token fails after one certificate is written (an RSA key:
# its chain is not on the token yet, so three are to be written: the leaf,
# then the two chain certificates); the leaf is taken back, so the token
# holds what it held before, and resume writes all three
if [ -n "${P11E_MOCK:-}" ] && [ -r "${P11E_MOCK:-}" ]; then
    P11E_MOCK_TARGET=$FX_MODULE P11E_MOCK_FAIL='C_CreateObject=CKR_DEVICE_MEMORY@2+' \
        en_run midwrite "$P11ENROLL" enroll "${common[@]}" \
        --module "$P11E_MOCK" --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --client-secret-file "$EN/secret" \
        --email dev@example.org --label midwrite --key-type rsa-3072
    en_expect_rc 7
    case "$(en_keys) $(en_leafs) $(en_certs)" in
    "$((n + 1)) $n $((n + 2))") ;;
    *) en_fail "mid-write: token holds $(en_keys) keys, $(en_leafs)" \
        "matching certs, $(en_certs) certs; expected $((n + 1)) keys," \
        "$n matching, $((n + 2)) certs" ;;
    esac
    en_expect_err "The token holds what it held before."
    id=$(en_journal_id)
    en_run resume-m en_resume "$id"
    en_expect_rc 0
    n=$((n + 1))
    en_expect_token "$n" "$n" $((n + 4))
    en_expect_orders "$n"
else
    echo "mid-write: P11E_MOCK not built, left out" >&2
fi

# one key per enrollment, one order per key
"$P11ENROLL" status --state-dir "$EN_STATE" >"$EN/status.out"
[ "$(grep -c installed "$EN/status.out")" -eq "$n" ] || {
    cat "$EN/status.out"
    en_fail "not every enrollment is installed"
}
dups=$(grep -h '"keySha256"' "$SCM_SIM_STATE"/requests/*.json | sort |
    uniq -d | wc -l)
[ "$dups" -eq 0 ] || en_fail "a key was ordered twice"
echo "enroll_crash: all passed"
