#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim's REST enrollment endpoint: 401 discovery, OAuth token, enroll,
# status, every download format, the issued certificate, and rejections.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$here/scm_sim_lib.sh"
scm_sim_start || exit 1
# shellcheck source=tests/integration/scm_sim_check_lib.sh
. "$here/scm_sim_check_lib.sh"

api=/api/v1/certificates

# --- discovery and token ---------------------------------------------------
call GET "$api/1001/status"
t /rest/401_without_token eq "$STATUS" 401
t /rest/401_names_token_uri has "$HDRS" \
    "WWW-Authenticate: Bearer authorization_uri=\"$SCM_SIM_URL/oauth2/token\""
t /rest/401_error_shape has "$BODY" '"code":-3'

token_call() { # BODY [CONTENT-TYPE]
    STATUS=$(printf '%s' "$1" | scm_sim_curl -o "$W/body" -w '%{http_code}' \
        -H "Content-Type: ${2:-application/x-www-form-urlencoded}" \
        --data-binary @- "$SCM_SIM_URL/oauth2/token")
    BODY=$(cat "$W/body")
}
token_call 'grant_type=client_credentials&client_id=p11e-client&client_secret=p11e-secret-0123456789'
t /rest/token_ok eq "$STATUS" 200
t /rest/token_type has "$BODY" '"token_type":"Bearer"'
t /rest/token_expires has "$BODY" '"expires_in":3600'
TOK=$(json access_token)
t /rest/token_is_long eq "${#TOK}" 64
token_call 'grant_type=client_credentials&client_id=p11e-client&client_secret=wrong'
t /rest/token_wrong_secret eq "$STATUS" 401
t /rest/token_wrong_secret_error has "$BODY" '"error":"invalid_client"'
token_call 'grant_type=client_credentials&client_id=nobody&client_secret=x'
t /rest/token_unknown_client eq "$STATUS" 401
token_call 'grant_type=password&client_id=p11e-client&client_secret=p11e-secret-0123456789'
t /rest/token_wrong_grant eq "$STATUS" 400
t /rest/token_wrong_grant_error has "$BODY" unsupported_grant_type
token_call '{"grant_type":"client_credentials"}' application/json
t /rest/token_needs_form_body eq "$STATUS" 400
STATUS=$(scm_sim_curl -o "$W/body" -w '%{http_code}' \
    -u p11e-client:p11e-secret-0123456789 -d grant_type=client_credentials \
    "$SCM_SIM_URL/oauth2/token")
t /rest/token_basic_auth eq "$STATUS" 200

# --- enroll, status, download ----------------------------------------------
enroll() { # CSR-B64 [EXTRA-JSON]
    printf '{"csr":"%s","email":"dev@example.org","firstName":"Erika",'`
        `'"lastName":"Mustermann","title":"Engineer",'`
        `'"sanEmailAddress":"erika@example.org"%s}' "$1" "${2:-}" \
        >"$W/enroll.json"
    call POST "$api" "@$W/enroll.json"
}

check_leaf() { # NAME LEAF.pem KEY ISSUER-CN
    local n=$1 pem=$2 key=$3 text
    text=$(openssl x509 -in "$pem" -noout -text -nameopt RFC2253 2>&1)
    t "$n/subject" has "$text" \
        "Subject: CN=Erika Mustermann,OU=Engineering,O=Example Org"
    t "$n/issuer" has "$text" "CN=$4"
    t "$n/codesigning_eku" has "$text" "Code Signing"
    t "$n/ku_critical" has "$text" "X509v3 Key Usage: critical"
    t "$n/digital_signature" has "$text" "Digital Signature"
    t "$n/not_ca" has "$text" "CA:FALSE"
    t "$n/san_email" has "$text" "email:erika@example.org"
    t "$n/same_key" eq "$(openssl x509 -in "$pem" -noout -pubkey)" \
        "$(openssl pkey -in "$key" -pubout)"
    t "$n/term_365" has "$(openssl x509 -in "$pem" -noout -checkend \
        $((364 * 86400)))" "will not expire"
    t "$n/term_not_longer" has "$(openssl x509 -in "$pem" -noout -checkend \
        $((366 * 86400)))" "will expire"
}

