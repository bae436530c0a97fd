#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Trust of the issued chain (docs/PROTOCOL.md section 3): a root that only
# the downloaded bundle carries is never trusted on its own.  With no
# --trust and an empty system store the run stops with exit 9, naming the
# root and its SHA-256 and the two ways on; nothing is written to the
# token; `resume ID --trust-bundle-root` accepts that root and pins it; a
# renewal and a later enrollment at the same CA verify to the pin with no
# option; a bundle under another root of the same name is refused despite
# the pin; `resume ID --trust RIGHT` works too; a bundle without any root
# says to give --trust; the system store anchors a chain too.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

# the system's trust store, empty for this test: OpenSSL reads these for
# X509_STORE_set_default_paths (the CA's HTTPS is trusted by --ca-file)
: >"$EN/no-roots.pem"
mkdir -p "$EN/no-roots.d"
export SSL_CERT_FILE=$EN/no-roots.pem SSL_CERT_DIR=$EN/no-roots.d

# enroll without --trust (en_common without it)
bare() {
    "$P11ENROLL" enroll --module "$FX_MODULE" --token "$FX_URI" \
        --pin-file "$EN/pin" --ca-file "$SCM_SIM_CA_FILE" \
        --state-dir "$EN_STATE" --poll-interval 1 --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --client-secret-file "$EN/secret" \
        --email dev@example.org --key-type ec-p256 "$@"
}
status_next() { # ID: the "next:" line of status
    "$P11ENROLL" status --state-dir "$EN_STATE" "$1" | sed -n 's/^  next: //p'
}
field() { # ID NAME: a member of the record
    scm_sim_json_field "$2" <"$EN_STATE/$1.json"
}
fp_of() { # PEM: the SHA-256 fingerprint as `openssl x509` prints it
    openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}
hex_of() { fp_of "$1" | tr -d : | tr 'A-F' 'a-f'; }
ROOT=$SCM_SIM_STATE/ca/ec-root.pem
fp1=$(fp_of "$ROOT")
hex1=$(hex_of "$ROOT")

# ---- 1. no --trust, empty system store: exit 9, root and fingerprint -----
en_run noanchor bare --label first
en_expect_rc 9
en_expect_err '"CN=scm-sim EC Root CA'
en_expect_err "(SHA-256 $fp1)"
en_expect_err "which only the bundle vouches for"
en_expect_err "give --trust FILE with the CA's root, or --trust-bundle-root to accept this root once and pin it for renewals."
id=$(en_journal_id)
[ -n "$id" ] || en_fail "noanchor: no enrollment recorded"
[ "$(en_journal_status "$id")" = issued ] ||
    en_fail "noanchor: record is $(en_journal_status "$id"), expected issued"
en_expect_token 1 0 0
[ "$(field "$id" untrustedRoot)" = "$hex1" ] ||
    en_fail "noanchor: the record does not hold the refused root"
[ "$(status_next "$id")" = \
    "p11enroll resume $id --trust ROOT.pem (or --trust-bundle-root)" ] ||
    en_fail "noanchor: status next is \"$(status_next "$id")\""
"$P11ENROLL" status --state-dir "$EN_STATE" "$id" |
    grep -q "last error .*$fp1" || en_fail "noanchor: status lacks the root"
[ -z "$(field "$id" pinnedRoot)" ] || en_fail "noanchor: a root was pinned"

# ---- 2. resume --trust-bundle-root: installed, the root pinned ----------
en_run accept en_resume "$id" --trust-bundle-root
en_expect_rc 0
en_expect_err "Pinned the root \"CN=scm-sim EC Root CA"
en_expect_err "$fp1"
[ "$(en_journal_status "$id")" = installed ] || en_fail "accept: not installed"
en_expect_token 1 1 3
[ "$(field "$id" pinnedRootSha256)" = "$hex1" ] ||
    en_fail "accept: pinnedRootSha256 is not the root's"
field "$id" pinnedRoot >"$EN/pinned.pem"
[ "$(fp_of "$EN/pinned.pem")" = "$fp1" ] ||
    en_fail "accept: pinnedRoot is not the root"
[ -z "$(field "$id" untrustedRoot)$(field "$id" acceptBundleRoot)" ] ||
    en_fail "accept: the refusal or the acceptance stayed in the record"
[ "$(status_next "$id")" = "" ] || en_fail "accept: status names a next step"
"$P11ENROLL" status --state-dir "$EN_STATE" "$id" |
    grep -qxF "  pinned     root SHA-256 $fp1" ||
    en_fail "accept: status does not show the pin"
