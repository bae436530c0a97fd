#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# contrib/dev.sh - the README's set-up commands, on a fresh Debian bookworm.
#
#   bash contrib/dev.sh demo   install, build, then enroll a certificate for a
#                              key on a throwaway SoftHSM token against a local
#                              scm-sim, and show what landed on the token
#   bash contrib/dev.sh test   install, build with warnings as errors, run the
#                              whole suite, run it again under ASan+UBSan, and
#                              check formatting (changed lines) and scripts
#   bash contrib/dev.sh deps   only install the Debian packages
#   bash contrib/dev.sh build  only configure and build (build/)
#
# Environment: P11E_JOBS (default: number of cores), P11E_BUILD (default
# build), P11E_FORMAT_BASE (the commit formatting is checked against; default
# the first commit), P11E_SKIP_ASAN=1 to leave out the sanitizer run.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${P11E_JOBS:-$(nproc)}
build=${P11E_BUILD:-$top/build}

# What the build, the tests and the demo need, all from Debian bookworm.
packages=(
    build-essential cmake pkg-config git
    libssl-dev openssl libp11-kit-dev p11-kit p11-kit-modules
    libcurl4-openssl-dev curl libjansson-dev libmicrohttpd-dev
    softhsm2 opensc libengine-pkcs11-openssl osslsigncode binutils
    gnutls-bin clang-format shellcheck procps man-db groff-base
    strace time # bench/run.sh
    swtpm swtpm-tools tpm2-tools libtpm2-pkcs11-1 libtss2-tcti-swtpm0 # tpm2 tests
    python3 python3-jsonschema # JSON checks in the tests (tests/lib/json_check.py)
    openjdk-17-jdk-headless # jarsigner, keytool, jar: tests/e2e/recipe_jarsigner.sh
    sbsigntool  # sbsign, sbverify: tests/e2e/recipe_sbsign.sh
    dpkg-dev    # cpack -G DEB: dpkg-shlibdeps (tests/package)
    ansible-core ansible-lint # contrib/ansible (tests/ansible)
)

say() { printf '\n== %s\n' "$*"; }

deps() {
    local missing=() p sudo=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

configure_and_build() { # DIR [cmake options...]
    local dir=$1
    shift
    cmake -S "$top" -B "$dir" -DP11E_WERROR=ON "$@" >"$dir.configure.log" 2>&1 ||
        { cat "$dir.configure.log"; return 1; }
    cmake --build "$dir" -j "$jobs"
}

run_suite() { # DIR [ctest options...]
    local dir=$1
    shift
    (cd "$dir" && P11E_NO_SKIP=1 ctest -j "$jobs" --output-on-failure \
        --timeout 900 "$@")
}

check_format() {
    local base=${P11E_FORMAT_BASE:-}
    if [ -z "$base" ]; then
        base=$(git -C "$top" rev-list --max-parents=0 HEAD 2>/dev/null | tail -n 1) ||
            true
    fi
    if [ -z "$base" ]; then
        echo "not a git checkout: formatting not checked"
        return 0
    fi
    local out
    out=$(cd "$top" && git clang-format --quiet --diff --extensions c,h "$base" -- \
        agent pkcs11 tests contrib 2>&1) || true
    if [ -n "$out" ] && ! printf '%s' "$out" | grep -q '^no modified files'; then
        printf '%s\n' "$out" | head -n 60
        echo "formatting differs from .clang-format on the lines above" \
            "(git clang-format $base fixes it)"
        return 1
    fi
    echo "formatting: changed lines since ${base:0:12} follow .clang-format"
}

check_scripts() {
    local scripts
    mapfile -t scripts < <(git -C "$top" ls-files '*.sh' .ci/run)
    if [ ${#scripts[@]} -gt 0 ]; then
        (cd "$top" && shellcheck -x "${scripts[@]}")
    fi
    echo "shellcheck: ${#scripts[@]} scripts clean"
}

test_all() {
    deps
    say "build (picky warnings are errors)"
    configure_and_build "$build"
    say "test suite"
    run_suite "$build"
    if [ -z "${P11E_SKIP_ASAN:-}" ]; then
        say "test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
        configure_and_build "$build-asan" -DP11E_SANITIZE=ON \
            -DCMAKE_BUILD_TYPE=Debug
        # the package and Ansible tests check packaging and the collection,
        # not our memory: they run once, in the plain build
        run_suite "$build-asan" -LE '^(package|ansible)$'
    fi
    say "formatting and scripts"
    check_format
    check_scripts
    say "all checks passed"
}

demo() {
    deps
    say "build"
    configure_and_build "$build"
    say "demo: SoftHSM token + scm-sim + p11enroll"
    P11ENROLL="$build/agent/p11enroll" SCM_SIM="$build/contrib/scm-sim/scm-sim" \
        bash "$top/contrib/demo.sh"
}

case "${1:-}" in
deps) deps ;;
build) deps && configure_and_build "$build" ;;
test) test_all ;;
demo) demo ;;
*)
    sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
