#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line itself: --version, --help, unknown words, exit codes.
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
