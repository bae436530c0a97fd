#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every command's --json output against docs/p11enroll.schema.json, the way
# a pipeline reads it: one JSON object on standard output, valid against
# the schema (and against a strict copy: every name printed is declared),
# "command" naming the command, "error" null exactly on exit 0 and else
# carrying the exit code, member names in snake_case at every depth, times
# in RFC 3339 UTC.  Each command that takes --json runs once to success
# and once to a failure, on a real SoftHSM token against scm-sim over
# HTTPS; usage errors (unknown option, missing value, unknown command,
# nothing to resume) print the envelope too.
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

SCHEMA=$P11E_SOURCE_DIR/docs/p11enroll.schema.json
CHECKER=$P11E_SOURCE_DIR/tests/lib/json_check.py
# shellcheck source=tests/lib/json_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/json_lib.sh"
PY=$(json_python) || PY=
if [ -z "$PY" ]; then
    if [ -n "${P11E_NO_SKIP:-}" ]; then
        echo "FAIL: python3-jsonschema is not installed" >&2
        exit 1
    fi
    echo "skipped: python3-jsonschema is not installed" >&2
    exit 77
fi

T=(--token "$FX_URI" --module "$FX_MODULE" --pin-file "$W/pin")
CA=(--ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS")
REST=(--endpoint "$SCM_SIM_URL" --client-id p11e-year
    --client-secret-file "$W/secret" "${CA[@]}" --email dev@example.org)
S=(--state-dir "$W/state")
printf '0000\n' >"$W/badpin"
BAD=(--token "$FX_URI" --module "$FX_MODULE" --pin-file "$W/badpin")

# jrun NAME COMMAND WANT EXPR -- ARGV...: run ARGV (stdout in F.out, stderr
# in F.err, F being NAME without its first "/" and with "_" for "/"), then
# check its output for COMMAND; WANT is the exit code, or "fail" for any
# non-zero one; EXPR as in tests/lib/json_check.py
jrun() {
    local name=$1 cmd=$2 want=$3 expr=${4:-} rc why f
    shift 4
    [ "$1" = -- ] && shift
    f=${name#/}
    f=${f//\//_}
    "$@" >"$f.out" 2>"$f.err"
    rc=$?
    if [ "$want" = fail ] && [ "$rc" -eq 0 ]; then
        bad "$name" "exit 0, expected a failure"
        sed 's/^/    /' "$f.err"
        return
    fi
    if [ "$want" != fail ] && [ "$rc" -ne "$want" ]; then
        bad "$name" "exit $rc, expected $want"
        sed 's/^/    /' "$f.err"
        return
    fi
    if why=$("$PY" "$CHECKER" "$SCHEMA" "$f.out" "$cmd" "$rc" "$expr"); then
        ok "$name"
    else
        bad "$name" "$why"
        sed 's/^/    /' "$f.out" | head -n 60
    fi
}

# jfield F KEY: member KEY of the result in F.out
jfield() {
    "$PY" -c 'import json, sys
print(json.load(open(sys.argv[1]))["result"][sys.argv[2]])' "$1.out" "$2"
}

expect /json/schema_names_snake_case "$PY" "$CHECKER" --schema "$SCHEMA"

# ---- tokens, doctor, list -------------------------------------------------
jrun /json/tokens tokens 0 \
    'any(t["uri"].startswith("pkcs11:") for m in r["modules"] for t in m["tokens"])' \
    -- "$P11ENROLL" tokens --module "$FX_MODULE" --json
jrun /json/tokens/fail tokens fail '' \
    -- "$P11ENROLL" tokens --module "$W/no-such-module.so" --json
jrun /json/doctor doctor 0 'r["failed"] == 0 and r["checks"]' \
    -- "$P11ENROLL" doctor "${T[@]}" "${REST[@]}" --json
jrun /json/doctor/fail doctor 8 \
    'r["failed"] >= 1 and any(c["status"] == "fail" for c in r["checks"])' \
    -- "$P11ENROLL" doctor "${BAD[@]}" --json
jrun /json/list/empty list 0 'r["keys"] == [] and r["logged_in"]' \
    -- "$P11ENROLL" list "${T[@]}" --json
jrun /json/list/fail list 8 'r is None' \
    -- "$P11ENROLL" list "${BAD[@]}" --json

# ---- csr ----------------------------------------------------------------------
jrun /json/csr csr 0 \
    'r["key_generated"] and r["csr"].startswith("-----BEGIN CERTIFICATE REQUEST")' \
    -- "$P11ENROLL" csr "${T[@]}" --label csr-json --cn "CSR Json" --json
jrun /json/csr/fail csr 8 'r is None' \
    -- "$P11ENROLL" csr "${BAD[@]}" --cn "CSR Json" --json

# ---- enroll, pending, resume, status ----------------------------------------
jrun /json/enroll enroll 0 \
    'r["status"] == "installed" and re.match(r"^[0-9]{4}-.*Z$", r["not_after"])' \
    -- "$P11ENROLL" enroll "${T[@]}" "${REST[@]}" "${S[@]}" --label one \
    --json
enrolled=$(jfield json_enroll id)
key=$(jfield json_enroll key_id)
jrun /json/enroll/fail enroll fail '' \
    -- "$P11ENROLL" enroll "${T[@]}" "${REST[@]}" "${S[@]}" --new \
    --client-secret-file "$W/badpin" --json

scm_sim_admin POST /admin/config '{"issuanceDelay": 3600}' >/dev/null
jrun /json/enroll/pending enroll 3 \
    'e["error"]["name"] == "PE_PENDING" and r["status"] == "submitted"' \
    -- "$P11ENROLL" enroll "${T[@]}" "${REST[@]}" "${S[@]}" --new \
    --label two --no-wait --json
scm_sim_admin POST /admin/config '{"issuanceDelay": 0}' >/dev/null
pending=$(jfield json_enroll_pending id)
request=$(jfield json_enroll_pending request_id)
jrun /json/status status 0 \
    'len(r["enrollments"]) == 2 and all("token_uri" in x and "key_id" in x and "csr" not in x for x in r["enrollments"])' \
    -- "$P11ENROLL" status "${S[@]}" --json
jrun /json/status/fail status 10 'r is None' \
    -- "$P11ENROLL" status "${S[@]}" 20000101T000000Z-00000000 --json
scm_sim_admin POST "/admin/requests/$request" '{"status": "Issued"}' >/dev/null
jrun /json/resume resume 0 'r["id"] == "'"$pending"'" and r["status"] == "installed"' \
    -- "$P11ENROLL" resume "$pending" "${T[@]}" "${S[@]}" --poll-interval 1 \
    --json
jrun /json/resume/nothing resume fail 'r is None' \
    -- "$P11ENROLL" resume "${S[@]}" --json

# ---- export, install, sign-setup -----------------------------------------------
jrun /json/export export 0 'r["key"]["id"] == "'"$key"'" and r["files"]' \
    -- "$P11ENROLL" export "${T[@]}" --key-id "$key" --cert cert.pem \
    --chain chain.pem "${S[@]}" --json
jrun /json/export/fail export fail 'r is None' \
    -- "$P11ENROLL" export "${T[@]}" --key-id 7777 --cert x.pem --json
jrun /json/install install 0 'r["certificate_was"] == "unchanged"' \
    -- "$P11ENROLL" install "${T[@]}" cert.pem --chain chain.pem \
    --trust "$SCM_SIM_ROOTS" --json
jrun /json/install/fail install fail 'r is None' \
    -- "$P11ENROLL" install "${T[@]}" "$W/no-such-cert.pem" --json
# shellcheck disable=SC2016 # $IN is the recipe's, not ours
jrun /json/sign_setup sign-setup 0 \
    'r["tool"] == "openssl" and "$IN" in r["script"] and r["files"]' \
    -- "$P11ENROLL" sign-setup openssl "${T[@]}" --key-id "$key" \
    --dir "$W/sign" "${S[@]}" --json
jrun /json/sign_setup/fail sign-setup 2 'r is None' \
    -- "$P11ENROLL" sign-setup no-such-tool "${T[@]}" --json

# ---- renew, adopt ----------------------------------------------------------------
jrun /json/renew renew 0 \
    'r["certificates"] and all(c["outcome"] == "not-due" for c in r["certificates"]) and r["next_due"]' \
    -- "$P11ENROLL" renew "${T[@]}" "${S[@]}" --json
jrun /json/renew/fail renew 11 \
    'any(c["outcome"] == "unmanaged" for c in r["certificates"])' \
    -- "$P11ENROLL" renew "${T[@]}" --state-dir "$W/empty" --within 400d \
    --json
jrun /json/adopt adopt 0 'r["status"] == "installed" and r["key_id"] == "'"$key"'"' \
    -- "$P11ENROLL" adopt "${T[@]}" "${REST[@]}" --key-id "$key" \
    --state-dir "$W/adopted" --json
jrun /json/adopt/fail adopt 10 'r is None' \
    -- "$P11ENROLL" adopt "${T[@]}" "${REST[@]}" --key-id "$key" \
    --state-dir "$W/adopted" --json

# ---- forget -----------------------------------------------------------------------
jrun /json/forget/dry_run forget 0 'r["dry_run"] and not r["forgotten"]' \
    -- "$P11ENROLL" forget "$enrolled" "${S[@]}" --dry-run --json
jrun /json/forget forget 0 'r["forgotten"] and r["status"] == "installed"' \
    -- "$P11ENROLL" forget "$enrolled" "${S[@]}" --json
jrun /json/forget/fail forget 10 'r is None' \
    -- "$P11ENROLL" forget "$enrolled" "${S[@]}" --json

# ---- usage errors: the envelope all the same ------------------------------------
usage='r is None and e["error"]["name"] == "PE_E_USAGE"'
jrun /json/usage/unknown_option enroll 2 "$usage" \
    -- "$P11ENROLL" enroll --frobnicate --json
jrun /json/usage/missing_value list 2 "$usage" \
    -- "$P11ENROLL" list --json --token
jrun /json/usage/extra_argument tokens 2 "$usage" \
    -- "$P11ENROLL" tokens surplus --json
jrun /json/usage/renew_within renew 2 "$usage" \
    -- "$P11ENROLL" renew --within soon --json
jrun /json/usage/doctor doctor 2 "$usage" \
    -- "$P11ENROLL" doctor --endpoint "$SCM_SIM_URL" --form "$SCM_SIM_URL" \
    --json
jrun /json/usage/install install 2 "$usage" \
    -- "$P11ENROLL" install --json
jrun /json/usage/csr csr 2 "$usage" \
    -- "$P11ENROLL" csr --key-id 01 --key-uri pkcs11:id=%01 --json
jrun /json/usage/program_option status 2 "$usage" \
    -- "$P11ENROLL" --frobnicate status --json
jrun /json/usage/json_before_command status 2 "$usage" \
    -- "$P11ENROLL" --json status
jrun /json/usage/unknown_command frobnicate 2 "$usage" \
    -- "$P11ENROLL" frobnicate --json
# without --json, standard output stays empty
"$P11ENROLL" enroll --frobnicate >plain.out 2>/dev/null
expect /json/usage/none_without_json test ! -s plain.out

check_done
