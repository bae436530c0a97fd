# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/lib/check_lib.sh - a script test's results, counted.  Source it,
# then:
#   ok NAME / bad NAME WHY   one result, printed
#   expect NAME COMMAND...   ok when COMMAND succeeds
#   check NAME RC TEXT -- COMMAND...
#                            COMMAND exits RC and prints (stdout or
#                            stderr) a line holding TEXT; its output also
#                            goes to the file $CHECK_OUT when that is set
#   check_wait_for FILE TEXT [SECONDS]
#                            wait until FILE holds TEXT (default 30 s), e.g.
#                            a prompt in a `script -f` typescript before
#                            typing into it; status 1 if it never does
#   check_done               "N passed, N failed"; status 1 on a failure

# shellcheck disable=SC2034 # the scripts that source this read them
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }

bad() {
    failed=$((failed + 1))
    echo "FAIL $1: $2"
}

expect() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name" "$*"; fi
}

check() {
    local name=$1 want_rc=$2 want_text=$3 out rc
    shift 4
    out=$("$@" 2>&1)
    rc=$?
    if [ -n "${CHECK_OUT:-}" ]; then
        printf '%s\n' "$out" >"$CHECK_OUT"
    fi
    if [ "$rc" -eq "$want_rc" ] && printf '%s' "$out" | grep -qF -- "$want_text"; then
        ok "$name"
    else
        bad "$name" "rc $rc (want $want_rc, text \"$want_text\"), output:"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

check_wait_for() {
    local file=$1 text=$2 tenths=$((${3:-30} * 10)) i
    for ((i = 0; i < tenths; i++)); do
        grep -qF -- "$text" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

check_done() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
