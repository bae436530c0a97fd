#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `p11enroll doctor` against SoftHSM tokens and scm-sim over HTTPS: all ok
# after an enrollment, then each fault it can detect, with the line it
# prints, its exit code, and the --json envelope: a PIN source that cannot
# be read, a wrong PIN, a PIN on its final try (never tried), an untrusted
# server, a wrong client secret, an unknown token, an expired certificate,
# a missing intermediate, a certificate due for renewal, the key types
# the token supports (ykcs11: no RSA-3072/4096).
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
scm_sim_start
W=$FX_DIR/work
mkdir -p "$W"
cd "$W" || exit 1
export P11ENROLL_CONF_DIR=$W/no-conf # no /etc/p11enroll here
printf '%s\n' "$FX_USER_PIN" >pin
printf 'p11e-secret-0123456789\n' >secret
printf 'wrong-secret\n' >badsecret
export P11E_WRONG_PIN=9999
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

tok() { # LABEL: the token options for token LABEL
    printf '%s\n' --token "pkcs11:token=$1" --module "$FX_MODULE"
}
mapfile -t T < <(tok p11e-test)
CA=(--endpoint "$SCM_SIM_URL" --client-id p11e-client
    --client-secret-file "$W/secret" --ca-file "$SCM_SIM_CA_FILE")
D=("$P11ENROLL" doctor)

"$P11ENROLL" enroll "${T[@]}" --pin-file pin "${CA[@]}" \
    --email dev@example.org --trust "$SCM_SIM_ROOTS" --state-dir state \
    >enroll.out 2>&1 || {
    cat enroll.out
    bad /doctor/setup "enroll failed"
}

# ---- everything in order ------------------------------------------------
check /doctor/all_ok 0 "0 failed" -- "${D[@]}" "${T[@]}" --pin-file pin "${CA[@]}"
out=$("${D[@]}" "${T[@]}" --pin-file pin "${CA[@]}" 2>&1)
for line in "^ok    module " "^ok    token " "^ok    pin " "^ok    login " \
    "^ok    certificate  Certificate \"CN=Dana Developer" \
    "^ok    chain        The chain of .* is complete: 3 certificates" \
    "^ok    ca .* trusted by --ca-file" "^ok    clock " \
    "^ok    credentials  The token server accepted client ID \"p11e-client\"" \
    "^ok    key-types    The token can generate and sign with ec-p256, ec-p384, rsa-3072, rsa-4096\.$" \
    "^\(ok    free-space   The token reports free memory\|skip  free-space   Not checked: the token does not report its free memory\)"; do
    if printf '%s\n' "$out" | grep -q -- "$line"; then
        ok "/doctor/all_ok/line $line"
    else
        bad "/doctor/all_ok/line" "no line matching '$line' in:"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
done
json=$("${D[@]}" "${T[@]}" --pin-file pin "${CA[@]}" --json 2>/dev/null)
if printf '%s' "$json" | grep -q '"schema": "p11enroll/2"' &&
    printf '%s' "$json" | grep -q '"command": "doctor"' &&
    printf '%s' "$json" | grep -q '"error": null' &&
    printf '%s' "$json" | grep -q '"failed": 0'; then
    ok /doctor/json_ok
else
    bad /doctor/json_ok "$json"
fi

# ---- the token side -----------------------------------------------------
check /doctor/wrong_pin_source 8 \
    "FAIL  login        Cannot open the secret file \"$W/no-such-pin\"" \
    -- "${D[@]}" "${T[@]}" --pin-file "$W/no-such-pin"
check /doctor/wrong_pin 8 "FAIL  login" \
    -- "${D[@]}" "${T[@]}" --pin-env P11E_WRONG_PIN
check /doctor/no_pin_source 0 "skip  login        Login not tried: no PIN source" \
    -- "${D[@]}" "${T[@]}" </dev/null
