#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scm-sim prints, at start, the p11enroll command lines of both ways in
# against itself; the REST one, with only the token's placeholders filled
# in, enrolls; the client secret is in the file it names, not on the line.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
fx_softhsm_begin p11e-test
scm_sim_start
out=$SCM_SIM_STATE/stdout
printf '%s\n' "$FX_USER_PIN" >"$FX_DIR/pin"

# the command of the comment line holding WHAT, joined into one line
command_of() {
    sed -n "/^# .*$1/,/^#/p" "$out" | grep -v '^#' | sed 's/ *\\$//' |
        tr '\n' ' '
}
rest=$(command_of 'REST endpoint')
form=$(command_of 'self-enrollment form')
for want in "--endpoint $SCM_SIM_URL" "--client-id p11e-client" \
    "--client-secret-file $SCM_SIM_STATE/client-secret" \
    "--ca-file $SCM_SIM_CA_FILE" "--trust $SCM_SIM_ROOTS" "--email "; do
    case $rest in
    *"$want"*) ok "/hint/rest_has $want" ;;
    *) bad /hint/rest_has "no \"$want\" in: $rest" ;;
    esac
done
for want in "--form $SCM_SIM_URL/customer/demo/cs/cs" "--email dev@example.org" \
    "$SCM_SIM_OUTBOX"; do
    if printf '%s\n' "$form" | grep -qF -- "$want" ||
        grep -q "^# self-enrollment form.*$want" "$out"; then
        ok "/hint/form_has $want"
    else
        bad /hint/form_has "no \"$want\" in: $form"
    fi
done
if grep -q p11e-secret-0123456789 "$out"; then
    bad /hint/no_secret_printed "the client secret is on stdout"
else
    ok /hint/no_secret_printed
fi

rest=${rest//\"pkcs11:token=YOUR-TOKEN\"/$FX_URI}
rest=${rest//YOUR-MODULE/$FX_MODULE}
rest=${rest//YOUR-PIN-FILE/$FX_DIR/pin}
read -r -a cmd <<<"$rest"
cmd[0]=$P11ENROLL
mkdir -p "$FX_DIR/conf"
check /hint/rest_line_enrolls 0 "Installed" -- \
    env P11ENROLL_CONF_DIR="$FX_DIR/conf" "${cmd[@]}" --state-dir "$FX_DIR/state"
check_done
