#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# At exit, no secret is left in p11enroll's memory outside the locked,
# don't-dump pages that hold the live ones: not in libcurl's request
# buffers (Authorization header, token request and one-time code bodies),
# OpenSSL's TLS records or jansson's strings (the token answer).  gdb stops
# each run at exit_group and writes its memory as a core (honouring
# MADV_DONTDUMP like the kernel), which is then searched.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
if ! command -v gdb >/dev/null || [ "$(id -u)" -ne 0 ]; then
    # a process that is not dumpable can be read only with CAP_SYS_PTRACE
    echo "skipped: needs gdb and root" >&2
    [ -n "${P11E_NO_SKIP:-}" ] && [ "$(id -u)" -eq 0 ] && exit 1
    exit 77
fi
if grep -q '^P11E_SANITIZE:BOOL=ON' "$P11E_BUILD_DIR/CMakeCache.txt"; then
    echo "skipped: a sanitizer build keeps freed memory in quarantine" >&2
    exit 77
fi
en_setup

secret=$(cat "$EN/secret")

at_exit() { # NAME ARGS... : run p11enroll under gdb, dump it at exit
    local name=$1
    shift
    gdb -q -batch -nx -ex 'set use-coredump-filter on' \
        -ex 'catch syscall exit_group' -ex run \
        -ex "gcore $EN/$name.core" -ex kill \
        --args "$P11ENROLL" enroll "$@" >"$EN/$name.gdb" 2>&1 </dev/null || true
    [ -s "$EN/$name.core" ] || {
        cat "$EN/$name.gdb" >&2
        en_fail "$name: gdb wrote no core"
    }
}

common=(--module "$FX_MODULE" --token "$FX_URI" --pin-file "$EN/pin"
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS"
    --state-dir "$EN_STATE" --poll-interval 1)

at_exit rest "${common[@]}" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$EN/secret" \
    --email dev@example.org
grep -q 'Installed' "$EN/rest.gdb" || {
    cat "$EN/rest.gdb" >&2
    en_fail "rest: the enrollment did not finish"
}
otp=$(en_otp_fifo dev@example.org)
at_exit form "${common[@]}" --new --label form \
    --form "$SCM_SIM_URL/customer/demo/cs/cs" --email dev@example.org \
    --otp-file "$otp" --accept-eula
code=$(scm_sim_otp dev@example.org)
grep -q 'Installed' "$EN/form.gdb" || en_fail "form: the enrollment did not finish"

# the cores hold the heap: what is no secret is found there
grep -a -q -F "p11e-client" "$EN/rest.core" || en_fail "rest.core lacks the heap"
for s in "$secret" "client_secret=$secret" "$code" "\"code\":\"$code\"" \
    "Authorization: Bearer"; do
    for core in "$EN/rest.core" "$EN/form.core"; do
        if grep -a -q -F -- "$s" "$core"; then
            en_fail "$(basename "$core"): \"${s:0:16}...\" (${#s} characters) is still in memory"
        fi
    done
done
echo PASS
