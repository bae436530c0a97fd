#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `p11enroll tokens` and `p11enroll list` on a SoftHSM token: URIs, flags,
# keys and certificates with their match, --json, PIN sources, errors.
set -u
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
W=$FX_DIR
T="pkcs11-tool --module $FX_MODULE --token-label p11e-test"
echo "$FX_USER_PIN" >"$W/pin"

# tokens: text and JSON
"$P11ENROLL" tokens --module "$FX_MODULE" >"$W/tokens.txt" 2>&1
expect "/cli/tokens/exit_0" test $? -eq 0
expect "/cli/tokens/shows_uri" grep -q 'URI:   pkcs11:.*token=p11e-test' "$W/tokens.txt"
expect "/cli/tokens/shows_flags" grep -q 'Flags: .*login-required' "$W/tokens.txt"
"$P11ENROLL" tokens --module "$FX_MODULE" --json >"$W/tokens.json"
expect "/cli/tokens/json" python3 -c '
import json,sys
e=json.load(open(sys.argv[1]))
assert e["schema"]=="p11enroll/2" and e["command"]=="tokens" and e["error"] is None, e
d=e["result"]
t=[t for m in d["modules"] for t in m["tokens"] if t["label"]=="p11e-test"]
assert len(t)==1 and "login-required" in t[0]["flags"], t
assert t[0]["uri"].startswith("pkcs11:")' "$W/tokens.json"

# a key with a certificate, a bare key, a chain certificate
$T --login --pin "$FX_USER_PIN" --keypairgen --key-type EC:prime256v1 \
    --id 01 --label signer >/dev/null 2>&1
$T --login --pin "$FX_USER_PIN" --keypairgen --key-type EC:secp384r1 \
    --id 02 --label bare >/dev/null 2>&1
$T --read-object --type pubkey --id 01 -o "$W/pub.der" >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$W/ca.key" -out "$W/ca.crt" -days 30 -subj "/CN=Test CA" \
    2>/dev/null
openssl x509 -new -force_pubkey "$W/pub.der" -subj "/CN=Dana Developer" \
    -CA "$W/ca.crt" -CAkey "$W/ca.key" -days 7 -out "$W/leaf.crt" 2>/dev/null
$T --login --pin "$FX_USER_PIN" --write-object "$W/leaf.crt" --type cert \
    --id 01 --label signer >/dev/null 2>&1
$T --login --pin "$FX_USER_PIN" --write-object "$W/ca.crt" --type cert \
    --id a1 --label "Test CA" >/dev/null 2>&1

"$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" \
    --pin-file "$W/pin" >"$W/list.txt" 2>&1
expect "/cli/list/exit_0" test $? -eq 0
expect "/cli/list/key_with_cert" grep -q 'Private key  ID 01  "signer"  EC P-256' "$W/list.txt"
expect "/cli/list/bare_key" grep -q 'Private key  ID 02  "bare"  EC P-384' "$W/list.txt"
expect "/cli/list/subject" grep -q 'subject: CN=Dana Developer' "$W/list.txt"
expect "/cli/list/issuer" grep -q 'issuer:  CN=Test CA' "$W/list.txt"
expect "/cli/list/expiry" grep -q 'expires: 20[0-9][0-9]-' "$W/list.txt"
expect "/cli/list/uri" grep -q 'pkcs11:.*id=%01;object=signer;type=private' "$W/list.txt"

PIN_VAR=$FX_USER_PIN "$P11ENROLL" list --token "$FX_URI" \
    --module "$FX_MODULE" --pin-env PIN_VAR --json >"$W/list.json"
expect "/cli/list/json" python3 -c '
import json,sys
e=json.load(open(sys.argv[1]))
assert e["schema"]=="p11enroll/2" and e["command"]=="list" and e["error"] is None, e
d=e["result"]
k={k["id"]:k for k in d["keys"]}
c={c["id"]:c for c in d["certificates"]}
assert k["01"]["has_certificate"] and not k["02"]["has_certificate"], k
assert k["01"]["key_type"]=="EC P-256" and k["02"]["key_type"]=="EC P-384"
assert c["01"]["matches_key"] and not c["a1"]["matches_key"], c
assert c["01"]["subject"]=="CN=Dana Developer" and c["01"]["issuer"]=="CN=Test CA"
assert d["logged_in"] and d["token"]["label"]=="p11e-test"' "$W/list.json"

# PIN from a file descriptor and from the URI's pin-source
"$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" --pin-fd 3 \
    3<"$W/pin" >"$W/fd.txt" 2>&1
expect "/cli/list/pin_fd" grep -q '"bare"' "$W/fd.txt"
"$P11ENROLL" list --token "$FX_URI?pin-source=file:$W/pin" \
    --module "$FX_MODULE" >"$W/src.txt" 2>&1
