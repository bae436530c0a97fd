#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim's one-time codes resist guessing: asking for a new code does not
# give back the wrong tries (before, three wrong guesses and a new code
# gave three more, without end), and an address gets at most otpPerHour
# codes an hour.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$here/scm_sim_lib.sh"
scm_sim_start || exit 1
# shellcheck source=tests/integration/scm_sim_check_lib.sh
. "$here/scm_sim_check_lib.sh"

form=/customer/demo/cs/cs
mail=dev@example.org
guess() { # a code that is not the one mailed
    local code
    code=$(scm_sim_otp "$mail")
    if [ "$code" = 000000 ]; then echo 111111; else echo 000000; fi
}

# the attack: guess, ask for a new code, guess again
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /otp/first_code_sent eq "$STATUS" 202
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$(guess)\"}"
t /otp/wrong_1 has "$BODY" "2 tries left"
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /otp/second_code_sent eq "$STATUS" 202
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$(guess)\"}"
t /otp/new_code_keeps_wrong_tries has "$BODY" "1 try left"
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$(guess)\"}"
t /otp/third_wrong_voids has "$BODY" "no longer valid"
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /otp/no_tries_no_code eq "$STATUS" 429
t /otp/no_tries_retry_after has "$HDRS" "Retry-After:"

# the rate limit: otpPerHour codes, then 429 with Retry-After
# shellcheck disable=SC2119 # the same config again
scm_sim_restart
scm_sim_admin POST /admin/config '{"otpPerHour": 2}' >/dev/null
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /otp/rate_1 eq "$STATUS" 202
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /otp/rate_2 eq "$STATUS" 202
n=$(find "$SCM_SIM_OUTBOX" -name '*.eml' | wc -l)
call POST "$form/auth/email" "{\"email\":\"$mail\"}"
t /otp/rate_3_refused eq "$STATUS" 429
t /otp/rate_3_code has "$BODY" "-1400"
t /otp/rate_3_no_mail eq "$(find "$SCM_SIM_OUTBOX" -name '*.eml' | wc -l)" "$n"
# the right code still works
code=$(scm_sim_otp "$mail")
call POST "$form/auth/verify" "{\"email\":\"$mail\",\"code\":\"$code\"}"
t /otp/right_code_ok eq "$STATUS" 200
finish