for alg in ec:P-256 ec:P-384 ec:P-521 rsa:3072; do
    make_csr "$W/k" "$alg"
    enroll "$(cat "$W/k.b64")"
    t "/rest/enroll_$alg" eq "$STATUS" 200
    id=$(json certId)
    t "/rest/enroll_$alg/status_applied_or_issued" has "$BODY" '"status"'
    call GET "$api/$id/status"
    t "/rest/status_$alg" has "$BODY" '"status":"Issued"'
    call GET "$api/$id?format=x509CO"
    printf '%s' "$BODY" >"$W/leaf.pem"
    issuer="scm-sim EC Code Signing CA"
    [ "${alg%%:*}" = rsa ] && issuer="scm-sim RSA Code Signing CA"
    check_leaf "/rest/leaf_$alg" "$W/leaf.pem" "$W/k.key" "$issuer"
    call GET "$api/$id"
    t "/rest/default_download_$alg" eq "$STATUS" 200
    t "/rest/default_is_pem_file_$alg" has "$HDRS" \
        "Content-Type: application/x-pem-file"
    printf '%s\n' "$BODY" >"$W/chain.pem"
    t "/rest/verifies_$alg" has "$(openssl verify -CAfile "$SCM_SIM_ROOTS" \
        -untrusted "$W/chain.pem" "$W/leaf.pem" 2>&1)" ": OK"
done

# every format of docs/PROTOCOL.md section 3 parses, with the right certificates in the
# right order (checked by subject CN)
subjects() { # PEM-FILE -> the CNs in order, one line
    openssl crl2pkcs7 -nocrl -certfile "$1" |
        openssl pkcs7 -print_certs -noout | sed -n 's/^subject.*CN *= *//p' |
        tr '\n' ';'
}
leaf='Erika Mustermann'
int='scm-sim RSA Code Signing CA'
root='scm-sim RSA Root CA'
for f in "x509CO:$leaf;" "pemco:$leaf;" "pemia:$leaf;$int;" \
    "x509:$leaf;$int;$root;" "pem:$leaf;$int;$root;" \
    "x509IO:$root;$int;" "x509IOR:$int;$root;"; do
    name=${f%%:*}
    call GET "$api/$id?format=$name"
    printf '%s\n' "$BODY" >"$W/f.pem"
    t "/rest/format_$name" eq "$(subjects "$W/f.pem")" "${f#*:}"
done
scm_sim_bearer "$TOK" -o "$W/p7.der" "$SCM_SIM_URL$api/$id?format=bin"
t /rest/format_bin_pkcs7_der eq "$(openssl pkcs7 -inform DER -in "$W/p7.der" \
    -print_certs -noout | grep -c '^subject')" 3
call GET "$api/$id?format=base64"
t /rest/format_base64_pkcs7_pem has "$BODY" "-----BEGIN PKCS7-----"
printf '%s\n' "$BODY" >"$W/p7.pem"
t /rest/format_base64_parses eq "$(openssl pkcs7 -in "$W/p7.pem" \
    -print_certs -noout | grep -c '^subject')" 3
call GET "$api/$id?format=pkcs12"
t /rest/format_unknown eq "$STATUS" 400
t /rest/format_unknown_code has "$BODY" '"code":-1450'

# names from the person in the config when the request has none
make_csr "$W/p" ec:P-256
printf '{"csr":"%s","email":"dev@example.org"}' "$(cat "$W/p.b64")" \
    >"$W/e.json"
call POST "$api" "@$W/e.json"
call GET "$api/$(json certId)?format=x509CO"
t /rest/cn_from_person has "$(printf '%s\n' "$BODY" |
    openssl x509 -noout -subject)" "CN = Dana Developer"
printf '{"csr":"%s","email":"nobody@example.org"}' "$(cat "$W/p.b64")" \
    >"$W/e.json"
call POST "$api" "@$W/e.json"
call GET "$api/$(json certId)?format=x509CO"
t /rest/cn_is_email_without_names has "$(printf '%s\n' "$BODY" |
    openssl x509 -noout -subject -nameopt RFC2253)" "CN=nobody@example.org,"

