#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contrib/completion/p11enroll.bash offers every command (and `help CMD`),
# every option of each command's --help and no option family such as
# "--so-pin-*"; and the values a user would otherwise copy by hand: the
# token URIs of `p11enroll tokens`, p11-kit module names, PIV slots and the
# enrollment IDs of `status` in the --state-dir on the line.  Completion is
# run the way bash runs it: COMP_LINE up to the cursor and COMP_WORDS split
# at COMP_WORDBREAKS, so a URI's ':', '=' and ';' are handled as in a shell.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
COMPLETION=$P11E_SOURCE_DIR/contrib/completion/p11enroll.bash
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup # a SoftHSM token "p11e-test" and scm-sim, for a recorded enrollment
W=$EN

# complete LINE: COMPREPLY for the end of LINE (typed up to the cursor),
# one per line, as bash's programmable completion calls the function
complete_line() {
    bash -c '
        source "$1"
        COMP_LINE=$2
        COMP_POINT=${#2}
        # bash splits at blanks and at COMP_WORDBREAKS characters
        words=$(printf "%s" "$2" | sed "s/\([:=;]\)/ \1 /g")
        read -ra COMP_WORDS <<<"$words"
        [[ $2 == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _p11enroll
        printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$1"
}
# complete WORDS...: the same with COMP_WORDS only (no COMP_LINE)
complete_words() {
    bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _p11enroll
        printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@"
}
P=$P11ENROLL
# same NAME GOT WANT
same() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "offered: $2"; fi
}

if bash -n "$COMPLETION"; then ok /completion/parses; else bad /completion/parses "bash -n"; fi

# ---- every command, and every option its --help lists -----------------------
mapfile -t commands < <("$P" --help |
    sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
for c in forget export sign-setup; do
    printf '%s\n' "${commands[@]}" | grep -qx -- "$c" ||
        bad "/completion/help_lists $c" "p11enroll --help does not list $c"
done
offered=$(complete_words "$P" "")
missing=0
for cmd in "${commands[@]}" help; do
    if ! printf '%s\n' "$offered" | grep -qx -- "$cmd"; then
        bad "/completion/command $cmd" "not offered"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] && ok "/completion/every_command (${commands[*]} help)"
offered=$(complete_line "$P help si")
same /completion/help_command "$offered" sign-setup

missing=0
for cmd in "${commands[@]}"; do
    offered=$(complete_line "$P $cmd --")
    # an option family ("--so-pin-*") is not an option
    mapfile -t opts < <("$P" "$cmd" --help 2>&1 |
        grep -o -- '--[a-z][a-z0-9-]*' | grep -v -- '-$' | sort -u)
    for opt in "${opts[@]}" --quiet --verbose; do
        if ! printf '%s\n' "$offered" | grep -qx -- "$opt"; then
            bad "/completion/option $cmd $opt" "not offered"
            missing=$((missing + 1))
        fi
    done
    if printf '%s\n' "$offered" | grep -q -- '-$'; then
        bad "/completion/no_family $cmd" "$(printf '%s\n' "$offered" | grep -- '-$')"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] && ok /completion/every_help_option
offered=$(complete_line "$P enroll --so-pin-")
if [ "$(printf '%s\n' "$offered" | sort | tr '\n' ' ')" = \
    "--so-pin-env --so-pin-fd --so-pin-file --so-pin-source " ]; then
    ok /completion/so_pin_no_stray
else
    bad /completion/so_pin_no_stray "$offered"
fi
offered=$(complete_words "$P" enroll --key-type ec)
same /completion/key_types "$(printf '%s\n' "$offered" | sort | tr '\n' ' ')" \
    "ec-p256 ec-p384 "
offered=$(complete_words "$P" doctor --wi)
same /completion/prefix "$offered" --within
for c in enroll resume install; do
    offered=$(complete_words "$P" "$c" --trust-b)
    same "/completion/trust_bundle_root/$c" "$offered" --trust-bundle-root
done

# ---- PIV slots --------------------------------------------------------------
offered=$(complete_line "$P enroll --slot " | tr '\n' ' ')
want="9a 9c 9d 9e $(printf '%x ' $(seq $((0x82)) $((0x95))))"
same /completion/slots "$offered" "$want"
offered=$(complete_line "$P resume --slot 9" | tr '\n' ' ')
same /completion/slots_prefix "$offered" "9a 9c 9d 9e 90 91 92 93 94 95 "
same /completion/slot_equals "$(complete_line "$P enroll --slot=9e")" 9e

# ---- token URIs, from `p11enroll tokens --json` -----------------------------
uri=$("$P" tokens --json --module "$FX_MODULE" 2>/dev/null |
    sed -n 's/^ *"uri": "\(.*token=p11e-test\)",\{0,1\}$/\1/p')
if [[ $uri == pkcs11:*\;* ]]; then
    ok "/completion/token_uri_listed ($uri)"
else
    bad /completion/token_uri_listed "tokens --json lists no URI for p11e-test: $uri"
fi
# unquoted: readline replaces the text after the last ':', '=' or ';', and
# a ';' must reach the shell escaped (typed escaped, as a completion leaves it)
# (the serial's first character tells the token from the free slot)
head=${uri%%serial=*}serial=
serial=${uri#"$head"}
printf -v typed '%q' "$head${serial:0:1}"
offered=$(complete_line "$P list --module $FX_MODULE --token $typed")
got="${typed%=*}=$offered"
if [ "$(printf '%s\n' "$offered" | wc -l)" -eq 1 ] &&
    [ "${got//\\/}" = "$uri" ] && [[ $offered == *'\;'* ]]; then
    ok /completion/token_uri_unquoted
else
    bad /completion/token_uri_unquoted "after $typed: $offered"
fi
# --token=URI: the same, after the '='
offered=$(complete_line "$P list --module=$FX_MODULE --token=$typed")
got="${typed%=*}=$offered"
if [ "${got//\\/}" = "$uri" ]; then
    ok /completion/token_uri_equals
else
    bad /completion/token_uri_equals "after --token=$typed: $offered"
fi
# with the --module of the line, or the modules p11-kit registers
offered=$(complete_line "$P enroll --token 'pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=")
if printf '%s\n' "$offered" | grep -qxF -- "$uri"; then
    ok /completion/token_uri_quoted
else
    bad /completion/token_uri_quoted "$offered"
fi

# ---- p11-kit module names and module files ---------------------------------
names=()
for f in /usr/share/p11-kit/modules/*.module /etc/pkcs11/modules/*.module; do
    [ -f "$f" ] && names+=("$(basename "$f" .module)")
done
if [ "${#names[@]}" -eq 0 ]; then
    bad /completion/module_names "no p11-kit module files in /usr/share/p11-kit/modules"
else
    offered=$(complete_line "$P tokens --module ")
    missing=0
    for n in "${names[@]}"; do
        printf '%s\n' "$offered" | grep -qx -- "$n" || missing=$((missing + 1))
    done
    same "/completion/module_names (${names[*]})" "$missing" 0
fi
offered=$(complete_line "$P tokens --module ${FX_MODULE%/*}/libsofthsm")
same /completion/module_path "$offered" "$FX_MODULE"

# ---- enrollment IDs, from `status --json` in the --state-dir of the line ----
en_run nowait en_rest --label completion --no-wait
[ "$EN_RC" -eq 3 ] || [ "$EN_RC" -eq 0 ] || bad /completion/enroll "exit $EN_RC"
id=$("$P" status --json --state-dir "$EN_STATE" |
    sed -n 's/^ *"id": "\(.*\)",\{0,1\}$/\1/p')
if [ -n "$id" ] && [ "$(printf '%s\n' "$id" | wc -l)" -eq 1 ]; then
    ok "/completion/recorded ($id)"
else
    bad /completion/recorded "status --json gives ids: $id"
fi
for cmd in resume status forget; do
    offered=$(complete_line "$P $cmd --state-dir $EN_STATE ")
    same "/completion/id $cmd" "$offered" "${id:-(no id)}"
done
offered=$(complete_line "$P forget --state-dir=$EN_STATE ${id:0:3}")
same /completion/id_state_dir_equals "$offered" "${id:-(no id)}"
# another state folder: none of this one's IDs
mkdir -p "$W/empty"
offered=$(complete_line "$P status --state-dir $W/empty ")
same /completion/id_other_dir "$offered" ""

check_done
