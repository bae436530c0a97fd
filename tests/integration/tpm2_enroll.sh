#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A TPM-backed token: tpm2-pkcs11 on a software TPM of this test's own
# (tests/integration/tpm2_lib.sh).  `p11enroll enroll` against scm-sim's
# REST endpoint over HTTPS makes ec-p256, ec-p384 and rsa-3072 keys in the
# TPM and installs the certificates next to them; osslsigncode signs a
# tiny PE with each key through the libp11 engine, and the signature
# verifies against scm-sim's roots.  Before that, `doctor --probe` makes,
# uses and removes a key of each type the TPM lists.  rsa-4096, more than the TPM makes, is
# refused before any key is made, with a sentence naming what it can make.
# After every p11enroll run the TPM holds no loaded object or session.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/integration/tpm2_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/tpm2_lib.sh"
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
# shellcheck source=tests/lib/e2e_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/e2e_lib.sh"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

for tool in osslsigncode gcc objcopy openssl; do
    if ! command -v "$tool" >/dev/null; then
        [ -n "${P11E_NO_SKIP:-}" ] && {
            echo "$tool is missing" >&2
            exit 1
        }
        echo "skipped: $tool is not installed" >&2
        exit 77
    fi
done

tpm2_begin p11e-tpm || exit 1
scm_sim_start || exit 1
W=$TPM2_DIR/work
mkdir -p "$W"
cd "$W" || exit 1
printf '%s\n' "$TPM2_USER_PIN" >pin
printf '%s' p11e-secret-0123456789 >client-secret
chmod 600 pin client-secret
show() { sed 's/^/    /' "$1"; }

e2e_build_pe "$W/tiny.exe" || {
    echo "could not build the test PE" >&2
    exit 1
}

# nothing_loaded NAME: the TPM holds no transient object or session
nothing_loaded() {
    local left
    left=$(tpm2_loaded | tr '\n' ' ')
    if [ -z "$left" ]; then
        ok "$1/nothing_left_loaded_in_the_tpm"
    else
        bad "$1/nothing_left_loaded_in_the_tpm" "loaded: $left"
    fi
}

# enroll NAME KEYTYPE: sets KEY_URI and CERT_URI; NAME.leaf.pem and
# NAME.chain.pem.  Returns 1 (after saying why) when signing cannot follow.
enroll() {
    local name=$1 kt=$2 rc
    e2e_enroll "$name" "$kt" "$TPM2_URI" "$TPM2_MODULE" "$W/state"
    rc=$?
    nothing_loaded "$name"
    if [ "$rc" -ne 0 ]; then
        bad "$name/enroll" "exit $rc, output:"
        show "$name.out"
        return 1
    fi
    ok "$name/enroll"
    if [ -z "$KEY_URI" ] || [ "$(e2e_count_certs "$name.chain.pem")" -ne 2 ]; then
        bad "$name/key_uri_and_chain" "output:"
        show "$name.out"
        return 1
    fi
    ok "$name/key_uri_and_chain"
}

# sign_verify NAME: osslsigncode, key and certificate from the token
sign_verify() {
    local name=$1 rc
    osslsigncode sign -pkcs11module "$TPM2_MODULE" -pkcs11cert "$CERT_URI" \
        -key "$KEY_URI" -readpass pin -ac "$name.chain.pem" -h sha256 \
        -n "p11enroll tpm2 $name" -in tiny.exe -out "$name.signed.exe" \
        >"$name.sign.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$name.signed.exe" ]; then
        bad "$name/osslsigncode_sign" "exit $rc, output:"
        show "$name.sign.out"
        return 1
    fi
    ok "$name/osslsigncode_sign"
    if osslsigncode verify -CAfile "$SCM_SIM_ROOTS" -TSA-CAfile "$SCM_SIM_ROOTS" \
        -in "$name.signed.exe" >"$name.verify.out" 2>&1 &&
        grep -q '^Signature verification: ok' "$name.verify.out"; then
        ok "$name/verify_scm_sim_root"
    else
        bad "$name/verify_scm_sim_root" "output:"
        show "$name.verify.out"
    fi
    # the engine leaves its objects loaded (it never finalises the
    # module); only p11enroll's runs are checked
    tpm2_flush
}

# doctor: the family, and each key type proven, leaving nothing behind
CHECK_OUT=$W/probe.out check /tpm2/doctor_probe 0 "0 failed" -- \
    "$P11ENROLL" doctor --probe --token "$TPM2_URI" --module "$TPM2_MODULE" \
    --pin-file pin
for line in 'ok    family       Module family "tpm2"' \
    "ok    key-types    The token can generate and sign with ec-p256, ec-p384, rsa-3072 (not rsa-4096)." \
    "ok    probe        Made a ec-p256 key pair (as token objects" \
    "ok    probe        Made a ec-p384 key pair (as token objects" \
    "ok    probe        Made a rsa-3072 key pair (as token objects"; do
    if grep -qF -- "$line" probe.out; then
        ok "/tpm2/doctor_probe/line $line"
    else
        bad "/tpm2/doctor_probe/line" "no line '$line' in:"
        show probe.out
    fi
done
nothing_loaded doctor
left=$(pkcs11-tool --module "$TPM2_MODULE" --token-label p11e-tpm --login \
    --pin "$TPM2_USER_PIN" --list-objects 2>/dev/null | grep -c 'Object;')
expect /tpm2/doctor_probe/no_objects_left test "$left" -eq 0
tpm2_flush # what pkcs11-tool left loaded

for kt in ec-p256 ec-p384 rsa-3072; do
    if enroll "tpm-$kt" "$kt"; then
        sign_verify "tpm-$kt"
    fi
done

# more than the TPM makes: refused before a key is made
"$P11ENROLL" list --token "$TPM2_URI" --module "$TPM2_MODULE" \
    --pin-file pin >before.out 2>&1
check /tpm2/rsa4096_refused_before_keygen 7 \
    "cannot make rsa-4096 keys; it can make ec-p256, ec-p384, rsa-3072: give --key-type ec-p256." -- \
    "$P11ENROLL" enroll --token "$TPM2_URI" --module "$TPM2_MODULE" \
    --pin-file pin --endpoint "$SCM_SIM_URL" --client-id p11e-client \
    --client-secret-file client-secret --email dev@example.org \
    --key-type rsa-4096 --label big --ca-file "$SCM_SIM_CA_FILE" \
    --trust "$SCM_SIM_ROOTS" --state-dir "$W/state-big"
nothing_loaded rsa-4096
"$P11ENROLL" list --token "$TPM2_URI" --module "$TPM2_MODULE" \
    --pin-file pin >after.out 2>&1
if cmp -s before.out after.out; then
    ok /tpm2/rsa4096_token_unchanged
else
    bad /tpm2/rsa4096_token_unchanged "$(diff before.out after.out)"
fi
check_done
