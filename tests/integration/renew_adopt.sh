#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No silent miss, and `p11enroll adopt`.  A 1-day certificate on a SoftHSM
# token was enrolled into another state folder (as a person would by hand,
# or another tool), so the journal `renew` reads has no record of it:
# - `renew` fails with exit 11 and one line naming the certificate, its
#   end and the `p11enroll adopt` command that fixes it (text and --json);
#   the token is unchanged;
# - `adopt` records it (and refuses twice, a wrong key ID, no endpoint);
# - then `renew` renews it, through the adopted record's endpoint;
# - the default window (no --within) of a 1-day certificate is a third of
#   its lifetime: not due just after issuance, next due 8 hours before its
#   end;
# - once the renewal's certificate is gone from the token, the old one is
#   no longer "superseded" but due again (--dry-run: nothing ordered).
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

T=(--token "$FX_URI" --module "$FX_MODULE" --pin-file "$W/pin")
R=("$P11ENROLL" renew --state-dir "$W/state" "${T[@]}")
REST=(--endpoint "$SCM_SIM_URL" --client-id p11e-client
    --client-secret-file "$W/secret" --ca-file "$SCM_SIM_CA_FILE"
    --trust "$SCM_SIM_ROOTS" --email dev@example.org)

"$P11ENROLL" enroll "${T[@]}" "${REST[@]}" --state-dir "$W/elsewhere" \
    >enroll.out 2>&1 || { cat enroll.out; bad /adopt/setup "enroll failed"; }
key=$(renew_objects keys)
expect /adopt/setup/one_key test -n "$key"
sleep 1

# ---- unmanaged within the window: the run fails, naming it ----------------
check /adopt/unmanaged 11 "unmanaged  Certificate \"CN=Dana Developer" \
    -- "${R[@]}" --within 2d
expect /adopt/unmanaged/names_id_and_end \
    grep -q "(ID $key) ends 20[0-9-]*T[0-9:]*Z and is not renewed" last.out
expect /adopt/unmanaged/fix grep -q \
    "fix: p11enroll adopt --token 'pkcs11:[^']*token=p11e-test' --key-id $key" \
    last.out
expect /adopt/unmanaged/summary grep -q "^1 certificate in the renewal window" \
    last.out
expect /adopt/unmanaged/no_nothing_to_renew \
    test "$(grep -c 'Nothing to renew' last.out)" = 0
check /adopt/unmanaged_json 11 '"outcome": "unmanaged"' \
    -- "${R[@]}" --within 2d --json
expect /adopt/unmanaged_json/code python3 -c '
import json, sys
e = json.JSONDecoder().raw_decode(open(sys.argv[1]).read())[0]
assert e["error"]["code"] == 11, e["error"]
c = [c for c in e["result"]["certificates"] if c["outcome"] == "unmanaged"]
assert len(c) == 1 and c[0]["fix"].startswith("p11enroll adopt "), c' last.out
expect /adopt/unmanaged/token_unchanged [ "$(renew_objects keys)" = "$key" ]
expect /adopt/unmanaged/no_record test ! -e "$W/state" -o -z "$(ls "$W/state"/*.json 2>/dev/null)"

# ---- adopt ---------------------------------------------------------------------
check /adopt/needs_endpoint 2 "adopt needs the endpoint" \
    -- "$P11ENROLL" adopt "${T[@]}" --email dev@example.org \
    --state-dir "$W/state"
check /adopt/wrong_key_id 7 "no certificate with ID 7777" \
    -- "$P11ENROLL" adopt "${T[@]}" "${REST[@]}" --key-id 7777 \
    --state-dir "$W/state"
check /adopt/adopted 0 "Adopted certificate \"CN=Dana Developer" \
    -- "$P11ENROLL" adopt "${T[@]}" "${REST[@]}" --key-id "$key" \
    --state-dir "$W/state"
expect /adopt/record python3 -c '
import json, glob, sys
r = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
assert len(r) == 1, r
r = r[0]
assert r["status"] == "installed" and r["keyOrigin"] == "adopted", r
assert r["keyId"] == sys.argv[2] and r["url"] == sys.argv[3], r
assert r["keyType"] == "ec-p256" and r["certSerial"], r
assert "p11e-secret-0123456789" not in json.dumps(r), r' \
    "$W/state" "$key" "$SCM_SIM_URL"
check /adopt/twice 10 "managed by enrollment" \
    -- "$P11ENROLL" adopt "${T[@]}" "${REST[@]}" --key-id "$key" \
    --state-dir "$W/state"
expect /adopt/token_unchanged [ "$(renew_objects keys)" = "$key" ]

# ---- then renew renews it ------------------------------------------------------
check /adopt/renewed 0 "renewed    Certificate \"CN=Dana Developer" \
    -- "$P11ENROLL" renew --state-dir "$W/state" --token "$FX_URI" \
    --module "$FX_MODULE" --within 2d
expect /adopt/renewed/new_key [ "$(renew_objects keys | grep -c .)" = 2 ]
check /adopt/renewed/superseded 0 "superseded Certificate" \
    -- "${R[@]}" --within 12h

# ---- the default window: a third of a 1-day certificate's lifetime -------------
check /adopt/default_window 0 '"outcome": "not-due"' -- "${R[@]}" --json
expect /adopt/default_window/next_due python3 -c '
import json, sys, datetime as dt
e = json.load(open(sys.argv[1]))["result"]
assert e["window_seconds"] is None, e
c = [c for c in e["certificates"] if c["outcome"] == "not-due"]
assert len(c) == 1, c
end = dt.datetime.strptime(c[0]["not_after"], "%Y-%m-%dT%H:%M:%SZ")
due = dt.datetime.strptime(e["next_due"], "%Y-%m-%dT%H:%M:%SZ")
assert end - due == dt.timedelta(hours=8), (end, due)' last.out

# ---- a successor that is gone supersedes nothing: the old one is due again -----
new_key=$(renew_objects keys | grep -vxF "$key")
pkcs11-tool --module "$FX_MODULE" --token-label p11e-test --login \
    --pin "$FX_USER_PIN" --delete-object --type cert --id "$new_key" \
    >/dev/null 2>&1
expect /adopt/successor_gone/deleted \
    test "$(renew_objects leaves | grep -cxF "$new_key")" = 0
check /adopt/successor_gone/due_again 0 "would be renewed" \
    -- "${R[@]}" --within 2d --dry-run
expect /adopt/successor_gone/the_old_one grep -q "^due .*(ID $key, " last.out
expect /adopt/successor_gone/not_superseded \
    test "$(grep -c '^superseded' last.out)" = 0

check_done
