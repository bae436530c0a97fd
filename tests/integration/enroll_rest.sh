#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# p11enroll enroll against scm-sim's REST endpoint over HTTPS, SoftHSM token:
# every key type, --json, pending then issued, --no-wait + resume, wrong
# client secret, an untrusted server, config files.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

# 1. EC P-256, the default, with files written
en_run ec256 en_rest --out-cert "$EN/leaf.pem" --out-chain "$EN/chain.pem"
en_expect_rc 0
en_expect_err 'Installed "CN=Dana Developer,OU=Engineering,O=Example Org"'
en_expect_token 1 1 3
en_expect_orders 1
grep -q 'BEGIN CERTIFICATE' "$EN/leaf.pem" || en_fail "no leaf file"
[ "$(grep -c 'BEGIN CERTIFICATE' "$EN/chain.pem")" -eq 2 ] ||
    en_fail "chain file"
openssl x509 -in "$EN/leaf.pem" -noout -ext extendedKeyUsage |
    grep -q 'Code Signing' || en_fail "no codeSigning EKU"
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = installed ] || en_fail "journal not installed"
# a rerun finds nothing unfinished and makes a new enrollment
grep -q '"clientSecretSource"' "$EN_STATE/$id.json" ||
    en_fail "secret source not recorded"
if grep -q p11e-secret-0123456789 "$EN_STATE"/*.json; then
    en_fail "the client secret is in the journal"
fi

# 2. the other key types, --json on stdout
for kt in ec-p384 rsa-3072 rsa-4096; do
    en_run "kt-$kt" en_rest --new --key-type "$kt" --label "k-$kt" --json
    en_expect_rc 0
    grep -q '"status": "installed"' "$EN/kt-$kt.out" ||
        en_fail "$kt: --json lacks installed"
    grep -q '"serial":' "$EN/kt-$kt.out" || en_fail "$kt: --json lacks serial"
    if ! grep -q '"schema": "p11enroll/2"' "$EN/kt-$kt.out" ||
        ! grep -q '"error": null' "$EN/kt-$kt.out"; then
        en_fail "$kt: --json is not in the p11enroll/2 envelope"
    fi
done
en_expect_token 4 4 8
en_expect_orders 4

# 3. pending, then issued while waiting (progress lines)
scm_sim_delay 3
en_run pending en_rest --new --label pend
en_expect_rc 0
en_expect_err "Request 1005: Applied"
en_expect_err "Issued after"
en_expect_orders 5

# 4. --no-wait: exit 3 at once, then resume finishes the same order
scm_sim_delay 2
en_run nowait en_rest --new --label nowait --no-wait
en_expect_rc 3
en_expect_err "p11enroll resume"
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = submitted ] || en_fail "not submitted"
sleep 2
en_run resume en_resume "$id"
en_expect_rc 0
en_expect_orders 6
en_expect_token 6 6 10
scm_sim_delay 0

# 5. wrong client secret: refused before any key is made
printf '%s' wrong-secret >"$EN/bad"
en_run badsecret en_rest --new --client-secret-file "$EN/bad" --label bad
# (the last --client-secret-* wins? no: two sources are a usage error)
en_expect_rc 2
en_expect_err "one way only"
common=()
mapfile -t common < <(en_common)
en_run badsecret2 "$P11ENROLL" enroll "${common[@]}" --new \
    --endpoint "$SCM_SIM_URL" --client-id p11e-client \
    --client-secret-file "$EN/bad" --email dev@example.org --label bad
en_expect_rc 6
en_expect_err 'refused client ID "p11e-client": invalid_client'
en_expect_token 6 6 10
en_expect_orders 6
# A new enrollment "bad" with this PIN file, client secret file and --trust
# file (en_rest fixes all three).
rest_with() { # PIN-FILE SECRET-FILE TRUST
    "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
        --pin-file "$1" --ca-file "$SCM_SIM_CA_FILE" --trust "$3" \
        --state-dir "$EN_STATE" --new --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --client-secret-file "$2" \
        --email dev@example.org --label bad
}
# both would refuse, the CA and the token: the token and its PIN are
# checked first, so a wrong PIN costs nothing at the CA
printf '0000\n' >"$EN/badpin"
en_run badboth rest_with "$EN/badpin" "$EN/bad" "$SCM_SIM_ROOTS"
en_expect_rc 8
en_expect_err 'PIN'
if grep -q 'invalid_client' "$EN/badboth.err"; then
    en_fail "badboth: the CA was asked although the PIN was refused"
fi
en_expect_token 6 6 10
# a PIN the person types (here on the PIN pad, through the mock module in
# front of SoftHSM) is asked for before the CA: with a wrong client secret
# the login happened, the CA refused, and no key was made
if [ -n "${P11E_MOCK:-}" ] && [ -r "$P11E_MOCK" ]; then
    : >"$EN/pinpad.log"
    P11E_MOCK_TOKEN_FLAGS=CKF_PROTECTED_AUTHENTICATION_PATH \
        P11E_MOCK_PINPAD_PIN=1234 P11E_MOCK_LOG=$EN/pinpad.log \
        en_run pinpad "$P11ENROLL" enroll --module "$P11E_MOCK" \
        --token "$FX_URI" --pinpad --ca-file "$SCM_SIM_CA_FILE" \
        --trust "$SCM_SIM_ROOTS" --state-dir "$EN_STATE" --new \
        --endpoint "$SCM_SIM_URL" --client-id p11e-client \
        --client-secret-file "$EN/bad" --email dev@example.org --label bad
    en_expect_rc 6
    en_expect_err 'invalid_client'
    grep -q '^C_Login' "$EN/pinpad.log" ||
        en_fail "the PIN pad was not asked before the CA"
    if grep -q '^C_GenerateKeyPair' "$EN/pinpad.log"; then
        en_fail "a key was made although the CA refused the login"
    fi
    en_expect_token 6 6 10
else
    en_fail "P11E_MOCK is not set: the mock module was not built"
fi
# a --trust file that cannot be read: refused before any key is made, not
# after the certificate was ordered
en_run badtrust rest_with "$EN/pin" "$EN/secret" "$EN/no-such-roots.pem"
en_expect_rc 10
en_expect_err 'no-such-roots.pem": No such file'
en_expect_token 6 6 10
en_expect_orders 6
# the token refuses the PIN and the --trust file cannot be read either: the
# PIN's refusal is the one reported (the token comes first)
en_run badpintrust rest_with "$EN/badpin" "$EN/secret" "$EN/no-such-roots.pem"
en_expect_rc 8
en_expect_err 'PIN'
if grep -q 'no-such-roots' "$EN/badpintrust.err"; then
    en_fail "badpintrust: the roots' failure hid the PIN's"
fi
en_expect_token 6 6 10
en_expect_orders 6

# 6. a server whose certificate is not trusted (no --ca-file)
en_run untrusted "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file "$EN/pin" --state-dir "$EN_STATE" --new \
    --endpoint "$SCM_SIM_URL" --client-id p11e-client \
    --client-secret-file "$EN/secret" --email dev@example.org
en_expect_rc 5
en_expect_err "is not trusted"
en_expect_token 6 6 10

# 7. the secret never on argv: an environment variable and a config file
cat >"$EN/conf/10-scm.conf" <<CONF
# the REST account of the build server
endpoint = $SCM_SIM_URL
client-id = p11e-client
client-secret = env:P11E_TEST_SECRET
email = dev@example.org
ca-file = $SCM_SIM_CA_FILE
trust = $SCM_SIM_ROOTS
CONF
P11E_TEST_SECRET=p11e-secret-0123456789 en_run conf "$P11ENROLL" enroll \
    --module "$FX_MODULE" --token "$FX_URI" --pin-file "$EN/pin" \
    --state-dir "$EN_STATE" --new --label conf
en_expect_rc 0
en_expect_orders 7
# the command line wins over the file
en_run confover "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file "$EN/pin" --state-dir "$EN_STATE" --new --label conf2 \
    --client-secret-file "$EN/bad"
en_expect_rc 6
en_expect_orders 7
# the secret from a file descriptor (not remembered for resume)
en_run fdsecret "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file "$EN/pin" --state-dir "$EN_STATE" --new --label fd \
    --client-secret-fd 3 3<"$EN/secret"
en_expect_rc 0
en_expect_orders 8
id=$(en_journal_id)
if grep -q '"clientSecretSource": "fd:' "$EN_STATE/$id.json"; then
    en_fail "an fd source was recorded"
fi
echo 'client-secret = p11e-secret-0123456789' >"$EN/bad.conf"
en_run confbad "$P11ENROLL" enroll --config "$EN/bad.conf"
en_expect_rc 2
en_expect_err "never itself"
echo 'pin = 1234' >"$EN/bad.conf"
en_run confpin "$P11ENROLL" enroll --config "$EN/bad.conf"
en_expect_rc 2
en_expect_err "a PIN never stands in a config file"

# 8. a key made before (p11enroll csr) enrolled with --key-id; debug traces
# of the HTTP calls never show the client secret or a bearer token, and
# with "time" each starts with the milliseconds since start
"$P11ENROLL" csr --module "$FX_MODULE" --token "$FX_URI" --pin-file "$EN/pin" \
    --label reused --cn reused --out "$EN/reused.csr" >"$EN/reused.uri"
kid=$(sed -n 's/.*;id=\([^;]*\);.*/\1/p' "$EN/reused.uri" | tr -d '%')
[ -n "$kid" ] || en_fail "no key id from p11enroll csr"
P11ENROLL_DEBUG=http,time en_run reuse en_rest --new --key-id "$kid"
en_expect_rc 0
grep -Eq '^ *[0-9]+\.[0-9]{3} p11enroll: debug: > POST ' "$EN/reuse.err" ||
    en_fail "P11ENROLL_DEBUG=time: no time stamp in front of the traces"
