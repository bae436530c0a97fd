#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A failed renewal is not a trap.  A SoftHSM token behind the pass-through
# mock module, whose C_GenerateKeyPair fails (P11E_MOCK_FAIL), as a token
# that cannot make the key type would:
# - the renewal fails (exit 7) with a line naming the certificate, its end
#   and `resume`/`forget` of the renewal; its record stays unfinished and
#   names its predecessor; the old certificate and key are untouched; running renew
#   again does not start a second renewal beside it;
# - giving --reuse-key now applies to that unfinished renewal: it renews
#   with the key already there, no key generation needed;
# - `p11enroll forget ID` abandons an unfinished renewal; the next renew
#   starts afresh and renews.
#
# AFTER MERGE: the last two need the state-machine branch (issue 15):
# `enroll_settings_resolve` (options given now apply to an unfinished
# renewal) and `p11enroll forget`.  Until then they are listed as skipped;
# set AFTER_MERGE=1 below when both are in.
AFTER_MERGE=1
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

if [ -z "${P11E_MOCK:-}" ] || [ ! -r "$P11E_MOCK" ]; then
    bad /failed/mock "P11E_MOCK is not set: the mock module was not built"
    check_done
    exit 1
fi
export P11E_MOCK_TARGET=$FX_MODULE
T=(--token "$FX_URI" --module "$P11E_MOCK" --pin-file "$W/pin")
R=("$P11ENROLL" renew --state-dir "$W/state" "${T[@]}" --within 2d)
KEYGEN_FAILS=C_GenerateKeyPair=CKR_DEVICE_ERROR

# unfinished renewal records of the state folder, one id a line
unfinished() {
    python3 -c '
import json, glob
for f in sorted(glob.glob("state/*.json")):
    r = json.load(open(f))
    if r.get("predecessorCertSha256") and r["status"] != "installed":
        print(r["id"])'
}

"$P11ENROLL" enroll "${T[@]}" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$W/secret" \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --email dev@example.org --state-dir "$W/state" >enroll.out 2>&1 ||
    { cat enroll.out; bad /failed/setup "enroll failed"; }
key=$(renew_objects keys)
leaf=$(renew_objects leaves)
sleep 1

# ---- key generation fails: exit 7, one unfinished renewal, nothing lost ------
check /failed/keygen 7 "failed" -- env P11E_MOCK_FAIL=$KEYGEN_FAILS "${R[@]}"
expect /failed/keygen/one_unfinished test "$(unfinished | grep -c .)" = 1
expect /failed/keygen/names_predecessor python3 -c '
import json, sys
r = json.load(open("state/%s.json" % sys.argv[1]))
assert r["predecessorKeyId"] == sys.argv[2], r' "$(unfinished)" "$key"
expect /failed/keygen/says_how_on grep -q \
    "^failed .*(ID $key, ends .*) was not renewed: .*fix: p11enroll resume $(unfinished) .* or p11enroll forget $(unfinished)" \
    last.out
expect /failed/keygen/old_kept [ "$(renew_objects leaves)" = "$leaf" ]
expect /failed/keygen/key_kept [ "$(renew_objects keys)" = "$key" ]
check /failed/again 7 "Finishing renewal" \
    -- env P11E_MOCK_FAIL=$KEYGEN_FAILS "${R[@]}"
expect /failed/again/no_second_renewal test "$(unfinished | grep -c .)" = 1

if [ "$AFTER_MERGE" != 1 ]; then
    echo "skip /failed/reuse_key: AFTER MERGE (enroll_settings_resolve)"
    echo "skip /failed/forget: AFTER MERGE (p11enroll forget)"
    check_done
    exit $?
fi

# ---- --reuse-key resolves it, with the key pair already there -----------------
orders_before=$(scm_sim_admin GET /admin/requests | grep -o '"id"' | wc -l)
check /failed/reuse_key 0 "renewed" \
    -- env P11E_MOCK_FAIL=$KEYGEN_FAILS "${R[@]}" --reuse-key
expect /failed/reuse_key/none_unfinished test "$(unfinished | grep -c .)" = 0
expect /failed/reuse_key/same_key [ "$(renew_objects keys)" = "$key" ]
expect /failed/reuse_key/one_order test \
    "$(scm_sim_admin GET /admin/requests | grep -o '"id"' | wc -l)" = \
    $((orders_before + 1))

# ---- forget abandons it; the next run renews afresh ---------------------------
sleep 1
check /failed/keygen_again 7 "failed" \
    -- env P11E_MOCK_FAIL=$KEYGEN_FAILS "${R[@]}"
id=$(unfinished)
check /failed/forget 0 "$id" -- "$P11ENROLL" forget "$id" \
    --state-dir "$W/state" --yes
expect /failed/forget/none_unfinished test "$(unfinished | grep -c .)" = 0
check /failed/forget/then_renewed 0 "renewed" -- "${R[@]}"
expect /failed/forget/new_key [ "$(renew_objects keys | grep -c .)" = 2 ]

check_done
