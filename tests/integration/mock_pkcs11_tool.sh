#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The mock PKCS#11 module from another program (OpenSC's pkcs11-tool): an
# injected failure and the log without the PIN; the ykcs11 personality
# with pkcs11-tool's own key generation template, and its attestation
# chain verified by openssl up to the test "Yubico PIV Root".
# shellcheck disable=SC2016 # the sh -c scripts expand their own $1
set -eu
# shellcheck source=tests/softhsm/fixture.sh
. "${P11E_SOURCE_DIR:?}/tests/softhsm/fixture.sh"

if [ -z "${P11E_MOCK:-}" ] || ! command -v pkcs11-tool >/dev/null; then
    echo "skipped: needs P11E_MOCK and pkcs11-tool" >&2
    exit 77
fi
fx_softhsm_begin p11e-test
fail=0
check() { # check WHAT COMMAND...: run, and count a failure
    what=$1
    shift
    if "$@"; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        fail=$((fail + 1))
    fi
}
tool() { pkcs11-tool --module "$P11E_MOCK" "$@"; }

# 1. a named failure reaches the program; the log never shows the PIN
LOG=$FX_DIR/mock.log
out=$(P11E_MOCK_LOG=$LOG P11E_MOCK_FAIL='C_Login=CKR_PIN_LOCKED' \
    tool --token-label p11e-test -l --pin "$FX_USER_PIN" -O 2>&1 || true)
check "pkcs11-tool sees the injected CKR_PIN_LOCKED" \
    sh -c 'printf "%s" "$1" | grep -q CKR_PIN_LOCKED' _ "$out"
check "the log has the call, masked" \
    grep -qx 'C_Login user=1 pin=\*\*\* \[injected\] CKR_PIN_LOCKED' "$LOG"
check "the log has no PIN" sh -c '! grep -q "pin=$1" "$2"' _ \
    "$FX_USER_PIN" "$LOG"

# 2. ykcs11: SO login with the management key, keygen in slot 9c
softhsm2-util --init-token --free --label yk --so-pin "$FX_SO_PIN" \
    --pin 123456 >/dev/null
export P11E_MOCK_YKCS11=1
MGM=010203040506070801020304050607080102030405060708
check "the module says Yubico" sh -c \
    'pkcs11-tool --module "$P11E_MOCK" -I | grep -q "Yubico (www.yubico.com)"'
check "keygen with the user PIN is refused" sh -c \
    '! pkcs11-tool --module "$P11E_MOCK" --token-label yk -l --pin 123456 \
        --keypairgen --id 02 --key-type EC:prime256v1 >/dev/null 2>&1'
check "keygen as SO with the management key" \
    tool --token-label yk --login --login-type so --so-pin "$MGM" \
    --keypairgen --id 02 --key-type EC:prime256v1
check "RSA-3072 is refused (ykcs11 2.2.0)" sh -c \
    '! pkcs11-tool --module "$P11E_MOCK" --token-label yk --login \
        --login-type so --so-pin "$1" --keypairgen --id 03 \
        --key-type rsa:3072 >/dev/null 2>&1' _ "$MGM"
tool --token-label yk --read-object --type cert \
    --label "X.509 Certificate for PIV Attestation 9c" -o "$FX_DIR/att.der"
tool --token-label yk --read-object --type cert --id 19 -o "$FX_DIR/f9.der"
openssl x509 -inform DER -in "$FX_DIR/att.der" -out "$FX_DIR/att.pem"
openssl x509 -inform DER -in "$FX_DIR/f9.der" -out "$FX_DIR/f9.pem"
check "attestation -> f9 -> test Yubico root verifies" \
    openssl verify -CAfile "$FX_DIR/ykcs11-ca/root.pem" \
    -untrusted "$FX_DIR/f9.pem" "$FX_DIR/att.pem"
check "the attested key is the slot's key" sh -c \
    '[ "$(openssl x509 -in "$1" -noout -pubkey)" = \
       "$(pkcs11-tool --module "$P11E_MOCK" --token-label yk --read-object \
          --type pubkey --id 02 2>/dev/null | \
          openssl pkey -pubin -inform DER)" ]' _ "$FX_DIR/att.pem"

echo "$((9 - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
