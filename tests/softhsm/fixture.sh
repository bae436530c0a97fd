#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Shell twin of fixture.c for script tests: source it, then call
#   fx_softhsm_begin [LABEL]   -> exports SOFTHSM2_CONF, FX_DIR, FX_MODULE,
#                                 FX_URI, FX_USER_PIN, FX_SO_PIN
#   fx_softhsm_end             -> removes FX_DIR (registered as an EXIT trap)
# Exits 77 (ctest skip) when SoftHSM is absent, unless P11E_NO_SKIP is set.

FX_USER_PIN=1234
FX_SO_PIN=12345678

fx_find_module() {
    for m in "${SOFTHSM_MODULE:-}" \
        /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
        /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
        /usr/lib/softhsm/libsofthsm2.so; do
        if [ -n "$m" ] && [ -r "$m" ]; then
            echo "$m"
            return 0
        fi
    done
    return 1
}

fx_softhsm_begin() {
    # PIN and secret files the tests write must be private (p11enroll
    # refuses ones others can read)
    umask 077
    label=${1:-p11e-test}
    if ! FX_MODULE=$(fx_find_module) || ! command -v softhsm2-util >/dev/null; then
        if [ -n "${P11E_NO_SKIP:-}" ]; then
            echo "SoftHSM2 is not installed, and P11E_NO_SKIP is set" >&2
            exit 1
        fi
        echo "skipped: SoftHSM2 is not installed" >&2
        exit 77
    fi
    FX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/p11e-softhsm-XXXXXX")
    mkdir "$FX_DIR/tokens"
    cat >"$FX_DIR/softhsm2.conf" <<CONF
directories.tokendir = $FX_DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
    SOFTHSM2_CONF=$FX_DIR/softhsm2.conf
    FX_URI="pkcs11:token=$label"
    export SOFTHSM2_CONF FX_DIR FX_MODULE FX_URI FX_USER_PIN FX_SO_PIN
    trap fx_softhsm_end EXIT
    softhsm2-util --init-token --free --label "$label" \
        --so-pin "$FX_SO_PIN" --pin "$FX_USER_PIN" >/dev/null
}

fx_softhsm_end() {
    if [ -n "${FX_DIR:-}" ] && [ -z "${P11E_KEEP_TMP:-}" ]; then
        rm -rf "$FX_DIR"
    fi
}
