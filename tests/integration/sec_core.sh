#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A crash leaves no core file with the PIN or the client secret: an enroll
# that waits at the CA (PIN and secret in memory) is aborted with SIGABRT,
# with `ulimit -c unlimited` and the kernel writing "core" files into the
# working folder.  Before that, the process shows core files off, secret
# pages locked (VmLck) and marked don't-dump (smaps "dd").
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

S=$P11E_SOURCE_DIR/contrib/systemd
for unit in "$S"/*.service; do
    grep -q '^LimitCORE=0$' "$unit" || en_fail "$unit lacks LimitCORE=0"
done

mkdir -p "$EN/cwd"
scm_sim_delay 600
ulimit -c unlimited || true
(
    cd "$EN/cwd"
    exec "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
        --pin-file "$EN/pin" --ca-file "$SCM_SIM_CA_FILE" \
        --trust "$SCM_SIM_ROOTS" --state-dir "$EN_STATE" \
        --endpoint "$SCM_SIM_URL" --client-id p11e-client \
        --client-secret-file "$EN/secret" --email dev@example.org \
        --poll-interval 1
) >"$EN/run.out" 2>"$EN/run.err" &
pid=$!
for _ in $(seq 1 600); do
    grep -q 'Request 1001: Applied' "$EN/run.err" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
grep -q 'Request 1001: Applied' "$EN/run.err" || {
    cat "$EN/run.err" >&2
    en_fail "the enrollment did not reach the wait at the CA"
}
grep -E '^Max core file size +0 +0 ' "/proc/$pid/limits" >/dev/null ||
    en_fail "core files are not off: $(grep core "/proc/$pid/limits")"
# (AddressSanitizer turns mlock into nothing: not checked in its builds)
if ! grep -q '^P11E_SANITIZE:BOOL=ON' "$P11E_BUILD_DIR/CMakeCache.txt"; then
    locked=$(awk '/^VmLck:/ {print $2}' "/proc/$pid/status")
    [ "${locked:-0}" -gt 0 ] || en_fail "no secret page is locked (VmLck 0)"
fi
grep -q '^VmFlags:.* dd' "/proc/$pid/smaps" ||
    en_fail "no page is marked don't-dump"

kill -ABRT "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 134 ] || en_fail "p11enroll ended with $rc, not by SIGABRT"
if compgen -G "$EN/cwd/core*" >/dev/null; then
    if grep -a -q -F -e "$(head -n 1 "$EN/pin")" -e "$(cat "$EN/secret")" \
        "$EN"/cwd/core*; then
        en_fail "a core file holds the PIN or the client secret"
    fi
    en_fail "a core file was written"
fi
echo PASS
