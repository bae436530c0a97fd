#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contrib/man/p11enroll.1 renders with `man -l` without a warning, and names
# every command, every option each command's --help lists, every config key
# (enroll's long options), every environment variable the code reads and
# every exit code of common/rc.h.  (The bash completion has its own test,
# tests/integration/completion.sh.)
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
MAN=$P11E_SOURCE_DIR/contrib/man/p11enroll.1
W=$(mktemp -d "${TMPDIR:-/tmp}/p11e-man-XXXXXX")
trap 'rm -rf "$W"' EXIT
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
    if [ -n "${P11E_NO_SKIP:-}" ]; then
        echo "man-db and groff-base are not installed" >&2
        exit 1
    fi
    echo "skipped: man-db and groff-base are not installed" >&2
    exit 77
fi

# ---- it renders, without warnings ----------------------------------------
# (ASCII and a wide page: no option is split across lines)
MANWIDTH=250 LC_ALL=C man --warnings -E ascii -l "$MAN" >"$W/raw.txt" 2>"$W/man.err"
rc=$?
col -b <"$W/raw.txt" >"$W/man.txt"
if [ "$rc" -eq 0 ] && [ ! -s "$W/man.err" ] && [ -s "$W/man.txt" ]; then
    ok /man/renders_without_warnings
else
    bad /man/renders_without_warnings "man -l exit $rc, stderr:"
    sed 's/^/    /' "$W/man.err"
fi
if out=$(groff -man -Tascii -ww -z "$MAN" 2>&1) && [ -z "$out" ]; then
    ok /man/groff_ww_clean
else
    bad /man/groff_ww_clean "$out"
fi
for section in NAME SYNOPSIS DESCRIPTION COMMANDS "TOKEN OPTIONS" \
    "PIN SOURCES" CONFIGURATION ENVIRONMENT FILES "EXIT STATUS"; do
    if grep -q "^$section\$" "$W/man.txt"; then
        ok "/man/section $section"
    else
        bad /man/section "no $section section"
    fi
done

# ---- every command, and every option its --help lists ------------------------
mapfile -t commands < <("$P11ENROLL" --help |
    sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
if [ "${#commands[@]}" -ge 9 ]; then
    ok "/man/commands_found (${commands[*]})"
else
    bad /man/commands_found "only ${#commands[@]} commands in p11enroll --help"
fi
# the page's text with everything that is not part of a word removed
in_man() { grep -qF -- "$1" "$W/man.txt"; }
for opt in $("$P11ENROLL" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    in_man "$opt" || bad "/man/global_option $opt" "not in the man page"
done
missing=0
for cmd in "${commands[@]}"; do
    if in_man "p11enroll $cmd"; then
        ok "/man/command $cmd"
    else
        bad "/man/command $cmd" "no \"p11enroll $cmd\" in the man page"
    fi
    "$P11ENROLL" "$cmd" --help >"$W/help-$cmd.txt" 2>&1
    mapfile -t opts < <(grep -o -- '--[a-z][a-z0-9-]*' "$W/help-$cmd.txt" | sort -u)
    for opt in "${opts[@]}"; do
        if ! in_man "$opt"; then
            bad "/man/option $cmd $opt" "listed by p11enroll $cmd --help, not in the man page"
            missing=$((missing + 1))
        fi
    done
done
[ "$missing" -eq 0 ] && ok /man/every_help_option

# ---- config keys, environment, exit codes, from the sources -----------------
sed -n '/^\.SH CONFIGURATION/,/^\.SH ENVIRONMENT/p' "$MAN" | sed 's/\\-/-/g' \
    >"$W/config.roff"
missing=0
mapfile -t keys < <(grep -o '{"[a-z-]*", [a-z_]*_argument' \
    "$P11E_SOURCE_DIR/agent/enroll_args.c" | sed 's/{"\([^"]*\)".*/\1/' | sort -u)
for key in "${keys[@]}"; do
    case $key in help | config) continue ;; esac
    if ! grep -qE "(^|[ (])$key([ ,]|$)" "$W/config.roff"; then
        bad "/man/config_key $key" "not in CONFIGURATION"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] && ok /man/every_config_key

sed -n '/^ENVIRONMENT$/,/^FILES$/p' "$W/man.txt" >"$W/env.txt"
missing=0
mapfile -t vars < <(grep -rhoE 'getenv\("[A-Za-z0-9_]+"\)' \
    "$P11E_SOURCE_DIR/agent" "$P11E_SOURCE_DIR/pkcs11" |
    sed 's/getenv("\(.*\)")/\1/' | sort -u)
for var in "${vars[@]}"; do
    if ! grep -qw -- "$var" "$W/env.txt"; then
        bad "/man/environment $var" "read by the code, not in ENVIRONMENT"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] && ok /man/every_environment_variable

sed -n '/^EXIT STATUS$/,/^EXAMPLES$/p' "$W/man.txt" >"$W/exit.txt"
missing=0
mapfile -t codes < <(sed -n 's/^ *PE_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' \
    "$P11E_SOURCE_DIR/common/rc.h")
for code in "${codes[@]}"; do
    if ! grep -qE "^ {7}$code( |\$)" "$W/exit.txt"; then
        bad "/man/exit_code $code" "not in EXIT STATUS"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] && ok /man/every_exit_code

check_done
