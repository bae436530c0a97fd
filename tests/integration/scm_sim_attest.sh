#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim's Key Attestation profile: a request needs hsmType and an
# attestation that certifies the CSR's key and chains to a configured
# manufacturer root; REST and form alike.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$here/scm_sim_lib.sh"
scm_sim_start || exit 1
# shellcheck source=tests/integration/scm_sim_check_lib.sh
. "$here/scm_sim_check_lib.sh"

# --- a test manufacturer: root, f9-style intermediate, attestations ----------
ec() { # OUT.key
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1" 2>/dev/null
}
issue() { # KEY SUBJ CA CA-KEY OUT (a certificate for KEY's public key)
    openssl req -new -key "$1" -subj "$2" -out "$W/tmp.csr" 2>/dev/null
    openssl x509 -req -in "$W/tmp.csr" -CA "$3" -CAkey "$4" -days 3650 \
        -set_serial "$RANDOM" -out "$5" 2>/dev/null
}
root() { # NAME
    ec "$W/$1.key"
    openssl req -x509 -new -key "$W/$1.key" -subj "/CN=$1" -days 3650 \
        -addext basicConstraints=critical,CA:TRUE -out "$W/$1.pem" 2>/dev/null
}
root mroot
root rogue
ec "$W/f9.key"
issue "$W/f9.key" "/CN=Test PIV Attestation f9" "$W/mroot.pem" \
    "$W/mroot.key" "$W/f9.pem"
ec "$W/rf9.key"
issue "$W/rf9.key" "/CN=Test PIV Attestation f9" "$W/rogue.pem" \
    "$W/rogue.key" "$W/rf9.pem"

make_csr "$W/k" ec:P-256
make_csr "$W/other" ec:P-256
issue "$W/k.key" "/CN=Test PIV Attestation 9c" "$W/f9.pem" "$W/f9.key" \
    "$W/att.pem"
issue "$W/other.key" "/CN=Test PIV Attestation 9c" "$W/f9.pem" \
    "$W/f9.key" "$W/att-other.pem"
issue "$W/k.key" "/CN=Test PIV Attestation 9c" "$W/rf9.pem" "$W/rf9.key" \
    "$W/att-rogue.pem"
good=$(cat "$W/att.pem" "$W/f9.pem" | base64 -w0)
other=$(cat "$W/att-other.pem" "$W/f9.pem" | base64 -w0)
rogue=$(cat "$W/att-rogue.pem" "$W/rf9.pem" | base64 -w0)
p7=$(openssl crl2pkcs7 -nocrl -certfile "$W/f9.pem" -certfile "$W/att.pem" \
    -outform DER | base64 -w0)

cat >"$W/ka.json" <<JSON
{"profiles": [{"name": "Sectigo OV Code Signing (Key Attestation)",
               "terms": [365], "keyAttestation": true},
              {"name": "Plain", "terms": [365]}],
 "forms": [{"uri": "ka", "profile": "Sectigo OV Code Signing (Key Attestation)",
            "requiredFields": ["csr"]}],
 "invitations": [{"email": "dev@example.org", "form": "ka"}],
 "restAccounts": [{"clientId": "ka", "clientSecret": "ka-secret-0123456789",
                   "profile": "Sectigo OV Code Signing (Key Attestation)",
                   "term": 365},
                  {"clientId": "plain", "clientSecret": "plain-0123456789",
                   "profile": "Plain", "term": 365}],
 "manufacturerRoots": ["$W/mroot.pem"]}
JSON
scm_sim_restart "$W/ka.json"

