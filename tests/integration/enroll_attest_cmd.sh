#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# p11enroll enroll --attestation-cmd at a Key Attestation profile of
# scm-sim: the command (standing in for a vendor tool such as Luna's
# `cmu getpkc`) is told which key it is for, and its output is sent as the
# request's attestation; the CA checks it chains to the manufacturer root
# and attests the CSR's key.  A failing or silent command orders nothing.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup
passed=0

# A test "HSM manufacturer" CA, as a vendor's attestation root.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$EN/mfr.key" -out "$EN/mfr.pem" -days 30 \
    -subj "/CN=Test HSM Manufacturer Root" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null

en_ka_sim "$EN/mfr.pem"

# The vendor tool: reads the key's public half from the token by the ID it
# is given, and certifies it with the manufacturer CA.
# The command gets only PATH, HOME, LANG and the P11ENROLL_* facts: like a
# vendor tool's own settings, the token's configuration is set here.
cat >"$EN/attest.sh" <<SH
#!/bin/sh
set -e
export SOFTHSM2_CONF="$SOFTHSM2_CONF"
echo "\$P11ENROLL_KEY_URI" >"$EN/attest.uri"
echo "\$P11ENROLL_TOKEN_URI" >"$EN/attest.token"
pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --read-object \\
    --type pubkey --id "\$P11ENROLL_KEY_ID" -o "$EN/attest.pub.der" >/dev/null 2>&1
openssl pkey -pubin -inform DER -in "$EN/attest.pub.der" -out "$EN/attest.pub.pem"
openssl x509 -new -force_pubkey "$EN/attest.pub.pem" -subj "/CN=attested key" \\
    -CA "$EN/mfr.pem" -CAkey "$EN/mfr.key" -days 7 2>/dev/null
SH
chmod +x "$EN/attest.sh"

ka() {
    local common
    mapfile -t common < <(en_common)
    "$P11ENROLL" enroll "${common[@]}" --endpoint "$SCM_SIM_URL" \
        --client-id ka --client-secret-file "$EN/ka.secret" \
        --email dev@example.org --hsm-type LUNA "$@"
}

# a command that fails: one sentence, exit 7, nothing ordered
en_run fails ka --attestation-cmd "echo no HSM here >&2; exit 3"
en_expect_rc 7
en_expect_err "The attestation command failed (exit status 3)"
en_expect_orders 0
passed=$((passed + 1))

# a command that prints nothing
en_run silent ka --new --attestation-cmd "true"
en_expect_rc 7
en_expect_err "The attestation command printed nothing"
en_expect_orders 0
passed=$((passed + 1))

# both ways at once is a usage error
en_run both ka --new --attestation "$EN/mfr.pem" --attestation-cmd true
en_expect_rc 2
en_expect_err "Give --attestation or --attestation-cmd, not both."
passed=$((passed + 1))

# the real thing: accepted by the CA, issued, on the token
en_run good ka --new --attestation-cmd "$EN/attest.sh"
en_expect_rc 0
en_expect_err "Running the attestation command."
grep -q 'type=private' "$EN/attest.uri" || en_fail "the command got no key URI"
grep -q 'token=p11e-test' "$EN/attest.token" ||
    en_fail "the command got no token URI"
grep -q '"hsmType": *"LUNA"' "$SCM_SIM_STATE"/requests/*.json ||
    en_fail "the request does not say LUNA"
en_expect_orders 1
passed=$((passed + 1))

# an attestation of another key is refused by the CA, with its reason
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$EN/other.key"
openssl pkey -in "$EN/other.key" -pubout -out "$EN/other.pub"
openssl x509 -new -force_pubkey "$EN/other.pub" -subj "/CN=other key" \
    -CA "$EN/mfr.pem" -CAkey "$EN/mfr.key" -days 7 -out "$EN/other.pem" \
    2>/dev/null
en_run other ka --new --attestation-cmd "cat '$EN/other.pem'"
en_expect_rc 4
en_expect_err "attestation"
en_expect_orders 1
passed=$((passed + 1))

echo "$passed passed, 0 failed"
