#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The build a newcomer makes from a fresh checkout: only the programs
# (-DBUILD_TESTING=OFF), `cmake --install --prefix P` lays out a tree that
# works (program, man page, completion, units whose ExecStart= is P's
# program, example config, scm-sim and its README), and `cpack -G DEB`
# from the same build gives the Debian packages: files under /usr, units
# and completion in their Debian places, Depends: from dpkg-shlibdeps.
set -u
: "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

need_tools() {
    local t
    for t in "$@"; do
        if ! command -v "$t" >/dev/null; then
            if [ -n "${P11E_NO_SKIP:-}" ]; then
                echo "$t is not installed, and P11E_NO_SKIP is set" >&2
                exit 1
            fi
            echo "skipped: $t is not installed" >&2
            exit 77
        fi
    done
}
need_tools cmake cpack dpkg-deb dpkg-shlibdeps gzip

W=$(mktemp -d "${TMPDIR:-/tmp}/p11e-package-XXXXXX")
trap 'rm -rf "$W"' EXIT
B=$W/build P=$W/prefix

# ---- only the programs ---------------------------------------------------
if cmake -S "$P11E_SOURCE_DIR" -B "$B" -DBUILD_TESTING=OFF >"$W/configure.log" 2>&1 &&
    cmake --build "$B" -j 2 >"$W/build.log" 2>&1; then
    ok /install/build_without_tests
else
    bad /install/build_without_tests "see below"
    tail -n 30 "$W/configure.log" "$W/build.log"
    check_done
    exit 1
fi
if [ -z "$(find "$B" -name 'unit_test_*' -type f)" ] && [ ! -d "$B/tests" ]; then
    ok /install/no_tests_built
else
    bad /install/no_tests_built "BUILD_TESTING=OFF still built tests in $B"
fi

# ---- cmake --install --prefix P -----------------------------------------
check /install/runs 0 "Installing" -- cmake --install "$B" --prefix "$P"
for f in bin/p11enroll bin/scm-sim share/man/man1/p11enroll.1.gz \
    share/bash-completion/completions/p11enroll \
    lib/systemd/system/p11enroll-renew.service \
    lib/systemd/system/p11enroll-renew.timer \
    share/doc/p11enroll/examples/renew.conf share/doc/p11enroll/README.md \
    share/doc/p11enroll-scm-sim/README.md; do
    if [ -s "$P/$f" ]; then ok "/install/has $f"; else bad /install/has "no $P/$f"; fi
done
check /install/program_runs 0 "p11enroll" -- "$P/bin/p11enroll" --version
expect /install/scm_sim_runs "$P/bin/scm-sim" --state-dir "$W/sim" --init-only
if zcat "$P/share/man/man1/p11enroll.1.gz" | grep -q '^\.TH P11ENROLL'; then
    ok /install/man_page
else
    bad /install/man_page "not a compressed p11enroll(1)"
fi
if bash -c ". '$P/share/bash-completion/completions/p11enroll' && complete -p p11enroll" \
    >/dev/null 2>&1; then
    ok /install/completion_loads
else
    bad /install/completion_loads "sourcing it registers no completion"
fi
exec_line=$(grep '^ExecStart=' "$P/lib/systemd/system/p11enroll-renew.service")
if [ "${exec_line%% *}" = "ExecStart=$P/bin/p11enroll" ]; then
    ok /install/execstart_is_prefix
else
    bad /install/execstart_is_prefix "$exec_line"
fi
if command -v systemd-analyze >/dev/null; then
    # silent when the units are right and ExecStart='s program exists
    out=$(systemd-analyze verify --man=no \
        "$P/lib/systemd/system/p11enroll-renew.service" \
        "$P/lib/systemd/system/p11enroll-renew.timer" 2>&1)
    if [ -z "$out" ]; then ok /install/units_verify; else bad /install/units_verify "$out"; fi
fi

# ---- the Debian packages ---------------------------------------------------
check /deb/cpack 0 "p11enroll_" -- bash -c "cd '$B' && cpack -G DEB -B '$W/deb'"
deb=$(find "$W/deb" -maxdepth 1 -name 'p11enroll_*.deb' | head -n 1)
sim=$(find "$W/deb" -maxdepth 1 -name 'p11enroll-scm-sim_*.deb' | head -n 1)
if [ -n "$deb" ] && [ -n "$sim" ]; then
    ok /deb/two_packages
else
    bad /deb/two_packages "$(ls "$W/deb")"
    check_done
    exit 1
fi
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$W/files"
dpkg-deb -c "$sim" | awk '{print $6}' | sed 's|^\./|/|' >>"$W/files"
if ! grep -v -e '^/usr/' -e '^/$' "$W/files" >"$W/outside"; then
    ok /deb/all_under_usr
else
    bad /deb/all_under_usr "$(cat "$W/outside")"
fi
for f in /usr/bin/p11enroll /usr/share/man/man1/p11enroll.1.gz \
    /usr/share/bash-completion/completions/p11enroll \
    /usr/lib/systemd/system/p11enroll-renew.service \
    /usr/lib/systemd/system/p11enroll-renew.timer \
    /usr/share/doc/p11enroll/examples/renew.conf \
    /usr/bin/scm-sim /usr/share/doc/p11enroll-scm-sim/README.md; do
    if grep -qx -- "$f" "$W/files"; then ok "/deb/has $f"; else bad /deb/has "no $f"; fi
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libssl3 libcurl4 libjansson4 libp11-kit0; do
    case ", $depends" in
    *", $lib "* | *", $lib,"* | *", $lib") ok "/deb/depends $lib" ;;
    *) bad /deb/depends "no $lib in: $depends" ;;
    esac
done
case $(dpkg-deb -f "$sim" Depends) in
*libmicrohttpd*) ok /deb/scm_sim_depends ;;
*) bad /deb/scm_sim_depends "$(dpkg-deb -f "$sim" Depends)" ;;
esac
if dpkg-deb -f "$deb" Package Version Architecture Maintainer Description |
    grep -q '^Package: p11enroll$'; then
    ok /deb/control
else
    bad /deb/control "$(dpkg-deb -f "$deb")"
fi
dpkg-deb -x "$deb" "$W/root"
if grep -q '^ExecStart=/usr/bin/p11enroll renew ' \
    "$W/root/usr/lib/systemd/system/p11enroll-renew.service"; then
    ok /deb/execstart_usr_bin
else
    bad /deb/execstart_usr_bin "$(grep ExecStart= "$W/root/usr/lib/systemd/system/p11enroll-renew.service")"
fi
check /deb/program_runs 0 "p11enroll" -- "$W/root/usr/bin/p11enroll" --version

check_done