# --- rejections -------------------------------------------------------------
reject() { # NAME CODE DESCRIPTION-PART
    t "$1" eq "$STATUS" 400
    t "$1/code" has "$BODY" "\"code\":$2"
    t "$1/description" has "$BODY" "$3"
}
make_csr "$W/weak" rsa:2048
enroll "$(cat "$W/weak.b64")"
reject /rest/rejects_rsa_2048 -141 "at least 3072 bits"
make_csr "$W/k1" ec:secp256k1
enroll "$(cat "$W/k1.b64")"
reject /rest/rejects_secp256k1 -11 'curve \"secp256k1\" is not allowed'
openssl genpkey -algorithm ed25519 -out "$W/ed.key" 2>/dev/null
openssl req -new -key "$W/ed.key" -subj /CN=x -outform DER -out "$W/ed.der"
enroll "$(base64 -w0 "$W/ed.der")"
reject /rest/rejects_ed25519 -11 "is not allowed"
# a CSR whose signature does not verify: flip a byte of the signature
make_csr "$W/bad" ec:P-256
size=$(stat -c %s "$W/bad.der")
printf '\x55' | dd of="$W/bad.der" bs=1 seek=$((size - 5)) conv=notrunc \
    2>/dev/null
enroll "$(base64 -w0 "$W/bad.der")"
reject /rest/rejects_bad_signature -138 "signature does not verify"
enroll "not*base64"
reject /rest/rejects_not_base64 -9 "not valid Base-64"
enroll "$(base64 -w0 <<<"hello, this is not DER")"
reject /rest/rejects_not_der -10 "Error decoding CSR"
enroll "-----BEGIN CERTIFICATE REQUEST-----"
reject /rest/rejects_pem_lines -9 "without BEGIN/END"
printf '{"csr":"%s"}' "$(cat "$W/p.b64")" >"$W/e.json"
call POST "$api" "@$W/e.json"
reject /rest/rejects_missing_email -7 "email is required"
call POST "$api" '{"email":"dev@example.org"}'
reject /rest/rejects_missing_csr -7 "csr is required"
enroll "$(cat "$W/p.b64")" ',"sanEmailAddress":"no-at-sign"'
t /rest/rejects_duplicate_key eq "$STATUS" 400
printf '{"csr":"%s","email":"dev@example.org","sanEmailAddress":"x y@z.org"}' \
    "$(cat "$W/p.b64")" >"$W/e.json"
call POST "$api" "@$W/e.json"
reject /rest/rejects_bad_san_email -2 "sanEmailAddress is not valid"
enroll "$(cat "$W/p.b64")" ',"hsmType":"TPM"'
t /rest/rejects_unknown_hsm_type eq "$STATUS" 400
call POST "$api" '{"email": '
reject /rest/rejects_bad_json -2 "not valid JSON"
head -c 70000 /dev/zero | tr '\0' 'a' >"$W/big"
call POST "$api" "@$W/big"
t /rest/rejects_large_body eq "$STATUS" 413
call GET "$api/999999/status"
t /rest/unknown_id eq "$STATUS" 404
call GET "$api/..%2F..%2Fetc/status"
t /rest/path_id_rejected eq "$STATUS" 404

# another REST account cannot see this one's requests
cat >"$W/two.json" <<'JSON'
{"restAccounts": [
  {"clientId": "p11e-client", "clientSecret": "p11e-secret-0123456789",
   "department": "Engineering", "profile": "Sectigo OV Code Signing",
   "term": 365},
  {"clientId": "other", "clientSecret": "other-secret-0123456789",
   "department": "Engineering", "profile": "Sectigo OV Code Signing",
   "term": 730}]}
JSON
scm_sim_restart "$W/two.json"
TOK=$(scm_sim_token other other-secret-0123456789)
call GET "$api/$id/status"
t /rest/other_account_sees_404 eq "$STATUS" 404
enroll "$(cat "$W/p.b64")"
call GET "$api/$(json certId)?format=x509CO"
t /rest/term_from_account has "$(printf '%s\n' "$BODY" |
    openssl x509 -noout -checkend $((729 * 86400)))" "will not expire"

# revoke
TOK=$(scm_sim_token)
call DELETE "$api/$id" '{"message":"key compromise","reasonCode":1}'
t /rest/revoke eq "$STATUS" 200
call GET "$api/$id/status"
t /rest/revoked_status has "$BODY" '"status":"Revoked"'

# an expired token gets a 401 that says so
scm_sim_admin POST /admin/config '{"tokenLifetime": 1}' >/dev/null
TOK=$(scm_sim_token)
sleep 2
call GET "$api/$id/status"
t /rest/expired_token eq "$STATUS" 401
t /rest/expired_token_header has "$HDRS" 'error="invalid_token"'
t /rest/expired_token_text has "$BODY" "expired"

finish
