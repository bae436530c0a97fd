#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: two keys on a SoftHSM token enrolled against scm-sim, then
# `p11enroll export`: what it writes equals what enroll installed, as PEM,
# DER (certificates one after another) and PKCS#7 (the bytes of
# `openssl crl2pkcs7 -nocrl`); --json gives the key's and certificate's
# URIs and the files; with two keys it asks which; install points at
# sign-setup, whose openssl recipe signs a file; with the intermediate
# removed from the token, the chain comes from the journal's bundle.
set -u
: "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/e2e/recipe_lib.sh
. "$P11E_SOURCE_DIR/tests/e2e/recipe_lib.sh"
recipe_need openssl python3 csplit p11tool

recipe_begin
recipe_enroll exp-a ec-p256 || exit 1
recipe_enroll exp-b ec-p256 || exit 1
key_b=$KEY_URI

export_() { "$P11ENROLL" export --token "$FX_URI" --module "$FX_MODULE" "$@"; }

same() { # NAME GOT WANT
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        bad "$1" "$2 differs from $3"
    fi
}

# PEM: byte for byte what enroll wrote with --out-cert and --out-chain
if export_ --label exp-a --cert a.pem --chain a.chain.pem >pem.out 2>&1; then
    same /export/pem/cert a.pem exp-a.leaf.pem
    same /export/pem/chain a.chain.pem exp-a.chain.pem
else
    bad /export/pem "output:"
    show pem.out
fi

# DER: the same certificates, each in DER, one after another
openssl x509 -in exp-a.leaf.pem -outform DER -out want.der
csplit -s -z -f chainpart- exp-a.chain.pem '/-----BEGIN CERTIFICATE-----/' '{*}'
: >want.chain.der
for part in chainpart-*; do
    openssl x509 -in "$part" -outform DER >>want.chain.der
done
if export_ --label exp-a --format der --cert a.der --chain a.chain.der \
    >der.out 2>&1; then
    same /export/der/cert a.der want.der
    same /export/der/chain a.chain.der want.chain.der
else
    bad /export/der "output:"
    show der.out
fi

# PKCS#7: what openssl makes of the installed files
openssl crl2pkcs7 -nocrl -certfile exp-a.leaf.pem -outform DER -out want.p7
openssl crl2pkcs7 -nocrl -certfile exp-a.chain.pem -outform DER \
    -out want.chain.p7
if export_ --label exp-a --format pkcs7 --cert a.p7 --chain a.chain.p7 \
    >p7.out 2>&1; then
    same /export/pkcs7/cert a.p7 want.p7
    same /export/pkcs7/chain a.chain.p7 want.chain.p7
else
    bad /export/pkcs7 "output:"
    show p7.out
fi

# no file named: PEM of the certificate and its chain on standard output
cat exp-a.leaf.pem exp-a.chain.pem >want.stdout
export_ --label exp-a >got.stdout 2>/dev/null
same /export/stdout_pem got.stdout want.stdout

# --json: the URIs enroll printed, the files written
json_get() { # FILE EXPR: print EXPR of the parsed JSON "j"
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
if export_ --label exp-b --json --cert b.pem --chain b.chain.pem \
    >b.json 2>b.err &&
    [ "$(json_get b.json 'j["result"]["key"]["uri"]')" = "$key_b" ] &&
    [ "$(json_get b.json 'j["result"]["certificate"]["uri"]')" = \
        "$(e2e_cert_uri "$key_b")" ] &&
    [ "$(json_get b.json '[f["path"] for f in j["result"]["files"]]')" = \
        "['b.pem', 'b.chain.pem']" ] &&
    [ "$(json_get b.json 'j["result"]["chain"]["complete"]')" = True ] &&
    [ "$(json_get b.json 'j["error"]')" = None ]; then
    ok /export/json_uris_and_files
else
    bad /export/json_uris_and_files "output:"
    show b.json
    show b.err
fi
same /export/json/cert b.pem exp-b.leaf.pem

# by --key-id: the hex of the CKA_ID in enroll's URI
id_b=$(printf '%s\n' "$key_b" | sed 's/.*;id=\([^;]*\);.*/\1/; s/%//g')
if export_ --key-id "$id_b" --cert b2.pem >id.out 2>&1; then
    same /export/key_id b2.pem exp-b.leaf.pem
else
    bad /export/key_id "output:"
    show id.out
fi

# two keys and no choice: a usage error naming both
export_ --cert x.pem >two.out 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q '"exp-a"' two.out && grep -q '"exp-b"' two.out &&
    [ ! -e x.pem ]; then
    ok /export/several_keys_ask_which
else
    bad /export/several_keys_ask_which "exit $rc:"
    show two.out
fi
if export_ --label nobody --cert x.pem >none.out 2>&1; then
    bad /export/unknown_label_fails "exit 0"
else
    ok /export/unknown_label_fails
fi

# install ends by naming the recipe command; the openssl recipe it leads
# to signs and checks a file (its own verify lines run too)
"$P11ENROLL" install exp-b.leaf.pem --chain exp-b.chain.pem --token "$FX_URI" \
    --module "$FX_MODULE" --pin-file pin --trust "$SCM_SIM_ROOTS" \
    >install.out 2>&1
hint=$(grep -o "p11enroll sign-setup osslsigncode|jarsigner|sbsign|openssl --token '[^']*' --key-id [0-9a-f]*" install.out)
if [ -n "$hint" ] && [ "${hint##* }" = "$(printf %s "$id_b" | tr A-F a-f)" ]; then
    ok /install/points_at_sign_setup
else
    bad /install/points_at_sign_setup "output:"
    show install.out
fi
echo 'a file to sign' >doc.txt
if recipe_make exp-b openssl --pin-file pin &&
    recipe_run exp-b openssl doc.txt doc.p7s; then
    if openssl cms -verify -binary -inform DER -in doc.p7s -content doc.txt \
        -CAfile "$SCM_SIM_ROOTS" -purpose any -out /dev/null >cms.out 2>&1; then
        ok /openssl/cms_verifies_with_scm_sim_roots
    else
        bad /openssl/cms_verifies_with_scm_sim_roots "output:"
        show cms.out
    fi
fi

# The intermediate leaves the token (as on one that keeps only the leaf):
# the chain is completed from the bundle enroll saved in its journal.
mid=$(sed -n 's/^subject=.*CN *= *\([^,]*Code Signing CA\).*/\1/p' \
    <(openssl x509 -in chainpart-00 -noout -subject))
GNUTLS_PIN=$FX_USER_PIN p11tool --provider "$FX_MODULE" --login --batch \
    --delete "$FX_URI;object=${mid// /%20};type=cert" >del.out 2>&1
if export_ --label exp-a --cert j.pem --chain j.chain.pem --json \
    --state-dir "$W/state" >j.json 2>j.err &&
    [ "$(json_get j.json 'j["result"]["chain"]["from"]')" = token+journal ]; then
    same /export/journal/chain j.chain.pem exp-a.chain.pem
else
    bad /export/journal/chain "p11tool, then export:"
    show del.out
    show j.json
fi
mkdir -p empty-state
if XDG_STATE_HOME=$W/empty-state export_ --label exp-a --chain k.chain.pem \
    >k.out 2>&1 && grep -q 'ends before a root' k.out &&
    ! grep -q 'BEGIN CERTIFICATE' k.chain.pem; then
    ok /export/no_journal_chain_incomplete_warned
else
    bad /export/no_journal_chain_incomplete_warned "output:"
    show k.out
fi
recipe_end
