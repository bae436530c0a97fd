# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/enroll_lib.sh - shared set-up of the enroll_*.sh tests:
# a SoftHSM token and scm-sim over HTTPS, and helpers that check what a
# user would check (exit code, message, what is on the token, how many
# orders the CA holds).  Source it; it does nothing on its own.
#   en_setup                   token + server (config: $EN_SIM_CONFIG if
#                              set); EN (work folder), EN_STATE
#   en_rest ARGS...            p11enroll enroll against the REST endpoint
#   en_form ARGS...            p11enroll enroll against the form
#   en_run NAME CMD...         run CMD, keep stdout/stderr in $EN/NAME.out/err
#                              and its exit code in EN_RC
#   en_keys / en_leafs / en_certs   private keys, certificates matching a
#                              key, all certificates on the token
#   en_orders                  requests scm-sim holds
#   en_expect_rc N / en_expect_err TEXT   assertions on the last en_run
#   en_otp_fifo                a FIFO that gets the next one-time code
#   en_ka_sim ROOT.pem         scm-sim again with only a Key Attestation
#                              profile: REST account "ka" ($EN/ka.secret),
#                              attestations must chain to ROOT.pem

en_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

en_setup() {
    # shellcheck source=tests/softhsm/fixture.sh
    . "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
    # shellcheck source=tests/integration/scm_sim_lib.sh
    . "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
    fx_softhsm_begin p11e-test
    if [ -n "${EN_SIM_CONFIG:-}" ]; then
        scm_sim_start_config "$EN_SIM_CONFIG"
    else
        scm_sim_start
    fi
    EN=$FX_DIR
    EN_STATE=$EN/state
    printf '%s\n' "$FX_USER_PIN" >"$EN/pin"
    printf '%s' p11e-secret-0123456789 >"$EN/secret"
    mkdir -p "$EN/conf"
    # no machine-wide /etc/p11enroll in tests
    export P11ENROLL_CONF_DIR=$EN/conf
    export EN EN_STATE
}

en_ka_sim() { # MANUFACTURER_ROOT_PEM
    printf '%s' ka-secret-0123456789 >"$EN/ka.secret"
    cat >"$EN/ka.json" <<JSON
{"profiles": [{"name": "Sectigo OV Code Signing (Key Attestation)",
               "terms": [365], "keyAttestation": true}],
 "restAccounts": [{"clientId": "ka", "clientSecret": "ka-secret-0123456789",
                   "profile": "Sectigo OV Code Signing (Key Attestation)",
                   "term": 365}],
 "forms": [], "invitations": [],
 "manufacturerRoots": ["$1"]}
JSON
    scm_sim_restart "$EN/ka.json"
}

en_common() {
    printf '%s\n' --module "$FX_MODULE" --token "$FX_URI" \
        --pin-file "$EN/pin" --ca-file "$SCM_SIM_CA_FILE" \
        --trust "$SCM_SIM_ROOTS" --state-dir "$EN_STATE" --poll-interval 1
}

en_rest() {
    local common
    mapfile -t common < <(en_common)
    "$P11ENROLL" enroll "${common[@]}" --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --client-secret-file "$EN/secret" \
        --email dev@example.org "$@"
}

en_form() {
    local common
    mapfile -t common < <(en_common)
    "$P11ENROLL" enroll "${common[@]}" \
        --form "$SCM_SIM_URL/customer/demo/cs/cs" --email dev@example.org \
        "$@"
}

en_resume() {
    "$P11ENROLL" resume --module "$FX_MODULE" --pin-file "$EN/pin" \
        --client-secret-file "$EN/secret" --state-dir "$EN_STATE" \
        --poll-interval 1 "$@"
}

en_run() {
    local name=$1
    shift
    set +e
    "$@" >"$EN/$name.out" 2>"$EN/$name.err"
    EN_RC=$?
    set -e
    EN_LAST=$name
}

en_expect_rc() {
    if [ "$EN_RC" -ne "$1" ]; then
        echo "--- stderr of $EN_LAST:" >&2
        cat "$EN/$EN_LAST.err" >&2
        en_fail "$EN_LAST: exit code $EN_RC, expected $1"
    fi
}

en_expect_err() {
    grep -q -F -- "$1" "$EN/$EN_LAST.err" || {
        cat "$EN/$EN_LAST.err" >&2
        en_fail "$EN_LAST: stderr lacks \"$1\""
    }
}

en_list() {
    "$P11ENROLL" list --module "$FX_MODULE" --token "$FX_URI" \
        --pin-file "$EN/pin" --json
}

en_keys() { en_list | grep -c '"class": "private"' || true; }
en_leafs() { en_list | grep -c '"matches_key": true' || true; }
en_certs() { en_list | grep -c '"matches_key":' || true; }

en_orders() {
    find "$SCM_SIM_STATE/requests" -name '*.json' 2>/dev/null | wc -l
}

en_expect_token() { # KEYS LEAFS CERTS
    local k l c
    k=$(en_keys)
    l=$(en_leafs)
    c=$(en_certs)
    [ "$k $l $c" = "$1 $2 $3" ] ||
        en_fail "token holds $k keys, $l matching certs, $c certs; expected $1 $2 $3"
}

en_expect_orders() {
    local n
    n=$(en_orders)
    [ "$n" -eq "$1" ] || en_fail "scm-sim holds $n orders, expected $1"
}

en_journal_id() { # the enrollment the last en_run made or continued
    sed -n 's/^\(Enrollment\|Continuing enrollment\|Resuming enrollment\) \([0-9TZa-f-]*\).*/\2/p' \
        "$EN/$EN_LAST.err" | tail -n 1
}

en_journal_status() { # ID
    "$P11ENROLL" status --state-dir "$EN_STATE" "$1" | head -n 1 |
        awk '{print $2}'
}

# A FIFO whose reader gets the one-time code of the next mail to EMAIL
# (written by a background job once the mail is in the outbox).
en_otp_fifo() { # EMAIL -> prints the FIFO path
    scm_sim_otp_fifo "$EN" "$1"
}
