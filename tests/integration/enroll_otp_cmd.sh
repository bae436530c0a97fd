#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enroll through scm-sim's form with --otp-cmd: a command that reads the
# one-time code from scm-sim's outbox (as a mail filter would) gives the
# code; it gets no secret (environment, descriptors); a command that fails,
# prints nothing, hangs or gives a wrong code ends the run with one
# sentence, nothing made, and is not run again; SIGTERM stops it and the
# run; a run stopped after the submission is resumed.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

pin=$(head -n 1 "$EN/pin")
# perl (Debian's essential perl-base): a shell holds descriptors of its
# own.  It records its environment and descriptors with
# tests/lib/child_probe.pl (otp.env, otp.fds, otp.read), then waits for a
# mail to P11ENROLL_EMAIL newer than P11ENROLL_OTP_SINCE in the outbox and
# prints its code.
cat >"$EN/otp.pl" <<'PL'
my ($dir, $outbox, $lib) = @ARGV;
open(my $log, '>>', "$dir/otp.runs") or die;
print $log "run\n";
close($log);
require $lib;
child_probe($dir, 'otp');
# the newest first: OTP_SINCE is a second early, an older mail may match
for (1 .. 600) {
    my @mails = sort { $b->[0] <=> $a->[0] || $b->[1] cmp $a->[1] }
                map { [(stat($_))[9], $_] } glob("$outbox/*.eml");
    for my $mail (@mails) {
        my ($mtime, $eml) = @$mail;
        next if $mtime < $ENV{P11ENROLL_OTP_SINCE};
        open(my $m, '<', $eml) or next;
        local $/;
        my $text = <$m>;
        next unless $text =~ /^To: <\Q$ENV{P11ENROLL_EMAIL}\E>/mi;
        if ($text =~ /^One-time code: (\d{6})/m) {
            print "$1\n(read from $eml)\n";
            exit 0;
        }
    }
    select(undef, undef, undef, 0.1);
}
exit 5;
PL
otpcmd="exec perl $EN/otp.pl $EN $SCM_SIM_OUTBOX $P11E_SOURCE_DIR/tests/lib/child_probe.pl"

form_nopin() { # en_form without its --pin-file
    "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
        --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
        --state-dir "$EN_STATE" --poll-interval 1 \
        --form "$SCM_SIM_URL/customer/demo/cs/cs" --email dev@example.org \
        --accept-eula "$@"
}

# 1. the code from the command; the PIN from a variable and debugging on:
#    neither the PIN nor the code reaches the command or our output
en_run otpcmd env SEC_PIN="$pin" P11ENROLL_DEBUG=all \
    bash -c "$(declare -f form_nopin); form_nopin --pin-env SEC_PIN \
        --otp-cmd '$otpcmd'"
en_expect_rc 0
en_expect_err "Running the --otp-cmd for the code sent to dev@example.org"
en_expect_err 'Installed "CN=Dana Developer'
en_expect_token 1 1 3
en_expect_orders 1
code=$(scm_sim_otp dev@example.org)
grep -q '^P11ENROLL_EMAIL=dev@example.org$' "$EN/otp.env" ||
    en_fail "the command lacks P11ENROLL_EMAIL"
grep -q '^P11ENROLL_OTP_SINCE=[0-9]*$' "$EN/otp.env" ||
    en_fail "the command lacks P11ENROLL_OTP_SINCE"
if grep -v -E '^(PATH|HOME|LANG|PWD|P11ENROLL_EMAIL|P11ENROLL_OTP_SINCE)=' \
    "$EN/otp.env"; then
    en_fail "the command's environment holds more than the facts"
fi
if grep -q -F -e "$pin" "$EN/otp.env" "$EN/otp.read"; then
    en_fail "the command got the PIN"
fi
[ "$(cat "$EN/otp.fds")" = "0 1 2" ] ||
    en_fail "the command inherited descriptors $(cat "$EN/otp.fds")"
if grep -q -F -e "$pin" -e "$code" "$EN/otpcmd.out" "$EN/otpcmd.err"; then
    en_fail "the PIN or the code is in p11enroll's own output"
fi
if grep -rq -F "$code" "$EN_STATE"; then
    en_fail "the code is in the journal"
fi

# 2. the PIN from a descriptor: the command cannot read it
rm -f "$EN/otp.runs"
en_run otpfd form_nopin --new --label fd --otp-cmd "$otpcmd" --pin-fd 5 \
    5<"$EN/pin"
