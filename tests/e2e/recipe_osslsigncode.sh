#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: a SoftHSM token enrolled against scm-sim, then
# `p11enroll sign-setup osslsigncode` and the script it printed, run as it
# is, signs a tiny PE.  `osslsigncode verify` against scm-sim's roots
# alone passes (so the intermediate was embedded) and against another
# root fails; the signer is the certificate enroll installed.
set -u
: "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/e2e/recipe_lib.sh
. "$P11E_SOURCE_DIR/tests/e2e/recipe_lib.sh"
recipe_need osslsigncode gcc objcopy openssl

recipe_begin
e2e_build_pe "$W/tiny.exe" || {
    echo "could not build the test PE" >&2
    exit 1
}
e2e_other_root "$W" || exit 1

verify_pe() { # ROOTS FILE: trust ROOTS only (also as TSA roots)
    osslsigncode verify -CAfile "$1" -TSA-CAfile "$1" -in "$2"
}

n=code-ec
if recipe_enroll "$n" ec-p256 && recipe_make "$n" osslsigncode --pin-file pin
then
    r=$n.osslsigncode.sh
    # what the recipe says: key and certificate by URI, the chain by -ac,
    # the PIN from the file
    if grep -q "^osslsigncode sign -pkcs11module '$FX_MODULE'" "$r" &&
        grep -q -- "-pkcs11cert 'pkcs11:[^']*type=cert'" "$r" &&
        grep -q -- "-key 'pkcs11:[^']*type=private'" "$r" &&
        grep -q -- "-readpass '$W/pin'" "$r" && grep -q -- ' -ac ' "$r"; then
        ok "$n/recipe_names_uris_chain_and_pin_file"
    else
        bad "$n/recipe_names_uris_chain_and_pin_file" "recipe:"
        show "$r"
    fi
    # the chain file -ac embeds: the intermediate, not the root
    ac=$(sed -n "s/.* -ac '\([^']*\)'.*/\1/p" "$r")
    if [ "$(e2e_count_certs "$ac")" -eq 1 ] &&
        openssl x509 -in "$ac" -noout -subject | grep -q 'Code Signing CA'
    then
        ok "$n/ac_file_is_the_intermediate"
    else
        bad "$n/ac_file_is_the_intermediate" "$ac"
    fi
    recipe_no_pin "$r" "$n".files/*

    if recipe_run "$n" osslsigncode tiny.exe signed.exe; then
        if verify_pe "$SCM_SIM_ROOTS" signed.exe >verify.out 2>&1 &&
            grep -q '^Signature verification: ok' verify.out; then
            ok "$n/verify_scm_sim_roots_alone"
        else
            bad "$n/verify_scm_sim_roots_alone" "output:"
            show verify.out
        fi
        want=$(openssl x509 -in "$n.leaf.pem" -noout -serial)
        want=${want#serial=}
        got=$(sed -n '/Signer #0:/,/Serial/s/.*Serial : *//p' verify.out |
            head -n 1)
        if [ -n "$got" ] && [ "$got" = "$want" ]; then
            ok "$n/signer_is_enrolled_cert"
        else
            bad "$n/signer_is_enrolled_cert" "signer '$got', enrolled '$want'"
        fi
        if verify_pe other-root.pem signed.exe >verify-other.out 2>&1; then
            bad "$n/verify_other_root_fails" "exit 0:"
            show verify-other.out
        else
            ok "$n/verify_other_root_fails"
        fi
    fi
fi

# The PIN from a variable: the recipe pipes it to -readpass /dev/stdin.
export P11E_TEST_PIN=$FX_USER_PIN
if recipe_make "$n" osslsigncode --pin-env P11E_TEST_PIN --dir "$n.files-env" &&
    recipe_run "$n" osslsigncode tiny.exe signed-env.exe; then
    if grep -q "^printf '%s' \"\$P11E_TEST_PIN\" | osslsigncode sign" \
        "$n.osslsigncode.sh" &&
        verify_pe "$SCM_SIM_ROOTS" signed-env.exe >/dev/null 2>&1; then
        ok "$n/pin_env_signs_and_verifies"
    else
        bad "$n/pin_env_signs_and_verifies" "recipe:"
        show "$n.osslsigncode.sh"
    fi
fi

# Without a PIN option the recipe lets osslsigncode ask: no -readpass.
if recipe_make "$n" osslsigncode --dir "$n.files-ask"; then
    if grep -q -- '-readpass' "$n.osslsigncode.sh"; then
        bad "$n/no_pin_option_no_readpass" "recipe:"
        show "$n.osslsigncode.sh"
    else
        ok "$n/no_pin_option_no_readpass"
    fi
fi

# Bad input: an unknown tool is a usage error naming the known ones; a
# file in --dir that holds something else is replaced only with --yes.
"$P11ENROLL" sign-setup signtool --token "$FX_URI" --module "$FX_MODULE" \
    >bad-tool.out 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'osslsigncode, jarsigner' bad-tool.out; then
    ok /sign_setup/unknown_tool_is_usage_error
else
    bad /sign_setup/unknown_tool_is_usage_error "exit $rc:"
    show bad-tool.out
fi
root_file=$(sed -n "s/.*-CAfile '\([^']*\)'.*/\1/p" "$n.osslsigncode.sh" | head -n 1)
echo 'my own notes' >"$root_file"
"$P11ENROLL" sign-setup osslsigncode --token "$FX_URI" --module "$FX_MODULE" \
    --label "$n" --dir "$n.files-ask" >kept.out 2>&1
rc=$?
if [ "$rc" -eq 10 ] &&
    grep -q 'exists with other content; --yes replaces it' kept.out &&
    grep -q 'my own notes' "$root_file"; then
    ok /sign_setup/other_file_kept_without_yes
else
    bad /sign_setup/other_file_kept_without_yes "exit $rc:"
    show kept.out
fi
if recipe_make "$n" osslsigncode --dir "$n.files-ask" --yes &&
    grep -q 'BEGIN CERTIFICATE' "$root_file"; then
    ok /sign_setup/yes_replaces_it
else
    bad /sign_setup/yes_replaces_it "$root_file not replaced"
fi
recipe_end
