# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/scm_sim_lib.sh - run scm-sim for a test script.
# Source it, then:
#   scm_sim_start [CONFIG.json]  start "$SCM_SIM" on a fresh state folder and
#                                export SCM_SIM_PORT SCM_SIM_URL
#                                SCM_SIM_CA_FILE SCM_SIM_ROOTS SCM_SIM_OUTBOX
#                                (+ SCM_SIM_STATE, SCM_SIM_PID, SCM_SIM_LOG);
#                                the server is stopped and the folder removed
#                                on EXIT (SCM_SIM_KEEP=1 keeps it)
#   scm_sim_stop                 stop it now
#   scm_sim_restart [CONFIG]     stop and start again: same folder, same port
#                                (and the same config unless one is given)
#   scm_sim_curl ARGS...         curl -sS trusting the server's TLS CA
#   scm_sim_admin METHOD PATH [JSON]   an admin call, prints the answer
#   scm_sim_fault JSON           arm a fault (POST /admin/faults)
#   scm_sim_delay SECONDS        set the issuance delay (POST /admin/config)
#   scm_sim_token [ID SECRET]    print an OAuth access token (default account)
#   scm_sim_bearer TOKEN ARGS... scm_sim_curl with "Authorization: Bearer"
#                                (from a pipe, never on argv)
#   scm_sim_otp EMAIL            print the newest one-time code mailed to EMAIL
#   scm_sim_json_field NAME      read a JSON object on stdin, print its
#                                member NAME (a string as is, a number or
#                                true/false as JSON); nothing if absent
# Exits 77 (ctest skip) when $SCM_SIM is not built, unless P11E_NO_SKIP is
# set.  Start the SoftHSM fixture (fx_softhsm_begin) BEFORE scm_sim_start:
# both use the EXIT trap, and scm_sim_start keeps the one it finds.  The
# server also stops by itself within a second of the test shell's exit.
#
# The CA keys (RSA-4096 takes seconds to make) are made once into a seed
# folder, "$P11E_BUILD_DIR/scm-sim-seed", and copied into each fresh state
# folder; SCM_SIM_FRESH_CA=1 makes a new CA instead.

scm_sim_json_field() {
    python3 -c '
import json, sys
try:
    v = json.load(sys.stdin).get(sys.argv[1])
except (ValueError, AttributeError):
    sys.exit(0)
if isinstance(v, str):
    print(v)
elif v is not None and not isinstance(v, (dict, list)):
    print(json.dumps(v))' "$1"
}

_scm_sim_seed() {
    local seed=${P11E_BUILD_DIR:-${TMPDIR:-/tmp}}/scm-sim-seed
    (
        flock 9
        if [ ! -s "$seed/ca/roots.pem" ] || [ ! -s "$seed/tls-ca.pem" ]; then
            "$SCM_SIM" --state-dir "$seed" --init-only >/dev/null 2>&1
        fi
    ) 9>"$seed.lock" || return 1
    cp -a "$seed/ca" "$seed/tls" "$seed/tls-ca.pem" "$1/"
}

_scm_sim_launch() { # [PORT]
    local line key i
    : >"$SCM_SIM_STATE/stdout"
    "$SCM_SIM" --state-dir "$SCM_SIM_STATE" --watch-pid "$$" \
        --port "${1:-0}" ${_scm_sim_config:+--config "$_scm_sim_config"} \
        >"$SCM_SIM_STATE/stdout" 2>>"$SCM_SIM_LOG" &
    SCM_SIM_PID=$!
    export SCM_SIM_PID
    for ((i = 0; i < 1200; i++)); do
        if grep -q '^SCM_SIM_READY=1$' "$SCM_SIM_STATE/stdout"; then
            break
        fi
        if ! kill -0 "$SCM_SIM_PID" 2>/dev/null; then
            echo "scm-sim did not start:" >&2
            cat "$SCM_SIM_LOG" >&2
            return 1
        fi
        sleep 0.05
    done
    while IFS= read -r line; do
        key=${line%%=*}
        case $key in
        SCM_SIM_PORT | SCM_SIM_URL | SCM_SIM_CA_FILE | SCM_SIM_ROOTS | \
            SCM_SIM_OUTBOX | SCM_SIM_READY)
            export "$key=${line#*=}"
            ;;
        esac
    done <"$SCM_SIM_STATE/stdout"
    [ "${SCM_SIM_READY:-}" = 1 ] || {
        echo "scm-sim did not get ready in 60 s" >&2
        return 1
    }
}

scm_sim_stop() {
    local st=0
    if [ -n "${SCM_SIM_PID:-}" ]; then
        kill "$SCM_SIM_PID" 2>/dev/null || true
        wait "$SCM_SIM_PID" 2>/dev/null || st=$?
        SCM_SIM_PID=
        if [ "$st" -ne 0 ]; then # a crash, or a sanitizer's report
            echo "scm-sim exited with status $st (see $SCM_SIM_LOG)" >&2
            _scm_sim_failed=1
        fi
    fi
    SCM_SIM_READY=
}