# the record's members as `status --json` prints them, checked as
# tests/integration/json_schema.sh checks every command's output
# shellcheck source=tests/lib/json_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/json_lib.sh"
PY=$(json_python) || PY=
if [ -n "$PY" ]; then
    "$P11ENROLL" status --json --state-dir "$EN_STATE" "$id" \
        >"$EN/status-json.out" || en_fail "status --json failed"
    "$PY" "$P11E_SOURCE_DIR/tests/lib/json_check.py" \
        "$P11E_SOURCE_DIR/docs/p11enroll.schema.json" "$EN/status-json.out" \
        status 0 'r["enrollments"][0]["pinned_root_sha256"] == "'"$hex1"'"' ||
        en_fail "status --json: not as the schema says, or no pin"
elif [ -n "${P11E_NO_SKIP:-}" ]; then
    en_fail "python3-jsonschema is not installed"
fi

# ---- 3. a renewal and a later enrollment verify to the pin, no option ----
en_run renew "$P11ENROLL" renew --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file "$EN/pin" --ca-file "$SCM_SIM_CA_FILE" \
    --state-dir "$EN_STATE" --poll-interval 1 --within 400d
en_expect_rc 0
grep -q '^renewed ' "$EN/renew.out" || {
    cat "$EN/renew.out" "$EN/renew.err" >&2
    en_fail "renew: nothing renewed"
}
en_expect_token 2 2 4
renewal=$(grep -l '"predecessorId"' "$EN_STATE"/*.json | head -n 1)
[ "$(scm_sim_json_field pinnedRootSha256 <"$renewal")" = "$hex1" ] ||
    en_fail "renew: the renewal did not inherit the pin"
[ "$(scm_sim_json_field trust <"$renewal")" = "" ] ||
    en_fail "renew: the renewal names a --trust file"
# a renewal sent to another CA URL (the same scm-sim under another name)
# inherits no pin: the root pinned for one CA vouches for no other
alt=${SCM_SIM_URL/127.0.0.1/localhost}
[ "$alt" != "$SCM_SIM_URL" ] || en_fail "no other name for $SCM_SIM_URL"
en_run moved "$P11ENROLL" renew --module "$FX_MODULE" --token "$FX_URI" \
    --pin-file "$EN/pin" --ca-file "$SCM_SIM_CA_FILE" \
    --state-dir "$EN_STATE" --poll-interval 1 --within 400d --reuse-key \
    --endpoint "$alt" --client-id p11e-client \
    --client-secret-file "$EN/secret" --token-url "$alt/oauth2/token"
en_expect_rc 9
en_expect_err "which only the bundle vouches for"
en_expect_token 2 2 4
moved_id=$(sed -n 's/.* as enrollment \([0-9TZa-f-]*\) .*/\1/p' "$EN/moved.err")
[ -n "$moved_id" ] || en_fail "moved: no renewal recorded"
[ "$(field "$moved_id" url)" = "$alt" ] ||
    en_fail "moved: the renewal is not at $alt"
[ -z "$(field "$moved_id" pinnedRoot)$(field "$moved_id" pinnedRootSha256)" ] ||
    en_fail "moved: the renewal kept the pin of $SCM_SIM_URL"
en_run later bare --label later
en_expect_rc 0
en_expect_token 3 3 5
later_id=$(en_journal_id)
[ -z "$(field "$later_id" pinnedRoot)" ] ||
    en_fail "later: pinned a root without --trust-bundle-root"

# ---- 4. another root of the same name: refused despite the pin ----------
scm_sim_stop
rm -f "$SCM_SIM_STATE"/ca/ec-root.* "$SCM_SIM_STATE"/ca/ec-int.*
scm_sim_restart # a new EC root and intermediate, the same names and URL
fp2=$(fp_of "$ROOT")
[ "$fp2" != "$fp1" ] || en_fail "scm-sim kept its root"
en_run other bare --label other
en_expect_rc 9
en_expect_err '"CN=scm-sim EC Root CA'
en_expect_err "(SHA-256 $fp2)"
en_expect_err "which only the bundle vouches for"
en_expect_err "(the root pinned under that name is SHA-256 $fp1: has the CA changed its root, or is this one forged?)"
other_id=$(en_journal_id)
[ "$(en_journal_status "$other_id")" = issued ] ||
    en_fail "other: record is $(en_journal_status "$other_id")"
[ "$(en_leafs)" -eq 3 ] || en_fail "other: a certificate was written"
en_run other_again en_resume "$other_id"
en_expect_rc 9
en_expect_err "(SHA-256 $fp2)"
[ "$(en_leafs)" -eq 3 ] || en_fail "other_again: a certificate was written"

# consent is for the root shown: a record refused under the old root
# whose new download carries the new one (the record is set back to the
# old root's refusal, as a record made before the restart would hold it)
python3 -c '
import json, sys
with open(sys.argv[1]) as f:
    rec = json.load(f)
rec["untrustedRoot"] = sys.argv[2]
with open(sys.argv[1], "w") as f:
    json.dump(rec, f, indent=2)
' "$EN_STATE/$other_id.json" "$hex1"
en_run consent en_resume "$other_id" --trust-bundle-root
en_expect_rc 9
en_expect_err "(SHA-256 $fp2) is not the root accepted before (SHA-256 $fp1)"
[ "$(field "$other_id" untrustedRoot)" = "$(hex_of "$ROOT")" ] ||
    en_fail "consent: the record does not hold the root refused now"
[ -z "$(field "$other_id" acceptBundleRoot)" ] ||
    en_fail "consent: the acceptance outlived the refusal"
en_run consent_plain en_resume "$other_id"
en_expect_rc 9
[ -z "$(field "$other_id" pinnedRoot)" ] ||
    en_fail "consent_plain: a root was pinned unseen"
[ "$(en_leafs)" -eq 3 ] || en_fail "consent_plain: a certificate was written"

# ---- 5. resume --trust RIGHT finishes it, and pins nothing ---------------
en_run right en_resume "$other_id" --trust "$SCM_SIM_ROOTS"
en_expect_rc 0
[ "$(en_leafs)" -eq 4 ] || en_fail "right: no certificate written"
[ -z "$(field "$other_id" pinnedRoot)$(field "$other_id" untrustedRoot)" ] ||
    en_fail "right: --trust pinned a root or kept the refusal"

# ---- a bundle without any root: the sentence says to give --trust -------
en_run noroot bare --label noroot --format pemia
en_expect_rc 9
en_expect_err 'The bundle carries no root: "CN=scm-sim EC Root CA'
en_expect_err "give --trust FILE with the CA's root certificate."
noroot_id=$(en_journal_id)
[ "$(status_next "$noroot_id")" = \
    "p11enroll resume $noroot_id --trust ROOT.pem" ] ||
    en_fail "noroot: status next is \"$(status_next "$noroot_id")\""
en_run noroot_accept en_resume "$noroot_id" --trust-bundle-root
en_expect_rc 2
en_expect_err "The bundle of enrollment $noroot_id carried no root to accept; give --trust FILE with the CA's root certificate."
[ -z "$(field "$noroot_id" acceptBundleRoot)" ] ||
    en_fail "noroot_accept: an acceptance was recorded"
en_run noroot_trust en_resume "$noroot_id" --trust "$SCM_SIM_ROOTS"
en_expect_rc 0
[ "$(en_leafs)" -eq 5 ] || en_fail "noroot_trust: no certificate written"

# ---- the system store is an anchor (and pins nothing) --------------------
SSL_CERT_FILE=$SCM_SIM_ROOTS en_run sysstore bare --label sysstore
en_expect_rc 0
sys_id=$(en_journal_id)
[ "$(en_journal_status "$sys_id")" = installed ] ||
    en_fail "sysstore: record is $(en_journal_status "$sys_id")"
[ -z "$(field "$sys_id" pinnedRoot)" ] || en_fail "sysstore: pinned a root"

# --trust-bundle-root with a bundle that carries no root, anchored by the
# system store: that root is not the bundle's, and is not pinned
SSL_CERT_FILE=$SCM_SIM_ROOTS en_run sysflag bare --label sysflag \
    --format pemia --trust-bundle-root
en_expect_rc 0
en_expect_err "nothing is pinned"
sysflag_id=$(en_journal_id)
[ -z "$(field "$sysflag_id" pinnedRoot)$(field "$sysflag_id" acceptBundleRoot)" ] ||
    en_fail "sysflag: pinned the system store's root, or kept the acceptance"

# ---- the choice is the command line's, never a config file's -------------
printf 'trust-bundle-root = yes\n' >"$EN/accept.conf"
en_run conf bare --label conf --config "$EN/accept.conf"
en_expect_rc 2
en_expect_err "trust-bundle-root is given on the command line only"
en_run both bare --label both --trust "$SCM_SIM_ROOTS" --trust-bundle-root
en_expect_rc 2
en_expect_err "Give --trust or --trust-bundle-root, not both."
echo "sec_trust_anchor: all passed"
