#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `p11enroll csr` and `p11enroll install` against a real SoftHSM token and
# a real test CA made here with openssl: the CSR verifies and carries the
# subject asked for; install puts leaf and chain on the token in every
# format; each bad input gives its message and exit code (9 for input that
# cannot be parsed or does not check out, 2 for usage) and leaves the
# token's objects exactly as they were.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
W=$FX_DIR/work
mkdir -p "$W/ca/new"
printf '%s\n' "$FX_USER_PIN" >"$W/pin"
TOK=(--token "$FX_URI" --module "$FX_MODULE" --pin-file "$W/pin")
export P11E_WRONG_PIN=9999
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

# Every object on the token, as pkcs11-tool lists it after a login.
objects() {
    pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
        --pin "$FX_USER_PIN" --list-objects 2>/dev/null
}

# check_unchanged NAME RC TEXT -- COMMAND...: as check, and the token's
# object listing is the same before and after.
check_unchanged() {
    local name=$1 before after
    before=$(objects)
    check "$@"
    after=$(objects)
    if [ "$before" != "$after" ]; then
        bad "$name/token_unchanged" "objects differ:"
        diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/    /'
    else
        ok "$name/token_unchanged"
    fi
}

# ---- a test CA: root, intermediate, and `openssl ca` for odd dates ----
cd "$W" || exit 1
openssl ecparam -name prime256v1 -genkey -noout -out root.key
openssl req -x509 -new -key root.key -subj "/O=Test/CN=Test Root" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
printf '%s\n' "basicConstraints=critical,CA:TRUE" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid:always" >ca.ext
mkint() { # NAME: an intermediate "Test Intermediate" with its own key
    openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
    openssl req -new -key "$1.key" -subj "/O=Test/CN=Test Intermediate" \
        -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA root.pem -CAkey root.key \
        -CAcreateserial -days 1000 -extfile ca.ext -out "$1.pem" 2>/dev/null
}
mkint int
mkint rogue
printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=codeSigning" \
    "subjectKeyIdentifier=hash" >leaf-base.ext
{ cat leaf-base.ext; echo "authorityKeyIdentifier=keyid:always"; } >leaf.ext
# no AKI, so only the signature tells a forged issuer from the real one
{ cat leaf-base.ext; echo "authorityKeyIdentifier=none"; } >leaf-noaki.ext
sed 's/codeSigning/serverAuth/' leaf.ext >tls.ext
openssl ecparam -name prime256v1 -genkey -noout -out other-root.key
openssl req -x509 -new -key other-root.key -subj "/O=Other/CN=Other Root" \
    -days 30 -out other-root.pem
touch ca/index.txt
echo 1000 >ca/serial
cat >ca.cnf <<EOF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $W/ca/index.txt
new_certs_dir = $W/ca/new
serial = $W/ca/serial
default_md = sha256
policy = pol
unique_subject = no
[ pol ]
commonName = supplied
organizationName = optional
EOF
# issue REQ OUT [EXTFILE [ISSUER]]: a certificate for REQ, 30 days.
issue() {
    openssl x509 -req -in "$1" -CA "${4:-int}.pem" -CAkey "${4:-int}.key" \
        -CAcreateserial -days 30 -extfile "${3:-leaf.ext}" -out "$2" 2>/dev/null
}
# issue_dated REQ OUT START END: the same with explicit validity.
issue_dated() {
    openssl ca -batch -config ca.cnf -cert int.pem -keyfile int.key \
        -in "$1" -out "$2" -startdate "$3" -enddate "$4" \
        -extfile leaf.ext -notext >/dev/null 2>&1
}

# ---- csr ----------------------------------------------------------------
check /csr/ec_p256 0 "pkcs11:model=SoftHSM%20v2;" -- "$P11ENROLL" csr "${TOK[@]}" \
    --label dana --subject "/CN=Dana Developer/O=Example Org/C=DE" \
    --email dev@example.org --out req.pem
if openssl req -in req.pem -verify -noout 2>&1 | grep -q "verify OK"; then
    ok /csr/ec_p256/openssl_req_verify
else
    bad /csr/ec_p256/openssl_req_verify "openssl req -verify failed"
fi
subj=$(openssl req -in req.pem -noout -subject -nameopt compat)
if [ "$subj" = "subject=/CN=Dana Developer/O=Example Org/C=DE" ]; then
    ok /csr/ec_p256/exact_subject
else
    bad /csr/ec_p256/exact_subject "$subj"
fi
if openssl req -in req.pem -noout -text | grep -q "email:dev@example.org"; then
    ok /csr/ec_p256/san_email
else
    bad /csr/ec_p256/san_email "no SAN email"
fi
if objects | grep -q "label: *dana"; then
    ok /csr/ec_p256/key_on_token
else
    bad /csr/ec_p256/key_on_token "no key labelled dana"
fi