_scm_sim_on_exit() {
    local rc=$?
    scm_sim_stop
    if [ -n "${_scm_sim_failed:-}" ] && [ "$rc" -eq 0 ]; then
        rc=1
    fi
    if [ "$rc" -ne 0 ] && [ -s "${SCM_SIM_LOG:-}" ]; then
        echo "--- last lines of the scm-sim log ($SCM_SIM_LOG):" >&2
        tail -n 25 "$SCM_SIM_LOG" >&2
    fi
    if [ -z "${SCM_SIM_KEEP:-}" ] && [ -n "${SCM_SIM_STATE:-}" ]; then
        rm -rf "$SCM_SIM_STATE"
    fi
    eval "${_scm_sim_prev_exit:-}"
    exit "$rc"
}

scm_sim_start() { # [CONFIG.json]
    local prev
    if [ -z "${SCM_SIM:-}" ] || [ ! -x "$SCM_SIM" ]; then
        if [ -n "${P11E_NO_SKIP:-}" ]; then
            echo "scm-sim is not built (SCM_SIM='${SCM_SIM:-}')" >&2
            exit 1
        fi
        echo "skipped: scm-sim is not built" >&2
        exit 77
    fi
    _scm_sim_config=${1:-}
    SCM_SIM_STATE=$(mktemp -d "${TMPDIR:-/tmp}/scm-sim-XXXXXX") || return 1
    SCM_SIM_LOG=$SCM_SIM_STATE/server.log
    export SCM_SIM_STATE SCM_SIM_LOG
    if [ -z "${_scm_sim_trapped:-}" ]; then
        prev=$(trap -p EXIT)
        prev=${prev#"trap -- "}
        prev=${prev%" EXIT"}
        eval "_scm_sim_prev_exit=${prev:-''}"
        trap _scm_sim_on_exit EXIT
        _scm_sim_trapped=1
    fi
    if [ -z "${SCM_SIM_FRESH_CA:-}" ]; then
        _scm_sim_seed "$SCM_SIM_STATE" || return 1
    fi
    _scm_sim_launch 0
}

# The same as scm_sim_start CONFIG (and a call with an argument, which keeps
# ShellCheck from asking callers without one to pass "$@": SC2119).
scm_sim_start_config() { # CONFIG.json
    scm_sim_start "$1"
}

scm_sim_restart() { # [CONFIG.json]
    local port=$SCM_SIM_PORT
    scm_sim_stop
    if [ $# -ge 1 ]; then
        _scm_sim_config=$1
    fi
    _scm_sim_launch "$port"
}

scm_sim_curl() {
    curl -sS --max-time 30 --cacert "$SCM_SIM_CA_FILE" "$@"
}

scm_sim_admin() { # METHOD PATH [JSON]
    if [ $# -ge 3 ]; then
        scm_sim_curl -X "$1" -H 'Content-Type: application/json' \
            --data-binary "$3" "$SCM_SIM_URL$2"
    else
        scm_sim_curl -X "$1" "$SCM_SIM_URL$2"
    fi
}

scm_sim_fault() { # JSON
    scm_sim_admin POST /admin/faults "$1" >/dev/null
}

scm_sim_delay() { # SECONDS
    scm_sim_admin POST /admin/config "{\"issuanceDelay\": $1}" >/dev/null
}

scm_sim_token() { # [CLIENT_ID CLIENT_SECRET]
    if [ $# -lt 2 ]; then # the default REST account
        scm_sim_token p11e-client p11e-secret-0123456789
        return
    fi
    local id=$1 secret=$2
    printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' \
        "$id" "$secret" |
        scm_sim_curl --data-binary @- "$SCM_SIM_URL/oauth2/token" |
        scm_sim_json_field access_token
}

# A FIFO in DIR whose reader gets the one-time code of the next mail to
# EMAIL, written by a background job once the mail is in the outbox.
scm_sim_otp_fifo() { # DIR EMAIL -> prints the FIFO path
    local fifo=$1/otp.$RANDOM before
    mkfifo "$fifo"
    before=$(find "$SCM_SIM_OUTBOX" -name '*.eml' 2>/dev/null | wc -l)
    (
        for _ in $(seq 1 600); do
            n=$(find "$SCM_SIM_OUTBOX" -name '*.eml' 2>/dev/null | wc -l)
            if [ "$n" -gt "$before" ]; then
                scm_sim_otp "$2" >"$fifo"
                exit 0
            fi
            sleep 0.1
        done
    ) >/dev/null 2>&1 &
    echo "$fifo"
}

scm_sim_otp() { # EMAIL
    local f
    # the newest by time: the names' counter starts again when scm-sim
    # restarts on the same outbox
    f=$(grep -l -i "^To: <$1>" "$SCM_SIM_OUTBOX"/*.eml 2>/dev/null |
        xargs -r stat -c '%.9Y %n' | sort -n | tail -n 1 | cut -d' ' -f2-)
    [ -n "$f" ] || return 1
    sed -n 's/^One-time code: \([0-9]\{6\}\).*/\1/p' "$f"
}

scm_sim_bearer() { # TOKEN CURL-ARGS...: curl with the bearer token, kept
    local tok=$1 # off argv (the header comes from a pipe)
    shift
    scm_sim_curl -H @<(printf 'Authorization: Bearer %s\n' "$tok") "$@"
}