en_expect_rc 0
[ "$(cat "$EN/otp.fds")" = "0 1 2" ] ||
    en_fail "the command inherited descriptors $(cat "$EN/otp.fds")"
if grep -q -F -e "$pin" "$EN/otp.read"; then
    en_fail "the command read the PIN"
fi
en_expect_orders 2
keys=$(en_keys)

# 3. a command that fails, prints nothing, or hangs: one sentence, exit 2,
#    nothing made or recorded
records() { find "$EN_STATE" -name '*.json' | wc -l; }
before=$(records)
en_run failing en_form --new --label bad --accept-eula \
    --otp-cmd 'echo "no mail here" >&2; exit 4'
en_expect_rc 2
en_expect_err "The one-time code command (--otp-cmd) failed (exit status 4)"
en_expect_err "no mail here"
en_run empty en_form --new --label bad --accept-eula --otp-cmd 'echo'
en_expect_rc 2
en_expect_err "The --otp-cmd printed no one-time code on its first line"
start=$(date +%s)
en_run hang en_form --new --label bad --accept-eula --otp-cmd 'sleep 120' \
    --otp-timeout 1
en_expect_rc 2
en_expect_err "did not finish in 1 s and was stopped (a longer wait: --otp-timeout)"
[ $(($(date +%s) - start)) -lt 60 ] || en_fail "the run waited for the command"
[ "$(records)" = "$before" ] || en_fail "a failed command left a record"
[ "$(en_keys)" = "$keys" ] || en_fail "a failed command left a key"
en_expect_orders 2

# 4. a wrong code from a command: refused, and the command is not run again
#    (it would read the same mail)
printf 'echo run >>%q; echo 000000' "$EN/wrong.runs" >"$EN/wrong.sh"
en_run wrong en_form --new --label bad --accept-eula --otp-cmd "sh $EN/wrong.sh"
en_expect_rc 6
en_expect_err "The form refused the one-time code: Wrong one-time code"
[ "$(wc -l <"$EN/wrong.runs")" -eq 1 ] || en_fail "the command ran again"
en_expect_orders 2

# 5. --otp-file and --otp-cmd together: a usage error
en_run both en_form --new --otp-file "$EN/pin" --otp-cmd true
en_expect_rc 2
en_expect_err "Give --otp-file or --otp-cmd, not both."

# 6. submitted, then a resume whose command fails keeps the record; the
#    next resume with a working command finishes it
scm_sim_delay 2
en_run nowait en_form --new --label later --accept-eula --no-wait \
    --otp-cmd "$otpcmd"
en_expect_rc 3
id=$(en_journal_id)
[ "$(en_journal_status "$id")" = submitted ] || en_fail "not submitted"
en_run resumefail en_resume "$id" --otp-cmd 'exit 1'
en_expect_rc 2
en_expect_err "The one-time code command (--otp-cmd) failed (exit status 1)"
[ "$(en_journal_status "$id")" = submitted ] || en_fail "the record moved"
en_run resume en_resume "$id" --otp-cmd "$otpcmd"
en_expect_rc 0
[ "$(en_journal_status "$id")" = installed ] || en_fail "not installed"
en_expect_orders 3
# 7. SIGTERM (as Ctrl-C) while the command runs: the run stops at once
#    with exit 130 and nothing recorded, and the command is stopped too
before=$(records)
rm -f "$EN/otp.pid"
common=()
mapfile -t common < <(en_common)
# p11enroll itself in the background (not a shell function's subshell)
"$P11ENROLL" enroll "${common[@]}" --form "$SCM_SIM_URL/customer/demo/cs/cs" \
    --email dev@example.org --accept-eula --new --label term \
    --otp-cmd "echo \$\$ >$EN/otp.pid; exec sleep 120" \
    >"$EN/term.out" 2>"$EN/term.err" &
run=$!
for _ in $(seq 1 300); do
    [ -s "$EN/otp.pid" ] && break
    sleep 0.1
done
[ -s "$EN/otp.pid" ] || en_fail "term: the command never started"
kill -TERM "$run"
set +e
wait "$run"
EN_RC=$?
set -e
EN_LAST=term
en_expect_rc 130
en_expect_err "nothing is recorded"
child=$(cat "$EN/otp.pid")
for _ in $(seq 1 100); do
    kill -0 "$child" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$child" 2>/dev/null; then
    en_fail "term: the command still runs"
fi
[ "$(records)" = "$before" ] || en_fail "term: a record was kept"
echo "enroll_otp_cmd: all passed"
