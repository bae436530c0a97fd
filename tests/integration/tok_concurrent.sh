#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# 20 `p11enroll csr` processes started at once against one SoftHSM token:
# SoftHSM rewrites token.object in place, so a process starting or logging
# in while another writes may see no token or get CKR_GENERAL_ERROR
# (docs/tokens.md).  The token layer rides that out: every run succeeds and
# every key is on the token.  No timing is asserted.
set -u
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
W=$FX_DIR
N=20
echo "$FX_USER_PIN" >"$W/pin"
pids=()
for i in $(seq 1 "$N"); do
    "$P11ENROLL" csr --module "$FX_MODULE" --token "pkcs11:token=p11e-test" \
        --pin-file "$W/pin" --key ec-p256 --label "conc-$i" \
        --subject "/CN=conc-$i" --out "$W/req-$i.pem" \
        >"$W/out-$i.txt" 2>"$W/err-$i.txt" &
    pids+=($!)
done
nfailed=0
for i in $(seq 1 "$N"); do
    if ! wait "${pids[$((i - 1))]}"; then
        nfailed=$((nfailed + 1))
        echo "run $i failed: $(cat "$W/err-$i.txt")"
    fi
done
expect "/tok/concurrent/no_run_failed" test "$nfailed" -eq 0
ok_csrs=0
for i in $(seq 1 "$N"); do
    openssl req -in "$W/req-$i.pem" -noout -verify >/dev/null 2>&1 &&
        ok_csrs=$((ok_csrs + 1))
done
expect "/tok/concurrent/every_csr_verifies" test "$ok_csrs" -eq "$N"
keys=$(pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
    --pin "$FX_USER_PIN" --list-objects --type privkey 2>/dev/null |
    grep -c 'label: *conc-')
expect "/tok/concurrent/every_key_on_the_token" test "$keys" -eq "$N"
check_done