for k in ec-p384 rsa-3072; do
    "$P11ENROLL" csr "${TOK[@]}" --key "$k" --cn "key $k" >"req-$k.pem" 2>/dev/null
    out=$(openssl req -in "req-$k.pem" -verify -noout -text 2>&1)
    case $k in ec-p384) alg=ecdsa-with-SHA384 ;; *) alg=sha256WithRSAEncryption ;; esac
    if printf '%s' "$out" | grep -q "verify OK" &&
        printf '%s' "$out" | grep -q "Signature Algorithm: $alg"; then
        ok "/csr/$k"
    else
        bad "/csr/$k" "$out"
    fi
done

uri=$("$P11ENROLL" csr "${TOK[@]}" --cn first 2>&1 >/dev/null | sed -n 's/^Key: //p')
"$P11ENROLL" csr "${TOK[@]}" --key-uri "$uri" --cn again >again.pem 2>/dev/null
"$P11ENROLL" csr "${TOK[@]}" --key-uri "$uri" --cn third >third.pem 2>/dev/null
if [ -n "$uri" ] && cmp -s <(openssl req -in again.pem -noout -pubkey) \
    <(openssl req -in third.pem -noout -pubkey); then
    ok /csr/reuse_key_by_uri
else
    bad /csr/reuse_key_by_uri "uri \"$uri\" or public keys differ"
fi

check_unchanged /csr/bad_subject 2 'must look like "/CN=name/O=organization"' \
    -- "$P11ENROLL" csr "${TOK[@]}" --subject "CN=x,O=y"
check_unchanged /csr/bad_country 2 "two capital letters" \
    -- "$P11ENROLL" csr "${TOK[@]}" --cn x --c Germany
check_unchanged /csr/bad_email 2 "is not an email address" \
    -- "$P11ENROLL" csr "${TOK[@]}" --cn x --email nobody
check_unchanged /csr/unknown_key_type 2 "" \
    -- "$P11ENROLL" csr "${TOK[@]}" --cn x --key dsa-1024
check_unchanged /csr/wrong_pin 8 "" \
    -- "$P11ENROLL" csr --token "$FX_URI" --module "$FX_MODULE" \
    --pin-env P11E_WRONG_PIN --cn x

# ---- install: bad input first, the token must stay as it is -------------
issue req.pem leaf.pem
cat int.pem root.pem >chain.pem
cat leaf.pem int.pem root.pem >bundle.pem
B=bundle.pem
sed '5s/[A-Za-z]/*/g' leaf.pem >malformed.pem
printf '\x30\x82\x01\x00\x02\x01\x00' >malformed.der
openssl crl2pkcs7 -nocrl -certfile bundle.pem -outform DER -out p7.der
openssl crl2pkcs7 -nocrl -certfile bundle.pem -out p7.pem
head -c 400 p7.der >truncated.p7b
: >empty.pem
truncate -s 50M huge.pem
openssl ecparam -name prime256v1 -genkey -noout -out sw.key
openssl req -new -key sw.key -subj "/CN=Software Key" -out sw.csr
issue sw.csr other.pem
cat leaf.pem other.pem int.pem root.pem >twoleaves.pem
cat other.pem int.pem root.pem >otherkey.pem
issue_dated req.pem expired.pem 20200101000000Z 20210101000000Z
issue_dated req.pem future.pem 20400101000000Z 20410101000000Z
issue req.pem tls.pem tls.ext
issue req.pem forged.pem leaf-noaki.ext rogue
I=("$P11ENROLL" install "${TOK[@]}")
check_unchanged /install/malformed_pem 9 'PEM block 1 of "malformed.pem" is damaged' \
    -- "${I[@]}" malformed.pem
check_unchanged /install/malformed_der 9 "neither PEM nor a complete DER" \
    -- "${I[@]}" malformed.der
check_unchanged /install/truncated_pkcs7 9 "neither PEM nor a complete DER" \
    -- "${I[@]}" truncated.p7b
check_unchanged /install/empty_file 9 '"empty.pem" is empty.' \
    -- "${I[@]}" empty.pem
check_unchanged /install/huge_file 9 "is larger than the 1048576 bytes accepted" \
    -- "${I[@]}" huge.pem
check_unchanged /install/two_leaves 9 "two end-entity certificates" \
    -- "${I[@]}" twoleaves.pem
check_unchanged /install/another_key 9 'The certificate "CN=Software Key" is for another key' \
    -- "${I[@]}" otherkey.pem
check_unchanged /install/expired 9 "expired on 2021-01-01T00:00:00Z" \
    -- "${I[@]}" expired.pem --chain chain.pem
check_unchanged /install/not_yet_valid 9 "is not valid yet: valid from 2040-01-01T00:00:00Z" \
    -- "${I[@]}" future.pem --chain chain.pem
check_unchanged /install/no_code_signing 9 "lacks the codeSigning extended key usage" \
    -- "${I[@]}" tls.pem --chain chain.pem
check_unchanged /install/chain_does_not_verify 9 "is not by the key of its issuer" \
    -- "${I[@]}" forged.pem --chain chain.pem --trust root.pem
