#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# p11enroll enroll with a YubiKey (the mock's ykcs11 2.2.0 personality on
# SoftHSM) at a Key Attestation profile of scm-sim: SO login with the
# management key, the key in PIV slot 9c, its attestation (slot certificate
# + f9) sent and checked by the CA, the leaf on the card, the chain in a
# file; a slot in use needs --force.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
if [ -z "${P11E_MOCK:-}" ] || [ ! -r "$P11E_MOCK" ]; then
    echo "skipped: the mock PKCS#11 module is not built" >&2
    exit 77
fi
en_setup

export P11E_MOCK_TARGET=$FX_MODULE P11E_MOCK_YKCS11=1
softhsm2-util --init-token --free --label yk --so-pin "$FX_SO_PIN" \
    --pin 123456 >/dev/null
printf '123456\n' >"$EN/yk.pin"
printf '010203040506070801020304050607080102030405060708\n' >"$EN/mgm"
en_ka_sim "$EN/ykcs11-ca/root.pem"

yk() {
    "$P11ENROLL" enroll --module "$P11E_MOCK" --token "pkcs11:token=yk" \
        --pin-file "$EN/yk.pin" --so-pin-file "$EN/mgm" \
        --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
        --state-dir "$EN_STATE" --poll-interval 1 --endpoint "$SCM_SIM_URL" \
        --client-id ka --client-secret-file "$EN/ka.secret" \
        --email dev@example.org "$@"
}

en_run yk yk --slot 9c --out-chain "$EN/chain.pem"
en_expect_rc 0
en_expect_err "Sending the key's attestation"
en_expect_err "chain is in $EN/chain.pem"
grep -q '"hsmType": *"YUBIKEY"' "$SCM_SIM_STATE"/requests/*.json ||
    en_fail "the request does not say YUBIKEY"
[ "$(grep -c 'BEGIN CERTIFICATE' "$EN/chain.pem")" -eq 2 ] ||
    en_fail "no chain file"
"$P11ENROLL" list --module "$P11E_MOCK" --token "pkcs11:token=yk" \
    --pin-file "$EN/yk.pin" --json >"$EN/yk.json"
grep -q '"matches_key": true' "$EN/yk.json" || en_fail "no leaf on the card"

# the same slot again: refused without --force, nothing ordered
en_run again yk --new --slot 9c
en_expect_rc 7
en_expect_err "already holds a key; --force replaces it"
en_expect_orders 1
en_run force yk --new --slot 9c --force
en_expect_rc 0
en_expect_orders 2

# a slot that is not a PIV key slot
en_run badslot yk --new --slot f9
en_expect_rc 2
en_expect_err "--slot must be 9a, 9c, 9d, 9e"
# no --slot: on a YubiKey a key's CKA_ID is its PIV slot, so none is drawn;
# the run stops with a usage error before any key or order, and keeps no
# record
records=$(find "$EN_STATE" -name '*.json' | wc -l)
en_run noslot yk --new
en_expect_rc 2
en_expect_err "name the slot"
en_expect_orders 2
[ "$(find "$EN_STATE" -name '*.json' | wc -l)" -eq "$records" ] ||
    en_fail "noslot: a record was kept"
echo "enroll_ykcs11: all passed"
