#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `p11enroll renew` against scm-sim issuing 1-day certificates (its shortest
# term) onto a SoftHSM token, reached through the pass-through mock module
# so every PKCS#11 call is logged:
# - nothing due: exit 0 and the date the next renewal is due;
# - due: a new key and certificate, the old ones still on the token, and no
#   object destroyed; the same settings (endpoint, secret and PIN sources)
#   come from the journal, so no CA option is given again;
# - --reuse-key: the new certificate is written before the old one goes;
# - killed with kill -9 while waiting for the CA, and right after each
#   step (key made, submitting, submitted, downloaded), then run again: the
#   same order is finished, one new key, one new certificate, the old one
#   kept;
# - pending (--no-wait) gives exit 3 and the next run finishes it;
# - a rejected renewal is reported (exit 4) and not ordered again (exit 11,
#   naming `p11enroll forget`);
# - a due certificate without a journal record is "unmanaged" (exit 11)
#   unless --endpoint is given; bad options (also with --retire-old): exit 2; the token
#   unchanged by all of these.
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

if [ -n "${P11E_MOCK:-}" ] && [ -r "$P11E_MOCK" ]; then
    MODULE=$P11E_MOCK
    export P11E_MOCK_TARGET=$FX_MODULE P11E_MOCK_LOG=$W/p11.log
else
    MODULE=$FX_MODULE
    bad /renew/mock "P11E_MOCK is not set: the mock module was not built"
fi
T=(--token "$FX_URI" --module "$MODULE")
R=("$P11ENROLL" renew --state-dir "$W/state")