check /doctor/unknown_token 7 \
    "FAIL  token        No token matches pkcs11:token=no-such-token" \
    -- "${D[@]}" --token pkcs11:token=no-such-token --module "$FX_MODULE" \
    --pin-file pin
json=$("${D[@]}" --token pkcs11:token=no-such-token --module "$FX_MODULE" \
    --json 2>/dev/null)
rc=$?
if [ "$rc" -eq 7 ] && printf '%s' "$json" | grep -q '"code": 7' &&
    printf '%s' "$json" | grep -q '"name": "PE_E_TOKEN_NOT_FOUND"'; then
    ok /doctor/json_error
else
    bad /doctor/json_error "rc $rc: $json"
fi
check /doctor/module_missing 7 "FAIL  module" \
    -- "${D[@]}" --token pkcs11:token=p11e-test --module "$W/no-such-module.so"

if [ -n "${P11E_MOCK:-}" ] && [ -r "$P11E_MOCK" ]; then
    export P11E_MOCK_TARGET=$FX_MODULE
    : >mock.log
    P11E_MOCK_LOG=$W/mock.log P11E_MOCK_TOKEN_FLAGS=CKF_USER_PIN_FINAL_TRY \
        check /doctor/pin_final_try 8 "FAIL  pin          The user PIN is on its final try" \
        -- "${D[@]}" --token pkcs11:token=p11e-test --module "$P11E_MOCK" \
        --pin-file pin
    if grep -q '^C_Login' mock.log; then
        bad /doctor/pin_final_try/never_tried "doctor sent a PIN on the final try"
    else
        ok /doctor/pin_final_try/never_tried
    fi
    P11E_MOCK_TOKEN_FLAGS=CKF_USER_PIN_COUNT_LOW check /doctor/pin_count_low 0 \
        "warn  pin          A wrong PIN was entered" \
        -- "${D[@]}" --token pkcs11:token=p11e-test --module "$P11E_MOCK" \
        --pin-file pin
    # ykcs11 2.2.0 offers RSA up to 2048 bits only
    P11E_MOCK_YKCS11=1 check /doctor/key_types_ykcs11 0 \
        "ok    key-types    The token can generate and sign with ec-p256, ec-p384 (not rsa-3072, rsa-4096)." \
        -- "${D[@]}" --token pkcs11:token=p11e-test --module "$P11E_MOCK" \
        </dev/null
    P11E_MOCK_FAIL="C_GetMechanismList=CKR_DEVICE_ERROR" check /doctor/key_types_none 7 \
        "FAIL  key-types    The token can generate and sign with none of ec-p256, ec-p384, rsa-3072, rsa-4096" \
        -- "${D[@]}" --token pkcs11:token=p11e-test --module "$P11E_MOCK" \
        </dev/null
else
    bad /doctor/mock "P11E_MOCK is not set: the mock module was not built"
fi

# ---- the CA side ----------------------------------------------------------
check /doctor/untrusted_server 5 "FAIL  ca           The TLS certificate of $SCM_SIM_URL is not trusted" \
    -- "${D[@]}" "${T[@]}" --pin-file pin --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$W/secret"
check /doctor/wrong_client_secret 6 "FAIL  credentials  The token server refused client ID \"p11e-client\"" \
    -- "${D[@]}" "${T[@]}" --pin-file pin --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$W/badsecret" \
    --ca-file "$SCM_SIM_CA_FILE"
check /doctor/unreachable 5 "FAIL  ca" \
    -- "${D[@]}" "${T[@]}" --pin-file pin --endpoint https://127.0.0.1:9 \
    --ca-file "$SCM_SIM_CA_FILE"
check /doctor/form 0 "skip  credentials  Not checked for a form" \
    -- "${D[@]}" "${T[@]}" --pin-file pin --ca-file "$SCM_SIM_CA_FILE" \
    --form "$SCM_SIM_URL/customer/demo/cs/cs"
