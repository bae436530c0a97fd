#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# With every debug trace on (P11ENROLL_DEBUG=all), both ways in (REST with
# a client secret, the form with a one-time code) leak no secret: not the
# PIN, the client secret, the one-time code, an access token or a form
# session, to standard output or error, the journal, the output files, or
# an --attestation-cmd child.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup
export P11ENROLL_DEBUG=all

pin=$(head -n 1 "$EN/pin")
secret=$(cat "$EN/secret")
cat >"$EN/child.pl" <<'PL'
open(my $f, '>', "$ARGV[0]/child.env") or die;
print $f "$_=$ENV{$_}\n" for sort keys %ENV;
exit 3;
PL

# 1. REST, from environment variables, with output files
en_run rest env SEC_PIN="$pin" SEC_CS="$secret" "$P11ENROLL" enroll \
    --module "$FX_MODULE" --token "$FX_URI" --pin-env SEC_PIN \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --state-dir "$EN_STATE" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-env SEC_CS \
    --email dev@example.org --poll-interval 1 \
    --out-cert "$EN/rest.pem" --out-chain "$EN/rest-chain.pem"
en_expect_rc 0
# the traces are there: the check below looks at real debug output
grep -q 'POST .*/oauth2/token' "$EN/rest.err" || en_fail "no http trace"
grep -q 'Authorization: \*\*\*' "$EN/rest.err" || en_fail "no bearer trace"

# 2. the form, with its one-time code from a FIFO
otp=$(en_otp_fifo dev@example.org)
en_run form en_form --new --label form --otp-file "$otp" --accept-eula \
    --out-cert "$EN/form.pem"
en_expect_rc 0
code1=$(scm_sim_otp dev@example.org)

# 3. the form again, up to an attestation command (which fails on purpose)
otp=$(en_otp_fifo dev@example.org)
en_run child en_form --new --label child --otp-file "$otp" --accept-eula \
    --attestation-cmd "exec perl $EN/child.pl $EN"
en_expect_rc 7
code2=$(scm_sim_otp dev@example.org)
[ -s "$EN/child.env" ] || en_fail "the attestation command did not run"
if grep -q P11ENROLL_DEBUG "$EN/child.env"; then
    en_fail "the child got P11ENROLL_DEBUG"
fi

files=("$EN"/rest.out "$EN"/rest.err "$EN"/form.out "$EN"/form.err
    "$EN"/child.out "$EN"/child.err "$EN"/*.pem "$EN/child.env")
mapfile -t -O "${#files[@]}" files < <(find "$EN_STATE" -type f)
for s in "$pin" "$secret" "$code1" "$code2"; do
    if grep -l -a -F -- "$s" "${files[@]}"; then
        en_fail "a secret (${#s} characters) is in the files above"
    fi
done
# access tokens and sessions are 64 hex digits at scm-sim; an Authorization
# or token value other than *** must not be shown
if grep -a -n -E '[0-9a-f]{64}|Bearer [^*]|"access_token" *: *"[^*]|"session" *: *"' \
    "${files[@]}"; then
    en_fail "a token or session is shown"
fi
echo PASS