en_expect_err "Using key $kid"
en_expect_err "(Authorization: ***)"
en_expect_err "body: *** ("
if grep -q -e p11e-secret-0123456789 -e 'Bearer [0-9a-f]' "$EN/reuse.err"; then
    en_fail "a secret in the debug trace"
fi
en_expect_token 9 9 13
en_expect_orders 9

# 9. status lists every enrollment, --json too
"$P11ENROLL" status --state-dir "$EN_STATE" >"$EN/status.out"
# (the runs refused before a key was chosen left no record)
if [ "$(grep -c installed "$EN/status.out")" -ne 9 ] ||
    [ "$(wc -l <"$EN/status.out")" -ne 9 ]; then
    cat "$EN/status.out"
    en_fail "status does not list exactly 9 installed enrollments"
fi
"$P11ENROLL" status --state-dir "$EN_STATE" --json | grep -q '"enrollments"' ||
    en_fail "status --json"

# 10. relative file names are recorded as absolute ones: a resume from
# another directory, with no PIN or secret option, still finds the files
mkdir -p "$EN/rel"
cp "$EN/pin" "$EN/secret" "$EN/rel/"
rm -f "$EN/conf/10-scm.conf" # section 7's endpoint would count as a change
scm_sim_delay 2
in_dir() { (cd "$1" && shift && "$@"); }
en_run relative in_dir "$EN/rel" \
    "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file pin --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --state-dir "$EN_STATE" --poll-interval 1 --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file secret \
    --email dev@example.org --new --label relative --no-wait \
    --out-cert relative.pem
en_expect_rc 3
id=$(en_journal_id)
sleep 2
en_run resume_elsewhere in_dir / "$P11ENROLL" resume \
    --state-dir "$EN_STATE" --poll-interval 1 "$id"
en_expect_rc 0
[ -s "$EN/rel/relative.pem" ] || en_fail "--out-cert relative.pem not written"
en_expect_orders 10
scm_sim_delay 0
echo "enroll_rest: all passed"