# What is on the token, through SoftHSM itself.
count() { # TYPE: number of objects of that type (cert, privkey)
    pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
        --pin "$FX_USER_PIN" --list-objects --type "$1" 2>/dev/null |
        grep -c "^\(Certificate\|Private Key\) Object"
}
has_serial() { # SERIAL (hex): a certificate with it is on the token
    local f
    rm -rf certs && mkdir certs
    while read -r id; do
        pkcs11-tool --module "$FX_MODULE" --token-label p11e-test \
            --read-object --type cert --id "$id" -o "certs/$id.der" \
            >/dev/null 2>&1
    done < <(pkcs11-tool --module "$FX_MODULE" --token-label p11e-test \
        --list-objects --type cert 2>/dev/null | sed -n 's/^ *ID: *//p')
    for f in certs/*.der; do
        [ -e "$f" ] || continue
        if openssl x509 -inform DER -in "$f" -noout -serial 2>/dev/null |
            grep -qi "=$1\$"; then
            return 0
        fi
    done
    return 1
}
orders() { scm_sim_admin GET /admin/requests | grep -o '"id"' | wc -l; }
# token objects only: a staged write (SoftHSM) destroys its session object
destroyed() { grep -c '^C_DestroyObject token=1' "$W/p11.log" 2>/dev/null || true; }

# ---- the first enrollment: a 1-day certificate -----------------------------
"$P11ENROLL" enroll "${T[@]}" --pin-file "$W/pin" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$W/secret" \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --email dev@example.org --state-dir "$W/state" >enroll.out 2>&1 ||
    { cat enroll.out; bad /renew/setup "enroll failed"; }
serial1=$(sed -n 's/^ *serial *//p' enroll.out | head -n 1)
expect /renew/setup/one_cert_one_key [ "$(count cert)" = 3 ] # leaf + 2 CA
expect /renew/setup/serial test -n "$serial1"

# ---- not due ---------------------------------------------------------------
check /renew/nothing_due 0 "Nothing to renew; the next renewal is due on" \
    -- "${R[@]}" --within 12h
expect /renew/nothing_due/no_order [ "$(orders)" = 1 ]

# ---- due: renewed with a new key, the old one kept -------------------------
sleep 1 # the renewal ends at least a second later than the old certificate
: >"$W/p11.log"
check /renew/due 0 "renewed    Certificate \"CN=Dana Developer,OU=Engineering,O=Example Org\"" \
    -- "${R[@]}" --within 30d
serial2=$(sed -n 's/.* was renewed: serial \([0-9A-F]*\) .*/\1/p' last.out)
expect /renew/due/new_order [ "$(orders)" = 2 ]
expect /renew/due/two_keys [ "$(count privkey)" = 2 ]
expect /renew/due/old_cert_kept has_serial "$serial1"
expect /renew/due/new_cert_written has_serial "$serial2"
expect /renew/due/nothing_destroyed [ "$(destroyed)" = 0 ]
check /renew/due/then_nothing_due 0 "superseded Certificate" \
    -- "${R[@]}" --within 12h
expect /renew/due/then_no_order [ "$(orders)" = 2 ]

# ---- --json ----------------------------------------------------------------
json=$("${R[@]}" --within 12h --json 2>/dev/null)
if printf '%s' "$json" | grep -q '"schema": "p11enroll/2"' &&
    printf '%s' "$json" | grep -q '"command": "renew"' &&
    printf '%s' "$json" | grep -q '"outcome": "not-due"' &&
    printf '%s' "$json" | grep -q '"next_due": "20' &&
    printf '%s' "$json" | grep -q '"error": null'; then
    ok /renew/json
else
    bad /renew/json "$json"
fi

# ---- --reuse-key: the old certificate goes only after the new one is in -----
sleep 1
: >"$W/p11.log"
check /renew/reuse_key 0 "renewed" -- "${R[@]}" --within 30d --reuse-key
expect /renew/reuse_key/same_keys [ "$(count privkey)" = 2 ]
expect /renew/reuse_key/one_order_more [ "$(orders)" = 3 ]
create=$(grep -n -E '^C_(CreateObject class=1|CopyObject) token=1' "$W/p11.log" |
    head -n 1 | cut -d: -f1)
destroy=$(grep -n '^C_DestroyObject token=1' "$W/p11.log" | head -n 1 | cut -d: -f1)
order=wrong
if [ -n "$create" ] && [ -n "$destroy" ] && [ "$create" -lt "$destroy" ]; then
    order=right
fi
expect /renew/reuse_key/written_before_removed [ "$order" = right ]
expect /renew/reuse_key/replaced_not_added [ "$(count cert)" = 4 ]

# ---- kill -9 while waiting for the CA, then run again ------------------------
scm_sim_delay 600
sleep 1
keys_before=$(count privkey)
certs_before=$(count cert)
"${R[@]}" --within 30d >killed.out 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    grep -q "^Submitted: request" killed.out && break
    sleep 0.1
done
sleep 0.5
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
expect /renew/killed/was_submitted grep -q "^Submitted: request" killed.out
expect /renew/killed/old_certs_kept [ "$(count cert)" = "$certs_before" ]
expect /renew/killed/one_new_key [ "$(count privkey)" = $((keys_before + 1)) ]
orders_killed=$(orders)
req=$(sed -n 's/^Submitted: request \([0-9]*\).*/\1/p' killed.out)
scm_sim_admin POST "/admin/requests/$req" '{"status": "Issued"}' >/dev/null
check /renew/killed/resumed 0 "Finishing renewal" -- "${R[@]}" --within 30d
expect /renew/killed/same_order [ "$(orders)" = "$orders_killed" ]
expect /renew/killed/no_second_key [ "$(count privkey)" = $((keys_before + 1)) ]
expect /renew/killed/cert_added [ "$(count cert)" = $((certs_before + 1)) ]
check /renew/killed/then_done 0 "Nothing to renew" -- "${R[@]}" --within 12h

# ---- killed right after each step (enroll's crash hook), then run again ------
scm_sim_delay 0
for step in key-generated submitting submitted downloaded; do
    sleep 1
    keys_before=$(count privkey)
    certs_before=$(count cert)
    orders_before=$(orders)
    P11ENROLL_TEST_CRASH=$step "${R[@]}" --within 30d >crash.out 2>&1
    rc=$?
    expect "/renew/crash_$step/killed" [ "$rc" -eq 137 ]
    expect "/renew/crash_$step/old_certs_kept" [ "$(count cert)" = "$certs_before" ]
    check "/renew/crash_$step/finished" 0 "Finishing renewal" \
        -- "${R[@]}" --within 30d
    expect "/renew/crash_$step/one_new_key" \
        [ "$(count privkey)" = $((keys_before + 1)) ]
    expect "/renew/crash_$step/one_new_cert" \
        [ "$(count cert)" = $((certs_before + 1)) ]
    expect "/renew/crash_$step/one_order" \
        [ "$(orders)" = $((orders_before + 1)) ]
done

# ---- pending with --no-wait, finished by the next run --------------------------
scm_sim_delay 600
sleep 1
check /renew/pending 3 "pending" -- "${R[@]}" --within 30d --no-wait
req=$(scm_sim_admin GET /admin/requests | grep -o '"id": *"[0-9]*"' |
    tail -n 1 | grep -o '[0-9]*')
check /renew/pending/still 3 "pending" -- "${R[@]}" --within 30d --no-wait
orders_pending=$(orders)
scm_sim_admin POST "/admin/requests/$req" '{"status": "Issued"}' >/dev/null
check /renew/pending/finished 0 '"outcome": "renewed"' \
    -- "${R[@]}" --within 30d --json
expect /renew/pending/finished/json_renewal \
    grep -q '"not_after": "20[0-9-]*T[0-9:]*Z",' last.out
expect /renew/pending/finished/json_cert_uri \
    grep -q '"certificate_uri": "pkcs11:' last.out
expect /renew/pending/same_order [ "$(orders)" = "$orders_pending" ]
scm_sim_delay 0

# ---- a rejected renewal is not ordered again ---------------------------------
sleep 1
scm_sim_fault '{"type": "rejected"}'
check /renew/rejected 4 "rejected" -- "${R[@]}" --within 30d
orders_rejected=$(orders)
keys_rejected=$(count privkey)
check /renew/rejected/not_again 11 "was rejected by the CA" -- "${R[@]}" --within 30d
expect /renew/rejected/no_new_order [ "$(orders)" = "$orders_rejected" ]
expect /renew/rejected/no_new_key [ "$(count privkey)" = "$keys_rejected" ]

# ---- refusals -------------------------------------------------------------------
keys=$(count privkey)
certs=$(count cert)
check /renew/no_record 11 "unmanaged  Certificate" \
    -- "$P11ENROLL" renew --state-dir "$W/empty-state" "${T[@]}" --within 30d
check /renew/no_record_endpoint_without_names 2 "needs the e-mail address" \
    -- "$P11ENROLL" renew --state-dir "$W/empty-state" "${T[@]}" --within 30d \
    --endpoint "$SCM_SIM_URL" --client-id p11e-client \
    --client-secret-file "$W/secret"
check /renew/retire_old_bad 2 "not both" \
    -- "${R[@]}" --within 30d --retire-old --rekey --reuse-key
check /renew/rekey_and_reuse 2 "not both" -- "${R[@]}" --rekey --reuse-key
check /renew/key_id 2 "renew picks the keys itself" -- "${R[@]}" --key-id 01
check /renew/help 0 "Usage: p11enroll renew" -- "${R[@]}" --help
expect /renew/refusals/keys_unchanged [ "$(count privkey)" = "$keys" ]
expect /renew/refusals/certs_unchanged [ "$(count cert)" = "$certs" ]

check_done
