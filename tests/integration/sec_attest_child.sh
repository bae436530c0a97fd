#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --attestation-cmd runs a command we did not write: it gets no secret.
# The command here is the attack: it dumps its environment, reads every
# descriptor it inherited, and reopens them through /proc (how the PIN
# was read back before).  Then a command that never ends is stopped.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

pin=$(head -n 1 "$EN/pin")
secret=$(cat "$EN/secret")
# tests/lib/child_probe.pl writes probe.env, probe.fds and probe.read
cat >"$EN/probe.pl" <<PL
require '$P11E_SOURCE_DIR/tests/lib/child_probe.pl';
child_probe('$EN', 'probe');
exit 3;
PL
probe="exec perl $EN/probe.pl $EN"

base() {
    "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
        --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
        --state-dir "$EN_STATE" --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --email dev@example.org \
        --attestation-cmd "$probe" "$@"
}

check_probe() { # RUN
    grep -q '^P11ENROLL_KEY_URI=pkcs11:' "$EN/probe.env" ||
        en_fail "$1: the command lacks P11ENROLL_KEY_URI"
    if grep -v -E '^(PATH|HOME|LANG|PWD|P11ENROLL_KEY_URI|P11ENROLL_KEY_ID|P11ENROLL_TOKEN_URI)=' \
        "$EN/probe.env"; then
        en_fail "$1: the command's environment holds more than the facts"
    fi
    if grep -q -F -e "$pin" -e "$secret" "$EN/probe.env" "$EN/probe.read"; then
        en_fail "$1: the command got a secret"
    fi
    [ "$(cat "$EN/probe.fds")" = "0 1 2" ] ||
        en_fail "$1: the command inherited descriptors $(cat "$EN/probe.fds")"
}

# 1. PIN and client secret from environment variables (with debugging on)
en_run env env SEC_PIN="$pin" SEC_CS="$secret" P11ENROLL_DEBUG=all \
    bash -c "probe='$probe'; $(declare -f base); base --pin-env SEC_PIN \
        --client-secret-env SEC_CS"
en_expect_rc 7
en_expect_err "The attestation command failed (exit status 3)"
check_probe env
if grep -q -F -e "$pin" -e "$secret" "$EN/env.out" "$EN/env.err"; then
    en_fail "a secret is in p11enroll's own output"
fi

# 2. PIN from a descriptor, client secret from a file: the command cannot
#    read the PIN's descriptor or p11enroll's connection to the CA
en_run fd base --pin-fd 5 --client-secret-file "$EN/secret" 5<"$EN/pin"
en_expect_rc 7
check_probe fd

# 3. a command that does not end: stopped after --attestation-timeout,
#    with what it started, and the run says so
cat >"$EN/hang.sh" <<SH
#!/bin/sh
sleep 300 &
echo \$! >"$EN/hang.child"
wait
SH
chmod +x "$EN/hang.sh"
start=$(date +%s)
en_run hang "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file "$EN/pin" --ca-file "$SCM_SIM_CA_FILE" \
    --state-dir "$EN_STATE" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$EN/secret" \
    --email dev@example.org --attestation-cmd "$EN/hang.sh" \
    --attestation-timeout 2
en_expect_rc 7
en_expect_err "did not finish in 2 s and was stopped"
en_expect_err "--attestation-timeout"
[ $(($(date +%s) - start)) -lt 60 ] || en_fail "the run waited for the command"
# killed, it may stay a zombie a moment until it is reaped
gone() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = Z ]
}
child=$(cat "$EN/hang.child")
for _ in $(seq 1 100); do
    gone "$child" && break
    sleep 0.05
done
gone "$child" || en_fail "what the command started still runs"
en_expect_orders 0
echo PASS
