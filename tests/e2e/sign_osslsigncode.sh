#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: a SoftHSM token, `p11enroll enroll` against scm-sim's REST
# endpoint over HTTPS, then osslsigncode signs a tiny PE with the token key
# through the libp11 engine, the certificate read from the token and the
# chain file p11enroll wrote.  `osslsigncode verify` passes against
# scm-sim's roots and fails against another root.  EC P-256 and RSA-3072,
# first with SoftHSM loaded directly, then with the token behind
# `p11-kit server` and reached through p11-kit-client.so (SoftHSM's config
# hidden from the client side), as a build server reaches a network HSM.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
# shellcheck source=tests/lib/e2e_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/e2e_lib.sh"

for tool in osslsigncode gcc objcopy objdump p11-kit openssl; do
    if ! command -v "$tool" >/dev/null; then
        [ -n "${P11E_NO_SKIP:-}" ] && {
            echo "$tool is missing" >&2
            exit 1
        }
        echo "skipped: $tool is not installed" >&2
        exit 77
    fi
done

fx_softhsm_begin p11e-e2e
scm_sim_start || exit 1
W=$FX_DIR/work
mkdir -p "$W"
cd "$W" || exit 1
printf '%s\n' "$FX_USER_PIN" >pin
printf '%s' p11e-secret-0123456789 >client-secret
chmod 600 pin client-secret
passed=0 failed=0

ok() {
    passed=$((passed + 1))
    echo "ok   $1"
}
bad() {
    failed=$((failed + 1))
    echo "FAIL $1: $2"
}
show() { sed 's/^/    /' "$1"; }

e2e_build_pe "$W/tiny.exe" || {
    echo "could not build the test PE" >&2
    exit 1
}
e2e_other_root "$W" || {
    echo "could not make the other root" >&2
    exit 1
}
if objdump -f tiny.exe 2>/dev/null | grep -q 'file format pei-x86-64'; then
    ok /pe/is_pe32plus
else
    bad /pe/is_pe32plus "$(objdump -f tiny.exe 2>&1 | head -n 3)"
fi
if osslsigncode verify -in tiny.exe >/dev/null 2>&1; then
    bad /pe/unsigned "an unsigned PE verified"
else
    ok /pe/unsigned_does_not_verify
fi

# enroll NAME MODULE KEYTYPE: p11enroll enroll with the REST endpoint;
# sets KEY_URI and CERT_URI, writes NAME.leaf.pem and NAME.chain.pem.
# Returns 1 (after saying why) when a later step cannot run.
enroll() {
    local name=$1 module=$2 kt=$3 rc
    e2e_enroll "$name" "$kt" "$FX_URI" "$module" "$W/state-$name" "${PFX[@]}"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        bad "$name/enroll" "exit $rc, output:"
        show "$name.out"
        return 1
    fi
    ok "$name/enroll"
    if [ -z "$KEY_URI" ]; then
        bad "$name/key_uri_printed" "no pkcs11: URI with type=private in:"
        show "$name.out"
        return 1
    fi
    ok "$name/key_uri_printed"
    if [ "$(e2e_count_certs "$name.leaf.pem")" -eq 1 ]; then
        ok "$name/out_cert"
    else
        bad "$name/out_cert" "--out-cert did not write one certificate"
        return 1
    fi
    # scm-sim's chain: the intermediate and the root
    if [ "$(e2e_count_certs "$name.chain.pem")" -eq 2 ]; then
        ok "$name/out_chain"
    else
        bad "$name/out_chain" "--out-chain wrote $(e2e_count_certs \
            "$name.chain.pem") certificates, want 2"
        return 1
    fi
}

# verify_pe ROOTS FILE: osslsigncode verify trusting only ROOTS (also as
# the TSA roots, so the system's CA bundle plays no part).
verify_pe() {
    osslsigncode verify -CAfile "$1" -TSA-CAfile "$1" -in "$2"
}

