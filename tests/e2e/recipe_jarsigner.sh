#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: a SoftHSM token enrolled against scm-sim, then
# `p11enroll sign-setup jarsigner` (SunPKCS11 config, -storetype PKCS11,
# the alias, -certchain) and the script it printed, run as it is, signs a
# small JAR.  `jarsigner -verify -strict` with scm-sim's roots as the only
# trusted certificates shows the signer's chain up to scm-sim's root, and
# fails when only another root is trusted.  The PIN comes from a variable.
# Then, as on a token that holds only the leaf, the intermediate is
# deleted from the token: sign-setup completes the chain from the journal,
# and -certchain still gives jarsigner the whole chain.
set -u
: "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/e2e/recipe_lib.sh
. "$P11E_SOURCE_DIR/tests/e2e/recipe_lib.sh"
recipe_need jarsigner keytool jar openssl p11tool csplit

recipe_begin
e2e_other_root "$W" || exit 1
mkdir -p src
echo 'hello from p11enroll' >src/hello.txt
jar cf small.jar -C src hello.txt || exit 1

# truststore FILE PEM...: a PKCS#12 keystore of trusted certificates only
# (its password guards nothing secret).
truststore() {
    local ks=$1 i=0 pem
    shift
    for pem in "$@"; do
        i=$((i + 1))
        keytool -importcert -noprompt -alias "root$i" -file "$pem" \
            -keystore "$ks" -storetype PKCS12 -storepass p11e-trust \
            >/dev/null 2>&1 || return 1
    done
}
# scm-sim's roots file holds several; keytool takes one a file
csplit -s -z -f scmroot- "$SCM_SIM_ROOTS" '/-----BEGIN CERTIFICATE-----/' '{*}'
truststore scm-trust.p12 scmroot-* || exit 1
truststore other-trust.p12 other-root.pem || exit 1

n=jar-ec
export P11E_TEST_PIN=$FX_USER_PIN
if recipe_enroll "$n" ec-p256 &&
    recipe_make "$n" jarsigner --pin-env P11E_TEST_PIN; then
    r=$n.jarsigner.sh
    cfg=$(sed -n "s/.*-providerArg '\([^']*\)'.*/\1/p" "$r" | head -n 1)
    if grep -q -- '-storetype PKCS11' "$r" &&
        grep -q -- '-storepass:env P11E_TEST_PIN' "$r" &&
        grep -q -- "-certchain '" "$r" &&
        grep -q "\"\$IN\" '$n'\$" "$r" &&
        grep -q "^library = $FX_MODULE\$" "$cfg" &&
        grep -q '^slot = [0-9][0-9]*$' "$cfg"; then
        ok "$n/recipe_config_storetype_alias_certchain"
    else
        bad "$n/recipe_config_storetype_alias_certchain" "recipe and config:"
        show "$r"
        show "$cfg"
    fi
    recipe_no_pin "$r" "$n".files/*

    if recipe_run "$n" jarsigner small.jar signed.jar; then
        jarsigner -verify -strict -verbose -certs -keystore scm-trust.p12 \
            -storepass p11e-trust signed.jar >verify.out 2>&1
        rc=$?
        # the signer, its CA and scm-sim's root, marked trusted
        if [ "$rc" -eq 0 ] && grep -q '^jar verified' verify.out &&
            grep -q 'X.509, CN=Dana Developer' verify.out &&
            grep -q 'X.509, CN=scm-sim EC Code Signing CA' verify.out &&
            grep -A2 'X.509, CN=scm-sim EC Root CA' verify.out |
            grep -q 'trusted certificate'; then
            ok "$n/verify_strict_chain_to_scm_sim_root"
        else
            bad "$n/verify_strict_chain_to_scm_sim_root" "exit $rc:"
            show verify.out
        fi
        jarsigner -verify -strict -keystore other-trust.p12 \
            -storepass p11e-trust signed.jar >verify-other.out 2>&1
        rc=$?
        if [ "$rc" -ne 0 ] && grep -q 'chain is invalid' verify-other.out
        then
            ok "$n/verify_strict_other_root_fails"
        else
            bad "$n/verify_strict_other_root_fails" "exit $rc:"
            show verify-other.out
        fi
    fi
fi

# verify_chain NAME JAR: -strict, scm-sim's roots trusted, the whole chain
verify_chain() {
    if jarsigner -verify -strict -verbose -certs -keystore scm-trust.p12 \
        -storepass p11e-trust "$2" >"$2.verify.out" 2>&1 &&
        grep -q 'X.509, CN=scm-sim EC Code Signing CA' "$2.verify.out" &&
        grep -A2 'X.509, CN=scm-sim EC Root CA' \
        "$2.verify.out" | grep -q 'trusted certificate'; then
        ok "$1"
    else
        bad "$1" "jarsigner -verify:"
        show "$2.verify.out"
    fi
}
mid="scm-sim EC Code Signing CA"
cas() { # how many certificates labelled $mid the token holds
    "$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" 2>/dev/null |
        grep -c "^  Certificate .*\"$mid\""
}
before=$(cas)
GNUTLS_PIN=$FX_USER_PIN p11tool --provider "$FX_MODULE" --login --batch \
    --delete "$FX_URI;object=${mid// /%20};type=cert" >del.out 2>&1
if [ "$before" -ne 1 ] || [ "$(cas)" -ne 0 ]; then
    bad "$n/intermediate_deleted" "p11tool:"
    show del.out
elif recipe_make "$n" jarsigner --pin-env P11E_TEST_PIN \
    --dir "$n.files-leaf-only" --state-dir "$W/state" &&
    recipe_run "$n" jarsigner small.jar signed-leaf-only.jar; then
    verify_chain "$n/leaf_only_token_certchain_from_journal" \
        signed-leaf-only.jar
fi
recipe_end
