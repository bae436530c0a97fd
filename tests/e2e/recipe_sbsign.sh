#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: an RSA key on a SoftHSM token enrolled against scm-sim, then
# `p11enroll sign-setup sbsign` (libp11's engine, the key by pkcs11: URI,
# the PIN piped from the file) and the script it printed, run as it is,
# signs a tiny EFI application made here.  `sbverify --cert` with the
# enrolled leaf passes; with other certificates it fails.
set -u
: "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/e2e/recipe_lib.sh
. "$P11E_SOURCE_DIR/tests/e2e/recipe_lib.sh"
recipe_need sbsign sbverify gcc objcopy openssl

recipe_begin
recipe_build_efi "$W/tiny.efi" || {
    echo "could not build the test EFI application" >&2
    exit 1
}
e2e_other_root "$W" || exit 1
if objdump -f tiny.efi 2>/dev/null | grep -q 'file format pei-x86-64' &&
    ! sbverify --cert other-root.pem tiny.efi >/dev/null 2>&1; then
    ok /efi/is_an_unsigned_pe32plus
else
    bad /efi/is_an_unsigned_pe32plus "$(objdump -f tiny.efi 2>&1 | head -n 3)"
fi

n=boot-rsa
if recipe_enroll "$n" rsa-3072 && recipe_make "$n" sbsign --pin-file pin; then
    r=$n.sbsign.sh
    if grep -q "PKCS11_MODULE_PATH='$FX_MODULE' sbsign --engine pkcs11" "$r" &&
        grep -q -- "--key 'pkcs11:[^']*type=private?pin-source=file:/dev/stdin'" "$r" &&
        grep -q "^head -n 1 '$W/pin' | tr -d" "$r" &&
        grep -q -- "--cert '" "$r"; then
        ok "$n/recipe_engine_uri_cert_and_pin_pipe"
    else
        bad "$n/recipe_engine_uri_cert_and_pin_pipe" "recipe:"
        show "$r"
    fi
    recipe_no_pin "$r" "$n".files/*

    if recipe_run "$n" sbsign tiny.efi signed.efi; then
        if sbverify --cert "$n.leaf.pem" signed.efi >verify.out 2>&1; then
            ok "$n/sbverify_enrolled_leaf"
        else
            bad "$n/sbverify_enrolled_leaf" "output:"
            show verify.out
        fi
        # a key of our own (not on the token) with the very same subject
        openssl req -x509 -newkey rsa:2048 -nodes -keyout same-name.key \
            -subj "$(openssl x509 -in "$n.leaf.pem" -noout -subject \
                -nameopt compat | sed 's/^subject=//')" -days 2 \
            -out same-name.pem 2>/dev/null
        for other in other-root.pem same-name.pem; do
            if sbverify --cert "$other" signed.efi >verify-other.out 2>&1; then
                bad "$n/sbverify_fails_with_$other" "exit 0:"
                show verify-other.out
            else
                ok "$n/sbverify_fails_with_$other"
            fi
        done
    fi
fi

# The PIN from a variable, piped to libp11 the same way.
export P11E_TEST_PIN=$FX_USER_PIN
if recipe_make "$n" sbsign --pin-env P11E_TEST_PIN --dir "$n.files-env" &&
    recipe_run "$n" sbsign tiny.efi signed-env.efi; then
    if sbverify --cert "$n.leaf.pem" signed-env.efi >/dev/null 2>&1; then
        ok "$n/pin_env_signs_and_verifies"
    else
        bad "$n/pin_env_signs_and_verifies" "sbverify failed"
    fi
fi
recipe_end