# --- REST -----------------------------------------------------------------------
api=/api/v1/certificates
TOK=$(scm_sim_token ka ka-secret-0123456789)
enroll() { # EXTRA-JSON
    printf '{"csr":"%s","email":"dev@example.org"%s}' "$(cat "$W/k.b64")" \
        "$1" >"$W/e.json"
    call POST "$api" "@$W/e.json"
}
enroll ''
t /attest/required eq "$STATUS" 400
t /attest/required_text has "$BODY" "required by the Key Attestation profile"
enroll ",\"hsmType\":\"YUBIKEY\""
t /attest/required_with_hsm_type has "$BODY" '"code":-7'
enroll ",\"attestation\":\"$good\""
t /attest/hsm_type_required has "$BODY" '"code":-7'
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"$good\""
t /attest/yubikey_pem_ok eq "$STATUS" 200
call GET "$api/$(json certId)/status"
t /attest/issued has "$BODY" '"status":"Issued"'
enroll ",\"hsmType\":\"LUNA\",\"attestation\":\"$p7\""
t /attest/pkcs7_der_ok eq "$STATUS" 200
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"$other\""
t /attest/other_key eq "$STATUS" 400
t /attest/other_key_text has "$BODY" "attested key differs"
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"$rogue\""
t /attest/rogue_root eq "$STATUS" 400
t /attest/rogue_root_text has "$BODY" "does not chain to a configured"
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"$(base64 -w0 "$W/att.pem")\""
t /attest/missing_intermediate has "$BODY" "does not chain"
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"bm90IGEgY2VydA==\""
t /attest/garbage eq "$STATUS" 400
t /attest/garbage_code has "$BODY" '"code":-196'
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"***\""
t /attest/not_base64 has "$BODY" '"code":-196'
TOK=$(scm_sim_token plain plain-0123456789)
enroll ''
t /attest/plain_profile_needs_none eq "$STATUS" 200

# --- form -----------------------------------------------------------------------
form=/customer/demo/cs/ka
TOK=
call GET "$form/config"
t /attest/form_config_says_so has "$BODY" '"keyAttestation":true'
call POST "$form/auth/email" '{"email":"dev@example.org"}'
call POST "$form/auth/verify" \
    "{\"email\":\"dev@example.org\",\"code\":\"$(scm_sim_otp dev@example.org)\"}"
TOK=$(json session)
printf '{"csr":"%s","eulaAccepted":true}' "$(cat "$W/k.b64")" >"$W/f.json"
call POST "$form/enroll" "@$W/f.json"
t /attest/form_required eq "$STATUS" 400
printf '{"csr":"%s","eulaAccepted":true,"hsmType":"YUBIKEY","attestation":"%s"}' \
    "$(cat "$W/k.b64")" "$good" >"$W/f.json"
call POST "$form/enroll" "@$W/f.json"
t /attest/form_ok eq "$STATUS" 200

# --- config -----------------------------------------------------------------------
printf '{"manufacturerRoots": ["%s/k.b64"]}' "$W" >"$W/bad.json"
out=$("$SCM_SIM" --state-dir "$W/y" --config "$W/bad.json" 2>&1)
t /attest/bad_root_refused has "$out" "manufacturerRoots[0]: no PEM"
printf '{"manufacturerRoots": ["-----BEGIN CERTIFICATE-----"]}' >"$W/bad.json"
out=$("$SCM_SIM" --state-dir "$W/y" --config "$W/bad.json" 2>&1)
t /attest/bad_inline_root_refused has "$out" "manufacturerRoots[0]: no PEM"

# a root file that appears after the start is read when needed
sed "s|$W/mroot.pem|$W/later.pem|" "$W/ka.json" >"$W/later.json"
scm_sim_restart "$W/later.json"
t /attest/missing_root_file_allowed_at_start [ -n "$SCM_SIM_READY" ]
TOK=$(scm_sim_token ka ka-secret-0123456789)
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"$good\""
t /attest/no_root_yet eq "$STATUS" 400
cp "$W/mroot.pem" "$W/later.pem"
enroll ",\"hsmType\":\"YUBIKEY\",\"attestation\":\"$good\""
t /attest/root_file_read_when_needed eq "$STATUS" 200

finish
