#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A PIN typed at the prompt and refused is asked for again (at most
# TOK_PIN_PROMPTS times) while the token has tries left and is not on its
# final one; a PIN from a file, descriptor or variable never is.  On a
# pseudo-terminal from script(1), keys typed when asked.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
if ! command -v script >/dev/null; then
    [ -z "${P11E_NO_SKIP:-}" ] || en_fail "script(1) is not installed"
    echo "skipped: script(1) is not installed"
    exit 77
fi
en_setup
pin=$(head -n 1 "$EN/pin")
printf '%s\n' 99999999 >"$EN/wrong"
chmod 600 "$EN/wrong"

ts=$EN/typescript
wait_for() { # TEXT [N]: until the terminal shows it (N times)
    for _ in $(seq 1 300); do
        [ "$(grep -c -F -- "$1" "$ts")" -ge "${2:-1}" ] && return 0
        sleep 0.1
    done
    en_fail "the terminal never showed \"$1\""
}
on_tty() { # CMD...: run on a pseudo-terminal, the keys from stdin
    local cmd
    cmd=$(printf '%q ' "$@")
    : >"$ts"
    script -qfec "$cmd; echo EXIT=\$?" "$ts" >/dev/null
}
prompts() { grep -c -F 'PIN for token "p11e-test"' "$ts" || true; }
expect_exit() {
    grep -q "EXIT=$1" "$ts" || {
        cat "$ts" >&2
        en_fail "$2: not exit $1"
    }
}

# 1. enroll at a terminal: a wrong PIN, then the right one -> installed
{
    wait_for 'PIN for token "p11e-test"'
    sleep 0.3
    printf '12345\r'
    wait_for 'PIN for token "p11e-test"' 2
    sleep 0.3
    printf '%s\r' "$pin"
    wait_for "EXIT="
} | on_tty "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --state-dir "$EN_STATE" --poll-interval 1 --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$EN/secret" \
    --email dev@example.org
expect_exit 0 "wrong then right PIN"
[ "$(prompts)" -eq 2 ] || en_fail "the PIN was asked $(prompts) times, not 2"
grep -q 'refused that PIN; type it again (2 of 3)' "$ts" ||
    en_fail "no sentence before the second prompt"
grep -q 'Installed "CN=' "$ts" || en_fail "nothing installed"
en_expect_token 1 1 3

# 2. three wrong PINs: asked three times, then exit 8
{
    for n in 1 2 3; do
        wait_for 'PIN for token "p11e-test"' "$n"
        sleep 0.3
        printf '1234%s\r' "$n"
    done
    wait_for "EXIT="
} | on_tty "$P11ENROLL" list --module "$FX_MODULE" --token "$FX_URI"
expect_exit 8 "three wrong PINs"
[ "$(prompts)" -eq 3 ] || en_fail "asked $(prompts) times, not 3"

# 3. a wrong PIN from a file, a descriptor or a variable, even on a
#    terminal: exit 8 at once, never asked
for src in "--pin-file $EN/wrong" "--pin-fd 5" "--pin-env WRONG_PIN"; do
    # shellcheck disable=SC2086 # the source is two words
    : | WRONG_PIN=99999999 on_tty "$P11ENROLL" list \
        --module "$FX_MODULE" --token "$FX_URI" $src 5<"$EN/wrong"
    expect_exit 8 "$src"
    [ "$(prompts)" -eq 0 ] || en_fail "$src: the PIN was asked for"
    grep -q 'refused the PIN' "$ts" || en_fail "$src: no sentence"
done

# 4. the token on its final try (the mock module sets the flag): a wrong
#    PIN typed once is not asked again
if [ -n "${P11E_MOCK:-}" ]; then
    {
        wait_for 'PIN for token "p11e-test"'
        sleep 0.3
        printf '12345\r'
        wait_for "EXIT="
    } | P11E_MOCK_TARGET=$FX_MODULE P11E_MOCK_TOKEN_FLAGS=CKF_USER_PIN_FINAL_TRY \
        on_tty "$P11ENROLL" list --module "$P11E_MOCK" --token "$FX_URI"
    expect_exit 8 "final try"
    [ "$(prompts)" -eq 1 ] || en_fail "final try: asked $(prompts) times"
    grep -q 'ONE more PIN try' "$ts" || en_fail "final try: no warning"
elif [ -n "${P11E_NO_SKIP:-}" ]; then
    en_fail "the mock module is not built"
fi
echo "tok_pin_retry: all passed"
