#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lineage comes from the journal, never from a shared subject.  One person
# enrolls three separate certificates on one SoftHSM token, all with the
# same subject (scm-sim, like SCM, builds it from the person's name): a
# year through REST (EC P-256), a year through the form (RSA 3072), and a
# day through REST (EC P-384), the one that falls due.
# - `renew` renews only the due one; the others are "not-due", none is said
#   to be "renewed as" another;
# - `--retire-old --dry-run` lists only the due one's predecessor and
#   changes nothing; `--retire-old` without a terminal and without --yes is
#   refused (exit 2) before anything is done; on a terminal it asks, and
#   "n" keeps everything;
# - `--retire-old --yes` removes exactly that predecessor, its certificate
#   and key; the two separate enrollments' keys and certificates, the new
#   pair and the chain all stay; the successor's record keeps the removed
#   certificate (its SHA-256 is the recorded predecessor's);
# - `status --metrics` says so in node_exporter's textfile format.
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

T=(--token "$FX_URI" --module "$FX_MODULE" --pin-file "$W/pin")
CA=(--ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" --email
    dev@example.org --state-dir "$W/state")
R=("$P11ENROLL" renew --state-dir "$W/state" --token "$FX_URI"
    --module "$FX_MODULE")
n_of() { renew_objects "$1" | grep -c .; }

enroll_rest() { # CLIENT KEY-TYPE NAME
    "$P11ENROLL" enroll "${T[@]}" "${CA[@]}" --endpoint "$SCM_SIM_URL" \
        --client-id "$1" --client-secret-file "$W/secret" --key-type "$2" \
        --new >"$3.out" 2>&1 || { cat "$3.out"; bad "/lineage/setup/$3" failed; }
}
enroll_rest p11e-year ec-p256 rest-year
otp=$(renew_otp_fifo dev@example.org)
"$P11ENROLL" enroll "${T[@]}" "${CA[@]}" --new \
    --form "$SCM_SIM_URL/customer/demo/cs/cs" --otp-file "$otp" \
    --accept-eula --term 365 --key-type rsa-3072 >form-year.out 2>&1 ||
    { cat form-year.out; bad /lineage/setup/form-year failed; }
enroll_rest p11e-client ec-p384 rest-day
keys_separate=$(renew_objects keys)
chain=$(renew_objects chain)
expect /lineage/setup/three_keys [ "$(n_of keys)" = 3 ]
expect /lineage/setup/three_leaves [ "$(n_of leaves)" = 3 ]
expect /lineage/setup/one_subject \
    [ "$(renew_objects subjects | sort -u | grep -c .)" = 1 ]
