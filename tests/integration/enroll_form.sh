#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# p11enroll enroll through scm-sim's invitation form: one-time code from the
# mailed .eml (read through --otp-file, a FIFO), terms and EULA, fields; a
# wrong code, a refused EULA, an address without an invitation, pending then
# resume with a new code.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

# 1. the whole form flow
otp=$(en_otp_fifo dev@example.org)
en_run form en_form --otp-file "$otp" --accept-eula --title "Release Engineer" \
    --san-email dev@example.org --term 365 --out-cert "$EN/leaf.pem"
en_expect_rc 0
en_expect_err "A one-time code was sent to dev@example.org."
en_expect_err "Organization: Example Org"
en_expect_err "Department:   Engineering"
en_expect_err "accepted (--accept-eula)"
en_expect_err 'Installed "CN=Dana Developer,OU=Engineering,O=Example Org"'
openssl x509 -in "$EN/leaf.pem" -noout -ext subjectAltName |
    grep -q 'email:dev@example.org' || en_fail "no SAN e-mail"
en_expect_token 1 1 3
en_expect_orders 1
if grep -rq '"code"\|"session"' "$EN_STATE"; then
    en_fail "a code or session is in the journal"
fi

# 2. a wrong one-time code: refused, nothing made
echo 000000 >"$EN/wrong-otp"
en_run wrongotp en_form --new --otp-file "$EN/wrong-otp" --accept-eula
en_expect_rc 6
en_expect_err "The form refused the one-time code: Wrong one-time code"
en_expect_token 1 1 3
en_expect_orders 1

# 3. the EULA refused (no terminal, no --accept-eula): nothing made
otp=$(en_otp_fifo dev@example.org)
en_run eula en_form --new --otp-file "$otp"
en_expect_rc 2
en_expect_err "The EULA was not accepted"
en_expect_token 1 1 3
en_expect_orders 1

# 4. an address without an invitation
en_run noinvite en_form --new --email nobody@example.org \
    --otp-file "$EN/wrong-otp" --accept-eula
en_expect_rc 6
en_expect_err "There is no invitation for nobody@example.org"

# 5. a term the form does not offer
otp=$(en_otp_fifo dev@example.org)
en_run term en_form --new --otp-file "$otp" --accept-eula --term 17
en_expect_rc 2
en_expect_err "does not offer a term of 17 days"
en_expect_orders 1

# 6. pending with --no-wait, then resume (a new session, a new code)
scm_sim_delay 2
otp=$(en_otp_fifo dev@example.org)
en_run nowait en_form --new --otp-file "$otp" --accept-eula --no-wait \
    --key-type ec-p384 --label form2
en_expect_rc 3
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = submitted ] || en_fail "not submitted"
sleep 2
otp=$(en_otp_fifo dev@example.org)
en_run resume en_resume "$id" --otp-file "$otp"
en_expect_rc 0
en_expect_orders 2
# the token of test 3 and 5 made no key: 1 + this one
key_count=$(en_keys)
[ "$key_count" -eq 2 ] || en_fail "$key_count keys on the token, expected 2"

# 7. a person at a terminal: asked for the code (a mistyped one is asked
# again, as the form allows more tries), shown the EULA, asked to accept it
# (a pseudo-terminal from script(1); keys typed when asked)
common=()
mapfile -t common < <(en_common)
cmd=$(printf '%q ' "$P11ENROLL" enroll "${common[@]}" --new \
    --form "$SCM_SIM_URL/customer/demo/cs/cs" --email dev@example.org \
    --label typed)
ts=$EN/typescript
: >"$ts"
wait_for() { # TEXT [N]: until the terminal shows it (N times)
    for _ in $(seq 1 300); do
        [ "$(grep -c -F -- "$1" "$ts")" -ge "${2:-1}" ] && return 0
        sleep 0.1
    done
    en_fail "the terminal never showed \"$1\""
}
{
    wait_for "One-time code from the e-mail to dev@example.org"
    sleep 0.3
    printf '000000\r'
    wait_for "The form refused the code"
    wait_for "One-time code from the e-mail to dev@example.org" 2
    sleep 0.3
    printf '%s\r' "$(scm_sim_otp dev@example.org)"
    wait_for "Do you accept the EULA above?"
    sleep 0.3
    printf 'y\r'
    wait_for "request  "
} | script -qfec "$cmd; echo EXIT=\$?" "$ts" >/dev/null
grep -q 'EXIT=0' "$ts" || {
    cat "$ts"
    en_fail "the interactive enrollment failed"
}
grep -q 'Installed "CN=Dana Developer' "$ts" || en_fail "nothing installed"
en_expect_orders 3

# 8. --otp-file as a plain file holding the code of an earlier mail: the
# run waits until the file is rewritten after its own request
printf '111111\n' >"$EN/otp.txt"
touch -d '1 hour ago' "$EN/otp.txt"
before=$(find "$SCM_SIM_OUTBOX" -name '*.eml' | wc -l)
(
    for _ in $(seq 1 600); do
        n=$(find "$SCM_SIM_OUTBOX" -name '*.eml' | wc -l)
        if [ "$n" -gt "$before" ]; then
            scm_sim_otp dev@example.org >"$EN/otp.txt"
            exit 0
        fi
        sleep 0.1
    done
) &
writer=$!
en_run stalefile en_form --new --otp-file "$EN/otp.txt" --accept-eula \
    --label stalefile
wait "$writer"
en_expect_rc 0
en_expect_err "Waiting for the one-time code in $EN/otp.txt"
en_expect_orders 4
# 9. a --form URL that is no form: the sentence names the URL, not the
#    e-mail address; exit 2, no mail, nothing made
mails() { find "$SCM_SIM_OUTBOX" -name '*.eml' | wc -l; }
before=$(mails)
keys=$(en_keys)
for url in "$SCM_SIM_URL/customer/demo/cs/nosuch" "$SCM_SIM_URL/api/v1"; do
    en_run badurl en_form --new --label badurl --form "$url" \
        --otp-file "$EN/wrong-otp" --accept-eula
    en_expect_rc 2
    en_expect_err "$url is not an enrollment form (HTTP 404"
    if grep -q 'dev@example.org' "$EN/badurl.err"; then
        en_fail "badurl: the sentence names the e-mail address"
    fi
done
[ "$(mails)" -eq "$before" ] || en_fail "badurl: a mail was sent"
[ "$(en_keys)" -eq "$keys" ] || en_fail "badurl: a key was made"

# 10. a module that is not there: named once, before any mail is sent
en_run nomodule en_form --new --label nomodule --module "$EN/no-such.so" \
    --otp-file "$EN/wrong-otp" --accept-eula
en_expect_rc 7
en_expect_err "Cannot load the PKCS#11 module $EN/no-such.so: "
[ "$(grep -o -F "$EN/no-such.so" "$EN/nomodule.err" | wc -l)" -eq 1 ] ||
    en_fail "nomodule: the path is named more than once"
[ "$(mails)" -eq "$before" ] || en_fail "nomodule: a mail was sent"
echo "enroll_form: all passed"
