#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `p11enroll doctor` shows the token's family, and `doctor --probe` proves
# what the mechanism list claims: on SoftHSM a session key pair of each key
# type is made, signed with once and removed, and the token holds no more
# objects than before.  Without a login nothing is probed.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
W=$FX_DIR/work
mkdir -p "$W"
cd "$W" || exit 1
export P11ENROLL_CONF_DIR=$W/no-conf
printf '%s\n' "$FX_USER_PIN" >pin
T=(--token "$FX_URI" --module "$FX_MODULE")

objects() {
    pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
        --pin "$FX_USER_PIN" --list-objects 2>/dev/null | grep -c '^[A-Z].*Object'
}

"$P11ENROLL" csr "${T[@]}" --pin-file pin --key ec-p256 --label kept \
    --subject /CN=kept --out kept.csr >csr.out 2>&1 ||
    bad /doctor_probe/setup "$(cat csr.out)"
before=$(objects)
check /doctor_probe/family 0 'ok    family       Module family "softhsm" (detected; --token-family overrides).' \
    -- "$P11ENROLL" doctor "${T[@]}" --pin-file pin
CHECK_OUT=$W/probe.out check /doctor_probe/all_types 0 "0 failed" \
    -- "$P11ENROLL" doctor --probe "${T[@]}" --pin-file pin
for kt in ec-p256 ec-p384 rsa-3072 rsa-4096; do
    if grep -q "^ok    probe        Made a $kt key pair in the session, signed with it and checked the signature; it was removed again\.$" probe.out; then
        ok "/doctor_probe/$kt"
    else
        bad "/doctor_probe/$kt" "no probe line for $kt in:"
        sed 's/^/    /' probe.out
    fi
done
after=$(objects)
expect /doctor_probe/token_unchanged test "$before" -eq "$after"
expect /doctor_probe/kept_key_still_there test "$after" -ge 2
check /doctor_probe/overridden_family 0 'Module family "generic" (as --token-family says)' \
    -- "$P11ENROLL" doctor "${T[@]}" --pin-file pin --token-family generic
check /doctor_probe/no_login_no_probe 0 "skip  probe        Not probed: making a key needs the login." \
    -- "$P11ENROLL" doctor --probe "${T[@]}" </dev/null
check_done