check /doctor/renewal_due 0 "warn  certificate  Certificate \"CN=Dana Developer" \
    -- "${D[@]}" "${T[@]}" --pin-file pin --within 400d

# ---- a missing intermediate: enroll, then remove it from the token ------
softhsm2-util --init-token --free --label nochain --so-pin "$FX_SO_PIN" \
    --pin "$FX_USER_PIN" >/dev/null
mapfile -t N < <(tok nochain)
"$P11ENROLL" enroll "${N[@]}" --pin-file pin "${CA[@]}" \
    --email dev@example.org --trust "$SCM_SIM_ROOTS" --state-dir state2 \
    >enroll2.out 2>&1 || cat enroll2.out
pkcs11-tool --module "$FX_MODULE" --token-label nochain --login \
    --pin "$FX_USER_PIN" --delete-object --type cert \
    --label "scm-sim EC Code Signing CA" >/dev/null 2>&1 ||
    bad /doctor/missing_intermediate/setup "could not delete the intermediate"
check /doctor/missing_intermediate 9 \
    "its issuer \"CN=scm-sim EC Code Signing CA,O=scm-sim Test PKI\" is neither on the token" \
    -- "${D[@]}" "${N[@]}" --pin-file pin

# ---- an expired certificate, written with pkcs11-tool -------------------
softhsm2-util --init-token --free --label expired --so-pin "$FX_SO_PIN" \
    --pin "$FX_USER_PIN" >/dev/null
mapfile -t X < <(tok expired)
mkdir -p ca/new
openssl ecparam -name prime256v1 -genkey -noout -out root.key
openssl req -x509 -new -key root.key -subj "/O=Test/CN=Test Root" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
touch ca/index.txt
echo 1000 >ca/serial
cat >ca.cnf <<EOF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $W/ca/index.txt
new_certs_dir = $W/ca/new
serial = $W/ca/serial
default_md = sha256
policy = pol
unique_subject = no
[ pol ]
commonName = supplied
EOF
printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=codeSigning" >leaf.ext
uri=$("$P11ENROLL" csr "${X[@]}" --pin-file pin --cn "Old Signer" --out old.csr \
    2>&1 >/dev/null | sed -n 's/^Key: //p')
id=$(printf '%s' "$uri" | sed -n 's/.*;id=\([^;]*\).*/\1/p' | tr -d '%')
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in old.csr \
    -out old.pem -startdate 20200101000000Z -enddate 20210101000000Z \
    -extfile leaf.ext -notext >/dev/null 2>&1
openssl x509 -in old.pem -outform DER -out old.der
openssl x509 -in root.pem -outform DER -out root.der
p11w() { # FILE ID LABEL: write a certificate with pkcs11-tool
    pkcs11-tool --module "$FX_MODULE" --token-label expired --login \
        --pin "$FX_USER_PIN" --write-object "$1" --type cert --id "$2" \
        --label "$3" >/dev/null 2>&1
}
if ! p11w old.der "$id" old || ! p11w root.der 99 "Test Root"; then
    bad /doctor/expired/setup "pkcs11-tool could not write (id \"$id\")"
fi
check /doctor/expired_certificate 9 \
    "FAIL  certificate  Certificate \"CN=Old Signer\" (ID $id) expired on 2021-01-01T00:00:00Z" \
    -- "${D[@]}" "${X[@]}" --pin-file pin
check /doctor/expired_certificate/chain_still_checked 9 \
    "ok    chain        The chain of \"CN=Old Signer\" (ID $id) is complete: 2 certificates" \
    -- "${D[@]}" "${X[@]}" --pin-file pin

# ---- usage --------------------------------------------------------------
check /doctor/help 0 "Usage: p11enroll doctor" -- "${D[@]}" --help
check /doctor/bad_within 2 "is not a window" -- "${D[@]}" --within soon
check /doctor/unknown_option 2 "Unknown option" -- "${D[@]}" --frobnicate

check_done
