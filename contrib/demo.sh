#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# contrib/demo.sh - the main job end to end on the embedded default: a
# throwaway SoftHSM token, a local scm-sim over HTTPS, and p11enroll.
# Run through `bash contrib/dev.sh demo`, which builds and sets P11ENROLL
# and SCM_SIM.  Everything lives in one temporary folder, removed at the
# end (P11E_KEEP_TMP=1 keeps it).
set -euo pipefail

: "${P11ENROLL:?run through contrib/dev.sh demo}"
: "${SCM_SIM:?run through contrib/dev.sh demo}"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export P11E_SOURCE_DIR=$top P11E_BUILD_DIR=${P11E_BUILD_DIR:-$top/build}

step() { printf '\n--- %s\n' "$*"; }
# Print a command the way it could be typed again, then run it.
run() {
    {
        printf '$'
        printf ' %q' "$@"
        printf '\n'
    } >&2
    "$@"
}

# shellcheck source=tests/softhsm/fixture.sh
. "$top/tests/softhsm/fixture.sh"
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$top/tests/integration/scm_sim_lib.sh"
# shellcheck source=tests/lib/e2e_lib.sh
. "$top/tests/lib/e2e_lib.sh"

step "a throwaway SoftHSM token"
fx_softhsm_begin p11enroll-demo
echo "token \"p11enroll-demo\" in $FX_DIR, user PIN in $FX_DIR/pin"
printf '%s\n' "$FX_USER_PIN" >"$FX_DIR/pin"
chmod 600 "$FX_DIR/pin"

step "scm-sim, a reference SCM enrollment server, on loopback"
scm_sim_start
echo "scm-sim (state folder $SCM_SIM_STATE) listens on $SCM_SIM_URL and printed:"
sed -n '/^# p11enroll against/,$p' "$SCM_SIM_STATE/stdout"
printf '%s' p11e-secret-0123456789 >"$FX_DIR/client-secret"
chmod 600 "$FX_DIR/client-secret"

step "p11enroll tokens"
run "$P11ENROLL" tokens --module "$FX_MODULE"

step "p11enroll enroll: key on the token, CSR, submit, wait, verify, write"
mkdir -p "$FX_DIR/etc" # no machine-wide /etc/p11enroll/*.conf in the demo
run env P11ENROLL_CONF_DIR="$FX_DIR/etc" "$P11ENROLL" enroll \
    --module "$FX_MODULE" --token "pkcs11:token=p11enroll-demo" \
    --pin-file "$FX_DIR/pin" --key-type ec-p256 --label code-signing \
    --endpoint "$SCM_SIM_URL" --client-id p11e-client \
    --client-secret-file "$FX_DIR/client-secret" --email dev@example.org \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --state-dir "$FX_DIR/state" \
    --out-cert "$FX_DIR/cert.pem" --out-chain "$FX_DIR/chain.pem"

step "p11enroll list: what is on the token now"
run "$P11ENROLL" list --module "$FX_MODULE" --token "pkcs11:token=p11enroll-demo" \
    --pin-file "$FX_DIR/pin"

step "the certificate written for signing tools verifies to scm-sim's root"
run openssl verify -CAfile "$SCM_SIM_ROOTS" -untrusted "$FX_DIR/chain.pem" \
    "$FX_DIR/cert.pem"
run openssl x509 -in "$FX_DIR/cert.pem" -noout -subject -issuer -enddate \
    -ext extendedKeyUsage

step "osslsigncode signs a tiny PE with the token key and the enrolled certificate"
cd "$FX_DIR"
e2e_build_pe "$FX_DIR/tiny.exe"
run osslsigncode sign -pkcs11module "$FX_MODULE" \
    -pkcs11cert "pkcs11:token=p11enroll-demo;object=code-signing;type=cert" \
    -key "pkcs11:token=p11enroll-demo;object=code-signing;type=private" \
    -readpass "$FX_DIR/pin" -ac "$FX_DIR/chain.pem" -h sha256 \
    -n "p11enroll demo" -in tiny.exe -out tiny-signed.exe
run osslsigncode verify -CAfile "$SCM_SIM_ROOTS" -TSA-CAfile "$SCM_SIM_ROOTS" \
    -in tiny-signed.exe | grep -E '^(Signature verification|Succeeded)' ||
    true
osslsigncode verify -CAfile "$SCM_SIM_ROOTS" -TSA-CAfile "$SCM_SIM_ROOTS" \
    -in tiny-signed.exe >/dev/null

step "done: one PIN entry, one order, certificate and chain on the token"
