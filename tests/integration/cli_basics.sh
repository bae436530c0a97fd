#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line itself: --version, --help (each command's describes
# every option of its usage block), unknown words, exit codes.
set -u
: "${P11ENROLL:?}"
passed=0 failed=0

check() { # NAME EXPECTED_RC EXPECTED_TEXT -- COMMAND...
    local name=$1 want_rc=$2 want_text=$3 out rc
    shift 4
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want_rc" ] && printf '%s' "$out" | grep -qF -- "$want_text"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: rc $rc (want $want_rc), output:"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

check /cli/version 0 "p11enroll 0." -- "$P11ENROLL" --version
check /cli/help 0 "Exit codes:" -- "$P11ENROLL" --help
check /cli/no_command 2 "Usage: p11enroll" -- "$P11ENROLL"
check /cli/unknown_command 2 'unknown command "frobnicate"' -- "$P11ENROLL" frobnicate
check /cli/unknown_option 2 'unknown option "--frob"' -- "$P11ENROLL" --frob
check /cli/help_command 0 "Usage: p11enroll forget ID" -- "$P11ENROLL" help forget
check /cli/help_unknown 2 'unknown command "frob"' -- "$P11ENROLL" help frob
# -q and -v after the command are the program's, not the command's
check /cli/verbose_after_command 0 "Usage: p11enroll status" -- \
    "$P11ENROLL" status -v --help -q
check /cli/pin_on_argv 2 "give --pin-file F, --pin-env NAME" -- \
    "$P11ENROLL" enroll --pin 1234
check /cli/so_pin_on_argv 2 "give --so-pin-file F" -- \
    "$P11ENROLL" resume --so-pin=010203
check /cli/nearest_option 2 "did you mean --endpoint?" -- \
    "$P11ENROLL" enroll --endpont https://x
check /cli/empty_module 2 "--module is empty" -- \
    "$P11ENROLL" enroll --module "" --endpoint https://x
check /cli/forget_needs_id 2 "forget takes one enrollment ID" -- \
    "$P11ENROLL" forget
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check /cli/resume_nothing 2 "no unfinished enrollment" -- \
    "$P11ENROLL" resume --state-dir "$tmp/state"

# Every option a command's usage block names is described below it (the
# usage block ends at the first empty line).
while read -r cmd; do
    "$P11ENROLL" "$cmd" --help >"$tmp/help" 2>&1
    usage=$(sed '/^$/q' "$tmp/help")
    body=$(sed '1,/^$/d' "$tmp/help")
    missing=''
    for opt in $(printf '%s\n' "$usage" | grep -o -- '--[a-z][a-z0-9-]*' |
        sort -u); do
        printf '%s\n' "$body" | grep -qE -- "$opt([^a-z0-9-]|\$)" ||
            missing="$missing $opt"
    done
    if [ -z "$missing" ]; then
        passed=$((passed + 1))
        echo "ok   /cli/help_describes_usage/$cmd"
    else
        failed=$((failed + 1))
        echo "FAIL /cli/help_describes_usage/$cmd: not described:$missing"
    fi
done < <("$P11ENROLL" --help |
    sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
