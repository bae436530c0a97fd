# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/renew_lib.sh - the set-up the renew_*.sh tests share;
# source it right after `set -u`: a SoftHSM token, scm-sim issuing 1-day
# certificates (its shortest term) over HTTPS to REST account p11e-client
# and 365-day ones to p11e-year (same secret), the form at
# $SCM_SIM_URL/customer/demo/cs/cs (term 1 or 365), the PIN and client
# secret in files in the work folder $W (the current directory), no
# /etc/p11enroll, renew_otp_fifo, and the ok/bad/expect/check helpers of
# tests/lib/check_lib.sh (check's output in last.out).
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
                   "term": 1},
                  {"clientId": "p11e-year",
                   "clientSecret": "p11e-secret-0123456789",
                   "department": "Engineering", "profile": "Short",
                   "term": 365}]}
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

# renew_otp_fifo EMAIL: a FIFO that gets the next one-time code mailed to
# EMAIL (for --otp-file), once scm-sim's outbox has a new message
renew_otp_fifo() {
    scm_sim_otp_fifo "$W" "$1"
}

# renew_objects WHAT: sorted IDs on the token, one a line; WHAT is "keys"
# (private keys), "leaves" or "chain" (certificates not / of category
# authority), or "subjects" (the leaves' subjects)
renew_objects() {
    "$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" \
        --pin-file "$W/pin" --json 2>/dev/null |
        python3 -c '
import json, sys
d = json.load(sys.stdin)["result"]
what = sys.argv[1]
if what == "keys":
    ids = [k["id"] for k in d["keys"] if k["class"] == "private"]
elif what == "subjects":
    ids = [c["subject"] for c in d["certificates"]
           if c["category"] != "authority"]
else:
    ca = what == "chain"
    ids = [c["id"] for c in d["certificates"]
           if (c["category"] == "authority") == ca]
print("\n".join(sorted(ids)))' "$1"
}
