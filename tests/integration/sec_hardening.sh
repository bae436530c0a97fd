#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# p11enroll and scm-sim are built hardened (cmake/Hardening.cmake), as the
# ELF files themselves show: PIE, full RELRO (GNU_RELRO + BIND_NOW), the
# stack protector, _FORTIFY_SOURCE's checked calls, and on x86-64 the CET
# notes of -fcf-protection in the objects.
set -u
: "${P11ENROLL:?}" "${P11E_BUILD_DIR:?}"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

if ! command -v readelf >/dev/null; then
    echo "skipped: readelf (binutils) is not installed" >&2
    [ -n "${P11E_NO_SKIP:-}" ] && exit 1
    exit 77
fi
cache=$P11E_BUILD_DIR/CMakeCache.txt
fuzz_or_off=$(grep -c -E '^(P11E_FUZZ:BOOL=ON|P11E_HARDEN:BOOL=OFF)' "$cache")
if [ "$fuzz_or_off" -gt 0 ]; then
    echo "skipped: a fuzz or unhardened build" >&2
    exit 77
fi
fortify=yes
if grep -q -E '^(P11E_SANITIZE:BOOL=ON|CMAKE_BUILD_TYPE:STRING=Debug)$' \
    "$cache"; then
    fortify=no # see cmake/Hardening.cmake
fi

check_elf() { # NAME FILE
    local name=$1 f=$2 hdr dyn syms
    hdr=$(readelf -W -h -l "$f")
    dyn=$(readelf -W -d "$f")
    syms=$(readelf -W --dyn-syms "$f")
    if grep -q 'Type:.*DYN' <<<"$hdr" && grep -q 'FLAGS_1.*PIE' <<<"$dyn"; then
        ok "/hardening/$name/pie"
    else
        bad "/hardening/$name/pie" "not a position-independent executable"
    fi
    if grep -q GNU_RELRO <<<"$hdr" && grep -q -E 'BIND_NOW|FLAGS_1.* NOW' <<<"$dyn"; then
        ok "/hardening/$name/full_relro"
    else
        bad "/hardening/$name/full_relro" "no GNU_RELRO or BIND_NOW"
    fi
    if grep -q '__stack_chk_fail' <<<"$syms"; then
        ok "/hardening/$name/stack_protector"
    else
        bad "/hardening/$name/stack_protector" "no __stack_chk_fail"
    fi
    if [ "$fortify" = no ]; then
        echo "skip /hardening/$name/fortify: a Debug or sanitizer build"
    elif grep -q -E '__[a-z0-9_]+_chk(@|$| )' <<<"$syms"; then
        ok "/hardening/$name/fortify"
    else
        bad "/hardening/$name/fortify" "no _chk function: not fortified"
    fi
}

check_elf p11enroll "$P11ENROLL"
if [ -n "${SCM_SIM:-}" ]; then
    check_elf scm-sim "$SCM_SIM"
fi

# -fstack-clash-protection leaves no mark in the file, and the CET notes of
# -fcf-protection are dropped by the linker when one input (Debian's crt
# files) lacks them: for these two, the compile commands and the objects.
cc=$P11E_BUILD_DIR/compile_commands.json
for src in agent/main.c contrib/scm-sim/main.c; do
    cmd=$(grep -B3 "\"file\": \".*/$src\"" "$cc")
    for flag in -fstack-clash-protection -fcf-protection; do
        if grep -q -- "$flag" <<<"$cmd"; then
            ok "/hardening/$flag/$src"
        else
            bad "/hardening/$flag/$src" "not compiled with $flag"
        fi
    done
done
if [ "$(uname -m)" = x86_64 ]; then
    for obj in agent/CMakeFiles/p11enroll.dir/main.c.o \
        contrib/scm-sim/CMakeFiles/scm-sim.dir/main.c.o; do
        if readelf -W -n "$P11E_BUILD_DIR/$obj" |
            grep -q 'x86 feature:.*IBT.*SHSTK'; then
            ok "/hardening/cet_note/$obj"
        else
            bad "/hardening/cet_note/$obj" "no IBT/SHSTK note"
        fi
    done
fi
check_done