day_key=$(python3 -c '
import json, glob
for f in glob.glob("state/*.json"):
    r = json.load(open(f))
    if r.get("keyType") == "ec-p384":
        print(r["keyId"])' 2>/dev/null)
expect /lineage/setup/day_key test -n "$day_key"

# ---- renew: only the due one -----------------------------------------------
sleep 1
check /lineage/renew 0 "renewed    Certificate" -- "${R[@]}" --within 2d
expect /lineage/renew/one_renewed test "$(grep -c '^renewed' last.out)" = 1
expect /lineage/renew/two_not_due test "$(grep -c '^not-due' last.out)" = 2
expect /lineage/renew/no_false_lineage \
    test "$(grep -c 'renewed as' last.out)" = 0
expect /lineage/renew/four_keys [ "$(n_of keys)" = 4 ]
new_key=$(renew_objects keys | grep -vxF "$keys_separate")
check /lineage/superseded_only_the_day_one 0 "superseded Certificate" \
    -- "${R[@]}" --within 12h
expect /lineage/superseded/one test "$(grep -c '^superseded' last.out)" = 1
expect /lineage/superseded/names_the_key \
    grep -q "^superseded .*(ID $day_key,.*renewed as ID $new_key" last.out

# ---- --dry-run and unattended without --yes: nothing changes -----------------
keys_before=$(renew_objects keys)
leaves_before=$(renew_objects leaves)
check /lineage/dry_run 0 "would-retire Certificate" \
    -- "${R[@]}" --within 12h --retire-old --dry-run
expect /lineage/dry_run/one test "$(grep -c '^would-retire' last.out)" = 1
expect /lineage/dry_run/the_day_one grep -q "^would-retire .*(ID $day_key," \
    last.out
expect /lineage/dry_run/keys_kept [ "$(renew_objects keys)" = "$keys_before" ]
expect /lineage/dry_run/leaves_kept \
    [ "$(renew_objects leaves)" = "$leaves_before" ]
check /lineage/unattended_needs_yes 2 "give --yes" \
    -- "${R[@]}" --within 12h --retire-old </dev/null
expect /lineage/unattended/keys_kept \
    [ "$(renew_objects keys)" = "$keys_before" ]

# ---- on a terminal it asks; "n" keeps everything -----------------------------
printf -v cmd '%q ' "${R[@]}" --within 12h --retire-old
printf 'n\n' | script -qec "$cmd" /dev/null >tty.out 2>&1
rc=$?
expect /lineage/terminal/asks grep -q "^Remove certificate .*(ID $day_key, .*\[y/N\]" tty.out
expect /lineage/terminal/no_keeps grep -q "was kept (not confirmed)" tty.out
expect /lineage/terminal/exit_0 [ "$rc" = 0 ]
expect /lineage/terminal/keys_kept [ "$(renew_objects keys)" = "$keys_before" ]

# ---- --retire-old --yes: only the predecessor goes ----------------------------
check /lineage/retire 0 "retired    Certificate" \
    -- "${R[@]}" --within 12h --retire-old --yes
expect /lineage/retire/one test "$(grep -c '^retired' last.out)" = 1
expect /lineage/retire/with_key grep -q "ID $day_key,.*with its key pair" \
    last.out
expect /lineage/retire/day_key_gone \
    test "$(renew_objects keys | grep -cxF "$day_key")" = 0
expect /lineage/retire/day_cert_gone \
    test "$(renew_objects leaves | grep -cxF "$day_key")" = 0
for k in $(printf '%s\n' "$keys_separate" | grep -vxF "$day_key") "$new_key"; do
    expect "/lineage/retire/key_kept/$k" grep -qxF "$k" <(renew_objects keys)
    expect "/lineage/retire/cert_kept/$k" grep -qxF "$k" <(renew_objects leaves)
done
expect /lineage/retire/three_keys [ "$(n_of keys)" = 3 ]
expect /lineage/retire/chain_untouched [ "$(renew_objects chain)" = "$chain" ]
expect /lineage/retire/journal_keeps_the_certificate python3 -c '
import json, glob, subprocess, sys
recs = [json.load(open(f)) for f in glob.glob("state/*.json")]
r = [r for r in recs if r.get("retiredAt")]
assert len(r) == 1, r
r = r[0]
assert r["predecessorKeyId"] == sys.argv[1], r
assert r["retiredKey"] == "removed", r
der = subprocess.run(["openssl", "x509", "-outform", "DER"],
                     input=r["retiredCert"].encode(), capture_output=True,
                     check=True).stdout
import hashlib
assert hashlib.sha256(der).hexdigest() == r["predecessorCertSha256"], r' \
    "$day_key"
check /lineage/retire/then_nothing 0 "Nothing to renew" \
    -- "${R[@]}" --within 12h --retire-old --yes
expect /lineage/retire/then_nothing/no_retired \
    test "$(grep -c '^retired' last.out)" = 0

# ---- status --metrics -----------------------------------------------------------
check /lineage/metrics 0 "" -- "$P11ENROLL" status --state-dir "$W/state" \
    --metrics "$W/p11enroll.prom"
expect /lineage/metrics/format python3 -c '
import re, sys
lines = open(sys.argv[1]).read().splitlines()
sample = re.compile(r"^p11enroll_[a-z_]+(\{([a-z_]+=\"([^\"\\\\]|\\\\.)*\",?)*\})? -?[0-9]+$")
for l in lines:
    assert l.startswith("# HELP ") or l.startswith("# TYPE ") or sample.match(l), l
na = [l for l in lines if l.startswith("p11enroll_certificate_not_after_seconds{")]
assert len(na) == 4, na
st = [re.search(r"state=\"([a-z-]+)\"", l).group(1) for l in lines
      if l.startswith("p11enroll_certificate_state{")]
assert sorted(st) == ["current", "current", "current", "retired"], st
retired = [l for l in lines if "state=\"retired\"" in l][0]
assert "key_id=\"%s\"" % sys.argv[2] in retired, retired' \
    "$W/p11enroll.prom" "$day_key"
expect /lineage/metrics/no_temp_left \
    test "$(find "$W" -maxdepth 1 -name 'p11enroll.prom?*' | wc -l)" = 0

check_done
