# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/tpm2_lib.sh - a TPM-backed PKCS#11 token of the test's
# own: a software TPM (swtpm, on loopback TCP: the TSS in Debian bookworm
# has no unix-socket swtpm TCTI) and a tpm2-pkcs11 store in a fresh
# folder, reached without a resource manager.  Source it, then:
#   tpm2_begin [LABEL]   start them, make and initialise the token; exports
#                        TPM2_MODULE TPM2_DIR TPM2_URI TPM2_USER_PIN and the
#                        tpm2-pkcs11/tpm2-tools settings (TPM2_PKCS11_TCTI,
#                        TPM2_PKCS11_STORE, TPM2TOOLS_TCTI); both are gone
#                        on EXIT.  Call it before scm_sim_start (which keeps
#                        the EXIT trap it finds).
#   tpm2_loaded          print the handles of the objects and sessions
#                        loaded in the TPM, one a line (none: nothing)
#   tpm2_flush           flush them (pkcs11-tool leaves some behind)
# Exits 77 (ctest skip) when swtpm, tpm2-tools, pkcs11-tool or tpm2-pkcs11
# is missing, unless P11E_NO_SKIP is set.

TPM2_USER_PIN=1234
TPM2_SO_PIN=12345678

_tpm2_find_module() {
    local m
    for m in "${TPM2_MODULE:-}" \
        /usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so \
        /usr/lib/aarch64-linux-gnu/pkcs11/libtpm2_pkcs11.so \
        /usr/lib/pkcs11/libtpm2_pkcs11.so; do
        if [ -n "$m" ] && [ -r "$m" ]; then
            echo "$m"
            return 0
        fi
    done
    return 1
}

_tpm2_missing() {
    local what=$1
    if [ -n "${P11E_NO_SKIP:-}" ]; then
        echo "$what is not installed, and P11E_NO_SKIP is set" >&2
        exit 1
    fi
    echo "skipped: $what is not installed (contrib/dev.sh deps)" >&2
    exit 77
}

_tpm2_on_exit() {
    local rc=$?
    tpm2_end
    eval "${_tpm2_prev_exit:-}"
    exit "$rc"
}

tpm2_end() {
    local pid
    if [ -n "${TPM2_DIR:-}" ] && [ -s "$TPM2_DIR/swtpm.pid" ]; then
        pid=$(cat "$TPM2_DIR/swtpm.pid")
        kill "$pid" 2>/dev/null
    fi
    if [ -n "${TPM2_DIR:-}" ] && [ -z "${P11E_KEEP_TMP:-}" ]; then
        rm -rf "$TPM2_DIR"
    fi
}

# Start swtpm on a free pair of loopback ports (the TPM's and, one above,
# its control port); a port taken meanwhile makes swtpm fail at once, and
# another pair is tried.
_tpm2_start_swtpm() {
    local try port
    for try in 1 2 3 4 5 6 7 8 9 10; do
        port=$(shuf -i 20000-60000 -n 1)
        if swtpm socket --tpm2 --tpmstate dir="$TPM2_DIR/state" \
            --server type=tcp,port="$port",bindaddr=127.0.0.1 \
            --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
            --flags not-need-init,startup-clear \
            --pid file="$TPM2_DIR/swtpm.pid" -d 2>"$TPM2_DIR/swtpm.err"; then
            TPM2_PORT=$port
            return 0
        fi
        echo "swtpm on port $port (try $try): $(cat "$TPM2_DIR/swtpm.err")" >&2
    done
    return 1
}

tpm2_begin() {
    local label=${1:-p11e-tpm} prev tool
    TPM2_MODULE=$(_tpm2_find_module) || _tpm2_missing "tpm2-pkcs11 (libtpm2-pkcs11-1)"
    for tool in swtpm tpm2_getcap tpm2_flushcontext pkcs11-tool; do
        command -v "$tool" >/dev/null || _tpm2_missing "$tool"
    done
    TPM2_DIR=$(mktemp -d "${TMPDIR:-/tmp}/p11e-tpm2-XXXXXX") || return 1
    mkdir "$TPM2_DIR/state" "$TPM2_DIR/store"
    prev=$(trap -p EXIT)
    prev=${prev#"trap -- "}
    prev=${prev%" EXIT"}
    eval "_tpm2_prev_exit=${prev:-''}"
    trap _tpm2_on_exit EXIT
    _tpm2_start_swtpm || return 1
    TPM2_PKCS11_TCTI="swtpm:host=127.0.0.1,port=$TPM2_PORT"
    TPM2TOOLS_TCTI=$TPM2_PKCS11_TCTI
    TPM2_PKCS11_STORE=$TPM2_DIR/store
    TPM2_URI="pkcs11:token=$label"
    export TPM2_MODULE TPM2_DIR TPM2_URI TPM2_USER_PIN TPM2_PKCS11_TCTI \
        TPM2TOOLS_TCTI TPM2_PKCS11_STORE
    # tpm2-pkcs11 logs its warnings (a new store has no schema yet) on
    # stderr; only a failure's output is shown
    if ! pkcs11-tool --module "$TPM2_MODULE" --slot-index 0 --init-token \
        --label "$label" --so-pin "$TPM2_SO_PIN" >"$TPM2_DIR/init.out" 2>&1 ||
        ! pkcs11-tool --module "$TPM2_MODULE" --token-label "$label" \
            --init-pin --so-pin "$TPM2_SO_PIN" --pin "$TPM2_USER_PIN" \
            >>"$TPM2_DIR/init.out" 2>&1; then
        echo "could not make the tpm2 token:" >&2
        cat "$TPM2_DIR/init.out" >&2
        return 1
    fi
    tpm2_flush
}

tpm2_loaded() {
    tpm2_getcap handles-transient 2>/dev/null | sed -n 's/^- //p'
    tpm2_getcap handles-loaded-session 2>/dev/null | sed -n 's/^- //p'
}

tpm2_flush() {
    tpm2_flushcontext -t >/dev/null 2>&1
    tpm2_flushcontext -l >/dev/null 2>&1
    tpm2_flushcontext -s >/dev/null 2>&1
    return 0
}
