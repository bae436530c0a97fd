# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/recipe_lib.sh - what the sign-setup and export tests share.
# Source it from a test; it sources the SoftHSM fixture, scm_sim_lib.sh and
# tests/lib/e2e_lib.sh, then:
#   recipe_need TOOL...          skip (77) unless every tool is installed
#   recipe_begin                 a token, scm-sim, a work folder (cwd), the
#                                PIN and client secret files; ok/bad/show
#   recipe_enroll NAME KEYTYPE   p11enroll enroll against scm-sim; writes
#                                NAME.leaf.pem, NAME.chain.pem (what enroll
#                                installed) and sets KEY_URI
#   recipe_make NAME TOOL [ARGS] p11enroll sign-setup TOOL for key NAME;
#                                the recipe (its standard output) goes to
#                                NAME.TOOL.sh, the files to NAME.files/
#   recipe_run NAME TOOL IN OUT  run the recipe exactly as printed, with IN
#                                and OUT set, output in NAME.TOOL.run.out
#   recipe_no_pin FILE...        the PIN appears in none of the files
#   recipe_build_efi OUT         a tiny EFI application (gcc + objcopy)
#   recipe_end                   print the count; exit status

: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
# shellcheck source=tests/lib/e2e_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/e2e_lib.sh"

recipe_need() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null; then
            if [ -n "${P11E_NO_SKIP:-}" ]; then
                echo "$tool is missing" >&2
                exit 1
            fi
            echo "skipped: $tool is not installed" >&2
            exit 77
        fi
    done
}

passed=0 failed=0
ok() {
    passed=$((passed + 1))
    echo "ok   $1"
}
bad() {
    failed=$((failed + 1))
    echo "FAIL $1: $2"
}
show() { sed 's/^/    /' "$1"; }

recipe_begin() {
    fx_softhsm_begin p11e-sign
    scm_sim_start || exit 1
    W=$FX_DIR/work
    mkdir -p "$W"
    cd "$W" || exit 1
    printf '%s\n' "$FX_USER_PIN" >pin
    printf '%s' p11e-secret-0123456789 >client-secret
    chmod 600 pin client-secret
}

recipe_enroll() {
    local name=$1 kt=$2 rc
    e2e_enroll "$name" "$kt" "$FX_URI" "$FX_MODULE" "$W/state"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        bad "$name/enroll" "exit $rc, output:"
        show "$name.out"
        return 1
    fi
    ok "$name/enroll"
}

recipe_make() {
    local name=$1 tool=$2 rc
    shift 2
    "$P11ENROLL" sign-setup "$tool" --token "$FX_URI" --module "$FX_MODULE" \
        --label "$name" --dir "$name.files" "$@" \
        >"$name.$tool.sh" 2>"$name.$tool.err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        bad "$name/$tool/sign_setup" "exit $rc:"
        show "$name.$tool.err"
        return 1
    fi
    ok "$name/$tool/sign_setup"
}

# The recipe is run by sh as it was printed: no command is retyped here.
recipe_run() {
    local name=$1 tool=$2 rc
    IN=$3 OUT=$4 sh "$name.$tool.sh" >"$name.$tool.run.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$4" ]; then
        bad "$name/$tool/recipe_runs" "exit $rc, output:"
        show "$name.$tool.run.out"
        return 1
    fi
    ok "$name/$tool/recipe_runs"
}

recipe_no_pin() {
    local f leak=''
    for f in "$@"; do
        if grep -q -w -- "$FX_USER_PIN" "$f" || grep -q 'pin-value' "$f"; then
            leak="$leak $f"
        fi
    done
    if [ -z "$leak" ]; then
        ok /recipe/no_pin_in_recipe_or_files
    else
        bad /recipe/no_pin_in_recipe_or_files "the PIN is in$leak"
    fi
}

# recipe_build_efi OUT: efi_main returning 0, linked static at a fixed
# address and turned into a PE32+ EFI application holding only .text, so
# that no section overlaps the headers (sbsign hashes every byte of it).
recipe_build_efi() {
    local out=$1 dir
    dir=$(dirname "$out")
    cat >"$dir/efi.c" <<'EOF'
unsigned long efi_main(void *image, void *systab)
{
    (void)image;
    (void)systab;
    return 0;
}
EOF
    gcc -O2 -fno-pic -no-pie -static -fno-stack-protector -fshort-wchar \
        -mno-red-zone -ffreestanding -nostdlib -Wl,-e,efi_main \
        -Wl,--build-id=none -o "$dir/efi.elf" "$dir/efi.c" || return 1
    objcopy -S -j .text --target=efi-app-x86_64 --subsystem=efi-app \
        "$dir/efi.elf" "$out"
}

recipe_end() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
