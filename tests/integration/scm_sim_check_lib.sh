# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/scm_sim_check_lib.sh - checks shared by scm-sim's own
# tests (scm_sim_*.sh).  Source after scm_sim_lib.sh and scm_sim_start.
#   t NAME COMMAND...        one check: passes when COMMAND succeeds
#   eq GOT WANT / has TEXT PART / lacks TEXT PART   conditions for t
#   call METHOD PATH [JSON | @FILE]   an HTTPS call; sets STATUS, BODY and
#                            HDRS (headers); sends $TOK as bearer if set
#   json NAME                member NAME of $BODY
#   make_csr OUT ec:CURVE|rsa:BITS [SUBJ]   key OUT.key, CSR OUT.der and
#                            OUT.b64 (base64 DER on one line)
#   finish                   prints "N passed, N failed"; status 1 on any
#                            failure

# shellcheck disable=SC2034 # the scripts that source this read them
passed=0
failed=0
STATUS=
BODY=
HDRS=
TOK=
W=$SCM_SIM_STATE/work
mkdir -p "$W"

t() { # NAME COMMAND...
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name (status $STATUS, body: ${BODY:0:300})"
    fi
}

eq() {
    [ "$1" = "$2" ] && return 0
    echo "    got '$1', want '$2'"
    return 1
}

has() {
    case $1 in
    *"$2"*) return 0 ;;
    esac
    echo "    '${1:0:300}' lacks '$2'"
    return 1
}

lacks() {
    case $1 in
    *"$2"*)
        echo "    '${1:0:300}' has '$2'"
        return 1
        ;;
    esac
    return 0
}

call() { # METHOD PATH [JSON | @FILE]
    local args=(-X "$1" -o "$W/body" -D "$W/headers" -w '%{http_code}')
    if [ $# -ge 3 ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$3")
    fi
    if [ -n "$TOK" ]; then
        STATUS=$(scm_sim_bearer "$TOK" "${args[@]}" "$SCM_SIM_URL$2")
    else
        STATUS=$(scm_sim_curl "${args[@]}" "$SCM_SIM_URL$2")
    fi
    BODY=$(cat "$W/body" 2>/dev/null)
    # shellcheck disable=SC2034 # read by the scripts
    HDRS=$(tr -d '\r' <"$W/headers" 2>/dev/null)
}

json() {
    printf '%s' "$BODY" | scm_sim_json_field "$1"
}

make_csr() { # OUT ec:CURVE|rsa:BITS [SUBJ]
    local out=$1 alg=${2%%:*} arg=${2#*:} subj=${3:-/CN=ignored}
    if [ "$alg" = ec ]; then
        openssl req -new -newkey ec -pkeyopt "ec_paramgen_curve:$arg" \
            -nodes -keyout "$out.key" -subj "$subj" -outform DER \
            -out "$out.der" 2>/dev/null
    else
        openssl req -new -newkey "rsa:$arg" -nodes -keyout "$out.key" \
            -subj "$subj" -outform DER -out "$out.der" 2>/dev/null
    fi
    base64 -w0 "$out.der" >"$out.b64"
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
