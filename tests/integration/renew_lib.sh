# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/renew_lib.sh - the set-up the renew_*.sh tests share;
# source it right after `set -u`: a SoftHSM token, scm-sim issuing 1-day
# certificates (its shortest term) over HTTPS, the PIN and client secret in
# files in the work folder $W (the current directory), no /etc/p11enroll,
# and the ok/bad/expect/check helpers of tests/lib/check_lib.sh (check's
# output in last.out).
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
W=$FX_DIR/work
mkdir -p "$W"
cd "$W" || exit 1
cat >sim.json <<'EOF'
{"profiles": [{"name": "Short", "terms": [1, 365]}],
 "forms": [{"uri": "cs", "department": "Engineering", "profile": "Short",
            "eulaId": "e1", "eulaText": "EULA", "requiredFields": ["csr"]}],
 "restAccounts": [{"clientId": "p11e-client",
                   "clientSecret": "p11e-secret-0123456789",
                   "department": "Engineering", "profile": "Short",
                   "term": 1}]}
EOF
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
scm_sim_start_config "$W/sim.json"
export P11ENROLL_CONF_DIR=$W/no-conf # no /etc/p11enroll here
printf '%s\n' "$FX_USER_PIN" >pin
printf 'p11e-secret-0123456789\n' >secret
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
CHECK_OUT=last.out # check's output, for the tests to look into