expect "/cli/list/uri_pin_source" grep -q '"bare"' "$W/src.txt"

# no PIN source and no terminal: public objects only
"$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" </dev/null \
    >"$W/pub.txt" 2>&1
expect "/cli/list/no_pin_public_only" test $? -eq 0
expect "/cli/list/no_pin_says_so" grep -q 'public objects only' "$W/pub.txt"
expect "/cli/list/no_pin_no_private" bash -c "! grep -q 'Private key' '$W/pub.txt'"

# errors: wrong PIN (exit 8), unknown token (7), unknown URI part (2)
echo 0000 >"$W/bad"
"$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" \
    --pin-file "$W/bad" >"$W/bad.txt" 2>&1
expect "/cli/list/wrong_pin_exit_8" test $? -eq 8
expect "/cli/list/wrong_pin_message" grep -q 'refused the PIN' "$W/bad.txt"
"$P11ENROLL" list --token "pkcs11:token=nope" --module "$FX_MODULE" \
    --pin-file "$W/pin" >"$W/nf.txt" 2>&1
expect "/cli/list/not_found_exit_7" test $? -eq 7
expect "/cli/list/not_found_lists" grep -q 'tokens present: pkcs11:.*token=p11e-test' "$W/nf.txt"
"$P11ENROLL" list --token "pkcs11:token=nope" --module "$FX_MODULE" \
    --pin-file "$W/pin" --json >"$W/nf.json" 2>/dev/null
expect "/cli/list/not_found_json_error" python3 -c '
import json,sys
e=json.load(open(sys.argv[1]))
assert e["schema"]=="p11enroll/2" and e["result"] is None, e
assert e["error"]["code"]==7 and e["error"]["name"]=="PE_E_TOKEN_NOT_FOUND", e
assert "tokens present" in e["error"]["message"], e' "$W/nf.json"
"$P11ENROLL" list --token "pkcs11:token=p11e-test;bogus=1" \
    --module "$FX_MODULE" >"$W/u.txt" 2>&1
expect "/cli/list/unknown_uri_part_exit_2" test $? -eq 2
"$P11ENROLL" list --pin-file "$W/pin" --pin-env X >"$W/two.txt" 2>&1
expect "/cli/list/two_pin_sources_exit_2" test $? -eq 2

# a person at a terminal: the PIN is asked for without echo.  It is typed
# once the prompt shows: the prompt flushes what was typed before it.
if command -v script >/dev/null; then
    : >"$W/tty.txt"
    { check_wait_for "$W/tty.txt" 'PIN for token' &&
        printf '%s\n' "$FX_USER_PIN"; } | timeout 30 script -qfec \
        "'$P11ENROLL' list --token '$FX_URI' --module '$FX_MODULE'" \
        "$W/tty.txt" >/dev/null 2>&1
    expect "/cli/list/prompt" grep -q 'PIN for token "p11e-test":' "$W/tty.txt"
    expect "/cli/list/prompt_logs_in" grep -q '"bare"' "$W/tty.txt"
    expect "/cli/list/prompt_no_echo" bash -c "! grep -q '$FX_USER_PIN' '$W/tty.txt'"
fi

# final PIN try (through the mock module): refused unattended, a person
# at the terminal is warned and may go on
if [ -n "${P11E_MOCK:-}" ]; then
    export P11E_MOCK_TARGET=$FX_MODULE
    P11E_MOCK_TOKEN_FLAGS=CKF_USER_PIN_FINAL_TRY "$P11ENROLL" list \
        --token "$FX_URI" --module "$P11E_MOCK" --pin-file "$W/pin" \
        >"$W/final.txt" 2>&1
    expect "/cli/list/final_try_unattended_exit_8" test $? -eq 8
    expect "/cli/list/final_try_message" grep -q 'only one more PIN try' "$W/final.txt"
    if command -v script >/dev/null; then
        : >"$W/final-tty.txt"
        { check_wait_for "$W/final-tty.txt" 'PIN for token' &&
            printf '%s\n' "$FX_USER_PIN"; } |
            P11E_MOCK_TOKEN_FLAGS=CKF_USER_PIN_FINAL_TRY timeout 30 \
                script -qfec "'$P11ENROLL' list --token '$FX_URI' \
            --module '$P11E_MOCK'" "$W/final-tty.txt" >/dev/null 2>&1
        expect "/cli/list/final_try_warns_a_person" grep -q 'ONE more PIN try' "$W/final-tty.txt"
        expect "/cli/list/final_try_person_goes_on" grep -q '"bare"' "$W/final-tty.txt"
    fi
fi

check_done