# a root only the bundle carries is no anchor (docs/PROTOCOL.md section 3)
check_unchanged /install/root_only_in_bundle 9 "which only the bundle vouches for" \
    -- "${I[@]}" "$B"
fp=$(openssl x509 -in root.pem -noout -fingerprint -sha256 | sed 's/^.*=//')
check_unchanged /install/root_only_in_bundle/fingerprint 9 \
    "(SHA-256 $fp)" -- "${I[@]}" "$B"
check_unchanged /install/root_only_in_bundle/ways_on 9 \
    "give --trust FILE with the CA's root, or --trust-bundle-root to accept this root for this run." \
    -- "${I[@]}" "$B"
check_unchanged /install/trust_and_bundle_root 2 "not both" \
    -- "${I[@]}" "$B" --trust root.pem --trust-bundle-root
check_unchanged /install/untrusted_root 9 "which is not the trusted root given" \
    -- "${I[@]}" "$B" --trust other-root.pem
check_unchanged /install/missing_intermediate 9 \
    'the certificate of "CN=Test Intermediate,O=Test", which issued "C=DE,O=Example Org,CN=Dana Developer", is neither in the bundle nor trusted' \
    -- "${I[@]}" leaf.pem --chain root.pem
check_unchanged /install/no_file 2 "exactly one FILE" -- "${I[@]}"
check_unchanged /install/wrong_pin 8 "" \
    -- "$P11ENROLL" install --token "$FX_URI" --module "$FX_MODULE" \
    --pin-env P11E_WRONG_PIN "$B"

# A token that fails while writing (the mock module in front of SoftHSM).
if [ -n "${P11E_MOCK:-}" ] && [ -r "$P11E_MOCK" ]; then
    M=("$P11ENROLL" install --token "$FX_URI" --module "$P11E_MOCK" --pin-file "$W/pin")
    P11E_MOCK_FAIL="C_CreateObject=CKR_DEVICE_MEMORY" check_unchanged \
        /install/token_write_fails 7 'Writing the certificate on token "p11e-test" failed: CKR_DEVICE_MEMORY' \
        -- "${M[@]}" "$B" --trust root.pem
    P11E_MOCK_FAIL="C_Sign=CKR_FUNCTION_FAILED" check \
        /install/check_after_write_fails 7 "The certificate was written to the token, but the check after writing failed" \
        -- "${M[@]}" "$B" --trust root.pem
else
    bad /install/mock "P11E_MOCK is not set: the mock module was not built"
fi

# ---- install: the good paths --------------------------------------------
check /install/pem_bundle 0 "(already there)" -- "${I[@]}" "$B" \
    --trust root.pem --out-cert out-cert.pem --out-chain out-chain.pem
listing=$(objects)
for want in "label: *dana" "subject: *DN: CN=Dana Developer, O=Example Org, C=DE" \
    "subject: *DN: O=Test, CN=Test Intermediate" "subject: *DN: O=Test, CN=Test Root"; do
    if printf '%s\n' "$listing" | grep -q "$want"; then
        ok "/install/pem_bundle/on_token: $want"
    else
        bad "/install/pem_bundle/on_token" "no \"$want\" in:"
        printf '%s\n' "$listing" | sed 's/^/    /'
    fi
done
ncert=$(printf '%s\n' "$listing" | grep -c "^Certificate Object")
if [ "$ncert" -eq 3 ]; then
    ok /install/pem_bundle/three_certificates
else
    bad /install/pem_bundle/three_certificates "$ncert certificates"
fi
if cmp -s out-cert.pem leaf.pem &&
    openssl verify -CAfile root.pem -untrusted out-chain.pem out-cert.pem >/dev/null 2>&1; then
    ok /install/out_files_verify
else
    bad /install/out_files_verify "out-cert.pem/out-chain.pem do not verify"
fi
# The same material again, in every other format: nothing new is written.
cat root.pem int.pem leaf.pem >rootfirst.pem
cat root.pem int.pem >x509IO.pem
for f in p7.der p7.pem rootfirst.pem; do
    check_unchanged "/install/format/$f" 0 "(already there)" -- "${I[@]}" "$f" \
        --trust-bundle-root
done
check_unchanged /install/format/leaf_plus_chain_only 0 "(already there)" \
    -- "${I[@]}" leaf.pem --chain x509IO.pem --trust root.pem
# The other key types install too (the challenge is signed with SHA-384
# on P-384, PKCS#1 v1.5 on RSA); the chain is already there.
for k in ec-p384 rsa-3072; do
    issue "req-$k.pem" "cert-$k.pem"
    check "/install/$k" 0 "chain    0 written, 2 already on the token" \
        -- "${I[@]}" "cert-$k.pem" --chain chain.pem --trust root.pem
done
# stdin works as FILE "-"
check /install/stdin 0 "(already there)" -- "${I[@]}" - --trust-bundle-root \
    <bundle.pem
# --any-eku takes the TLS certificate (and replaces the code-signing one).
check /install/any_eku 0 "(replaced the old one)" \
    -- "${I[@]}" tls.pem --chain chain.pem --any-eku --trust root.pem

check_done
