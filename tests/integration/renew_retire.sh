#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `p11enroll renew --retire-old` against scm-sim issuing 1-day certificates
# onto a SoftHSM token; what is on the token is read with
# `p11enroll list --json` (result.keys / result.certificates):
# - after a renewal, --retire-old removes the old certificate and its key
#   pair, keeps the new pair, leaves the chain certificates alone, and says
#   "retired" (text and --json, with what was removed);
# - a renewal and the retirement of the leaf it replaced in one run;
# - --reuse-key: the certificate was replaced in place, nothing retired;
# - a pending renewal (--no-wait): nothing removed.
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

T=(--token "$FX_URI" --module "$FX_MODULE")
R=("$P11ENROLL" renew --state-dir "$W/state")

# objects WHAT: sorted IDs on the token, one a line; WHAT is "keys" (private
# keys), "leaves" or "chain" (certificates not / of category authority).
objects() {
    "$P11ENROLL" list "${T[@]}" --pin-file "$W/pin" --json 2>/dev/null |
        python3 -c '
import json, sys
d = json.load(sys.stdin)["result"]
what = sys.argv[1]
if what == "keys":
    ids = [k["id"] for k in d["keys"] if k["class"] == "private"]
else:
    ca = what == "chain"
    ids = [c["id"] for c in d["certificates"]
           if (c["category"] == "authority") == ca]
print("\n".join(sorted(ids)))' "$1"
}
n_of() { objects "$1" | grep -c .; }

# ---- enrollment, then a renewal that keeps the old pair -----------------------
"$P11ENROLL" enroll "${T[@]}" --pin-file "$W/pin" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$W/secret" \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --email dev@example.org --state-dir "$W/state" >enroll.out 2>&1 ||
    { cat enroll.out; bad /retire/setup "enroll failed"; }
key1=$(objects keys)
chain=$(objects chain)
expect /retire/setup/one_key [ "$(n_of keys)" = 1 ]
expect /retire/setup/one_leaf [ "$(n_of leaves)" = 1 ]
expect /retire/setup/chain [ "$(n_of chain)" = 2 ]
sleep 1
check /retire/renewed 0 "renewed" -- "${R[@]}" --within 30d
expect /retire/renewed/two_keys [ "$(n_of keys)" = 2 ]
expect /retire/renewed/two_leaves [ "$(n_of leaves)" = 2 ]
key2=$(objects keys | grep -vxF "$key1")

# ---- --retire-old: the old pair goes, the new pair and the chain stay ---------
check /retire/json 0 '"outcome": "retired"' \
    -- "${R[@]}" --within 12h --retire-old --yes --json
expect /retire/json/removed python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert e["command"] == "renew" and e["error"] is None, e
r = [c for c in e["result"]["certificates"] if c["outcome"] == "retired"]
assert len(r) == 1, r
assert r[0]["key_id"] == sys.argv[2], r
assert r[0]["removed"] == {"certificates": 1, "key": True}, r' \
    last.out "$key1"
expect /retire/one_key [ "$(n_of keys)" = 1 ]
expect /retire/new_key_kept [ "$(objects keys)" = "$key2" ]
expect /retire/one_leaf [ "$(objects leaves)" = "$key2" ]
expect /retire/chain_untouched [ "$(objects chain)" = "$chain" ]
check /retire/then_nothing 0 "Nothing to renew" \
    -- "${R[@]}" --within 12h --retire-old --yes
expect /retire/then_nothing/no_retired_line \
    test "$(grep -c '^retired' last.out)" = 0

# ---- renewed and retired in the same run ----------------------------------------
sleep 1
check /retire/same_run 0 "retired    Certificate" \
    -- "${R[@]}" --within 30d --retire-old --yes
expect /retire/same_run/renewed grep -q '^renewed' last.out
expect /retire/same_run/key_removed grep -q 'was removed with its key pair' \
    last.out
expect /retire/same_run/one_key [ "$(n_of keys)" = 1 ]
expect /retire/same_run/new_key [ "$(objects keys)" != "$key2" ]
expect /retire/same_run/one_leaf [ "$(n_of leaves)" = 1 ]
expect /retire/same_run/chain_untouched [ "$(objects chain)" = "$chain" ]

# ---- --reuse-key: replaced in place, nothing left to retire --------------------
key3=$(objects keys)
sleep 1
check /retire/reuse_key 0 "renewed" \
    -- "${R[@]}" --within 30d --reuse-key --retire-old --yes
expect /retire/reuse_key/nothing_retired \
    test "$(grep -c '^retired' last.out)" = 0
expect /retire/reuse_key/same_key [ "$(objects keys)" = "$key3" ]
expect /retire/reuse_key/one_leaf [ "$(objects leaves)" = "$key3" ]

# ---- pending: nothing removed ------------------------------------------------------
scm_sim_delay 600
sleep 1
check /retire/pending 3 "pending" -- "${R[@]}" --within 30d --no-wait --retire-old --yes
expect /retire/pending/nothing_retired test "$(grep -c '^retired' last.out)" = 0
expect /retire/pending/old_leaf_kept [ "$(objects leaves)" = "$key3" ]
expect /retire/pending/old_key_kept grep -qxF "$key3" <(objects keys)
expect /retire/pending/chain_untouched [ "$(objects chain)" = "$chain" ]
scm_sim_delay 0

check_done