# sign_verify NAME MODULE: osslsigncode with the engine, key and certificate
# from the token, the chain from the file; verify against the right root
# and a wrong one, and a tampered copy.
sign_verify() {
    local name=$1 module=$2 rc want_serial got
    "${PFX[@]}" osslsigncode sign -pkcs11module "$module" -pkcs11cert "$CERT_URI" \
        -key "$KEY_URI" -readpass pin -ac "$name.chain.pem" -h sha256 \
        -n "p11enroll e2e $name" -in tiny.exe -out "$name.signed.exe" \
        >"$name.sign.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$name.signed.exe" ]; then
        bad "$name/osslsigncode_sign" "exit $rc, output:"
        show "$name.sign.out"
        return 1
    fi
    ok "$name/osslsigncode_sign"

    verify_pe "$SCM_SIM_ROOTS" "$name.signed.exe" >"$name.verify.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] &&
        grep -q '^Signature verification: ok' "$name.verify.out"; then
        ok "$name/verify_scm_sim_root"
    else
        bad "$name/verify_scm_sim_root" "exit $rc, output:"
        show "$name.verify.out"
    fi
    # the signer is the certificate p11enroll put on the token
    want_serial=$(openssl x509 -in "$name.leaf.pem" -noout -serial)
    want_serial=${want_serial#serial=}
    got=$(sed -n '/Signer #0:/,/Serial/s/.*Serial : *//p' \
        "$name.verify.out" | head -n 1)
    if [ -n "$got" ] && [ "$got" = "$want_serial" ]; then
        ok "$name/signer_is_enrolled_cert"
    else
        bad "$name/signer_is_enrolled_cert" \
            "signer serial '$got', enrolled '$want_serial'"
    fi

    verify_pe other-root.pem "$name.signed.exe" >"$name.verify-other.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        ok "$name/verify_other_root_fails"
    else
        bad "$name/verify_other_root_fails" "exit 0, output:"
        show "$name.verify-other.out"
    fi

    # the files alone (--out-cert + --out-chain), as tools that take a
    # certificate file want them; the key still on the token
    cat "$name.leaf.pem" "$name.chain.pem" >"$name.certs.pem"
    if "${PFX[@]}" osslsigncode sign -pkcs11module "$module" \
        -certs "$name.certs.pem" -key "$KEY_URI" -readpass pin -h sha256 \
        -in tiny.exe -out "$name.signed2.exe" >"$name.sign2.out" 2>&1 &&
        verify_pe "$SCM_SIM_ROOTS" "$name.signed2.exe" >/dev/null 2>&1; then
        ok "$name/sign_with_out_files"
    else
        bad "$name/sign_with_out_files" "output:"
        show "$name.sign2.out"
    fi

    # one byte of the code changed: the signature no longer covers it
    cp "$name.signed.exe" "$name.tampered.exe"
    printf '\x90' | dd of="$name.tampered.exe" bs=1 seek=1100 conv=notrunc \
        status=none
    if verify_pe "$SCM_SIM_ROOTS" "$name.tampered.exe" >/dev/null 2>&1; then
        bad "$name/tampered_fails" "a changed file verified"
    else
        ok "$name/tampered_fails"
    fi
}

# ---- SoftHSM loaded directly --------------------------------------------
PFX=() # the remote runs put `env -u SOFTHSM2_CONF` before each command
for kt in ec-p256 rsa-3072; do
    if enroll "direct-$kt" "$FX_MODULE" "$kt"; then
        sign_verify "direct-$kt" "$FX_MODULE"
    fi
done

# ---- the token behind p11-kit server, reached through p11-kit-client.so --
# The client side gets no SOFTHSM2_CONF: only the socket leads to the token.
if e2e_p11kit_start "$FX_MODULE" "$FX_URI"; then
    ok /remote/p11kit_server_started
    if env -u SOFTHSM2_CONF "$P11ENROLL" tokens --module "$E2E_CLIENT_MODULE" 2>&1 |
        grep -q 'token=p11e-e2e'; then
        ok /remote/token_seen_through_client
    else
        bad /remote/token_seen_through_client "p11enroll tokens:"
        env -u SOFTHSM2_CONF "$P11ENROLL" tokens --module "$E2E_CLIENT_MODULE" 2>&1 |
            sed 's/^/    /'
    fi
    PFX=(env -u SOFTHSM2_CONF)
    for kt in ec-p256 rsa-3072; do
        if enroll "remote-$kt" "$E2E_CLIENT_MODULE" "$kt"; then
            sign_verify "remote-$kt" "$E2E_CLIENT_MODULE"
        fi
    done
    PFX=()
    e2e_p11kit_stop
    # what went through the socket is on the real token, seen directly
    "$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" \
        --pin-file pin >list.out 2>&1
    for kt in ec-p256 rsa-3072; do
        if grep -A5 "Certificate .*\"remote-$kt\"" list.out |
            grep -q 'key on token: yes'; then
            ok "/remote/$kt/cert_next_to_key_on_softhsm"
        else
            bad "/remote/$kt/cert_next_to_key_on_softhsm" "p11enroll list:"
            show list.out
        fi
    done
else
    bad /remote/p11kit_server_started "see above"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
