#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# p11-kit's trust module ("System Trust": CA certificates, read-only, no
# keys) is listed by `tokens`, marked as such, and is never a candidate for
# a command that needs keys: alone it gives a clear sentence, and beside a
# SoftHSM token among p11-kit's registered modules "pkcs11:" picks the
# SoftHSM token.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
TRUST=
for m in /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so \
    /usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-trust.so \
    /usr/lib/pkcs11/p11-kit-trust.so; do
    [ -r "$m" ] && TRUST=$m && break
done
if [ -z "$TRUST" ]; then
    [ -n "${P11E_NO_SKIP:-}" ] && {
        echo "p11-kit-trust.so is missing (p11-kit-modules)" >&2
        exit 1
    }
    echo "skipped: p11-kit-trust.so is not installed" >&2
    exit 77
fi
W=$FX_DIR/work
mkdir -p "$W"
cd "$W" || exit 1
printf '%s\n' "$FX_USER_PIN" >pin

check /trust/listed_and_marked 0 "p11-kit trust store, CA certificates only, never used for keys" \
    -- "$P11ENROLL" tokens --module "$TRUST"
if "$P11ENROLL" tokens --module "$TRUST" --json 2>/dev/null |
    python3 -c 'import json,sys; t=json.load(sys.stdin)["result"]["modules"][0]["tokens"]; sys.exit(0 if t and all(x["trust_store"] for x in t) else 1)'; then
    ok /trust/json_marks_it
else
    bad /trust/json_marks_it "$("$P11ENROLL" tokens --module "$TRUST" --json 2>&1)"
fi
check /trust/never_a_candidate 7 "No token that can hold keys is present; the only one is p11-kit's trust store" \
    -- "$P11ENROLL" csr --module "$TRUST" --token pkcs11: --pin-file pin \
    --key ec-p256 --subject /CN=x --out x.csr
# every registered module (the trust module among them) and the test's
# SoftHSM token: "pkcs11:" means the one token that can hold keys
if p11-kit list-modules 2>/dev/null | grep -q 'p11-kit-trust' &&
    p11-kit list-modules 2>/dev/null | grep -q 'softhsm'; then
    # (tpm2-pkcs11, registered where it is installed, fails to initialise
    # without a TPM and leaks a little; p11-kit unloads it at once, so
    # LeakSanitizer cannot tell whose the leak is: leaks are checked in
    # every other run of this suite)
    ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
        check /trust/registered_modules_pick_the_key_token 0 \
        "Wrote the request" \
        -- "$P11ENROLL" csr --token pkcs11: --pin-file pin --key ec-p256 \
        --subject /CN=x --out x.csr
else
    echo "registered-modules case left out: p11-kit does not register both"
fi
check_done
