# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/bench_lib.sh - the two ways of enrolling, timed by bench/run.sh, and
# the table.  Sourced after tests/softhsm/fixture.sh and scm_sim_lib.sh;
# works in $W with the files pin, client-secret and token-form.

BENCH_PIN_ENTRIES=0

# The time in microseconds, without a fork: bench_now VAR sets VAR.
bench_now() { printf -v "$1" '%s' "${EPOCHREALTIME/./}"; }

# bench_cpu FILE: microseconds of user + system CPU of the shell's finished
# children, from the output of `times` saved in FILE (its second line).
bench_cpu() {
    awk 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%d", ((u[1] + s[1]) * 60 + u[2] + s[2]) * 1e6 }' "$1"
}

# A fresh, empty token (in $BENCH_TOKENS) with the fixture's label for every
# run, and an empty state folder $W/state for p11enroll's journal (not
# timed), so no run pays for the objects or records of the runs before it.
bench_fresh_token() {
    rm -rf "$W/state" && mkdir "$W/state" &&
        rm -rf "${BENCH_TOKENS:?}" && mkdir "$BENCH_TOKENS" &&
        softhsm2-util --init-token --free --label "${FX_URI#pkcs11:token=}" \
            --so-pin "$FX_SO_PIN" --pin "$FX_USER_PIN" >/dev/null
}

# bench_p11enroll KEYTYPE MODULE RSS-TAG: one `p11enroll enroll`, the PIN
# from the file $W/pin.  With a tag, /usr/bin/time writes its peak RSS (KB)
# to rss-TAG.  BENCH_WRAP: a command line to run it under instead;
# BENCH_KEY_ID: enroll that existing key (--key-id) instead of a new one.
bench_p11enroll() {
    local kt=$1 module=$2 tag=$3
    local -a pre=() key=(--key-type "$kt" --label bench)
    [ -n "$tag" ] && pre=(/usr/bin/time -f %M -o "rss-$tag")
    # shellcheck disable=SC2206 # a command line, split on blanks
    [ -n "${BENCH_WRAP:-}" ] && pre=($BENCH_WRAP)
    [ -n "${BENCH_KEY_ID:-}" ] && key=(--key-id "$BENCH_KEY_ID")
    "${pre[@]}" "$P11ENROLL" enroll --token "$FX_URI" --module "$module" \
        --pin-file "$W/pin" --endpoint "$SCM_SIM_URL" \
        --client-id p11e-client --client-secret-file client-secret \
        --email dev@example.org "${key[@]}" --ca-file "$SCM_SIM_CA_FILE" \
        --trust "$SCM_SIM_ROOTS" --state-dir "$W/state"
}

# bench_pregen KEYTYPE: a key pair made with pkcs11-tool before the clock
# starts; prints its CKA_ID (hex).
bench_pregen() {
    local id spec
    id=$(openssl rand -hex 8)
    case $1 in
    ec-p256) spec=EC:prime256v1 ;;
    ec-p384) spec=EC:secp384r1 ;;
    rsa-3072) spec=rsa:3072 ;;
    rsa-4096) spec=rsa:4096 ;;
    esac
    pkcs11-tool --module "$FX_MODULE" --token-label "${FX_URI#pkcs11:token=}" \
        --login --pin env:BENCH_PIN --keypairgen --key-type "$spec" \
        --id "$id" --label pregen >/dev/null 2>&1 || return 1
    echo "$id"
}

# bench_manual KEYTYPE MODULE: what people do today, step by step.  Every
# tool that logs in gets the PIN (from the environment, not argv), counted
# in BENCH_PIN_ENTRIES; the client secret and the bearer token come from
# files.  No verification of what comes back (the tools do none).
bench_manual() {
    local kt=$1 module=$2 label=${FX_URI#pkcs11:token=} id idpct spec
    local tok cid status n f
    local -a p11=(pkcs11-tool --module "$module" --token-label "$label"
        --login --pin env:BENCH_PIN)
    case $kt in
    ec-p256) spec=EC:prime256v1 ;;
    ec-p384) spec=EC:secp384r1 ;;
    rsa-3072) spec=rsa:3072 ;;
    rsa-4096) spec=rsa:4096 ;;
    esac
    id=$(openssl rand -hex 8)
    idpct=$(printf '%s' "$id" | sed 's/../%&/g')
    rm -f m-*
    # 1. the key pair
    "${p11[@]}" --keypairgen --key-type "$spec" --id "$id" \
        --label manual >/dev/null || return 1
    BENCH_PIN_ENTRIES=$((BENCH_PIN_ENTRIES + 1))
    # 2. the CSR, signed through the libp11 engine
    PKCS11_MODULE_PATH=$module openssl req -new -engine pkcs11 \
        -keyform engine -passin env:BENCH_PIN \
        -key "pkcs11:token=$label;id=$idpct;type=private" \
        -subj "/CN=Dana Developer" -outform DER -out m-req.der || return 1
    BENCH_PIN_ENTRIES=$((BENCH_PIN_ENTRIES + 1))
    # 3. OAuth token, enroll, poll, download
    tok=$(scm_sim_curl --data-binary @token-form "$SCM_SIM_URL/oauth2/token" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$tok" ] || return 1
    printf 'Authorization: Bearer %s\n' "$tok" >m-auth
    printf '{"csr":"%s","email":"dev@example.org"}' \
        "$(base64 -w0 m-req.der)" >m-enroll.json
    cid=$(scm_sim_curl -H @m-auth -H 'Content-Type: application/json' \
        --data-binary @m-enroll.json "$SCM_SIM_URL/api/v1/certificates" |
        sed -n 's/.*"certId":"\([^"]*\)".*/\1/p')
    [ -n "$cid" ] || return 1
    for ((n = 0; n < 600; n++)); do
        status=$(scm_sim_curl -H @m-auth \
            "$SCM_SIM_URL/api/v1/certificates/$cid/status" |
            sed -n 's/.*"status":"\([^"]*\)".*/\1/p')
        [ "$status" = Issued ] && break
        [ "$status" = Applied ] || return 1
        sleep 1
    done
    scm_sim_curl -H @m-auth -o m-bundle.pem \
        "$SCM_SIM_URL/api/v1/certificates/$cid?format=x509" || return 1
    # 4. leaf and each chain certificate onto the token, one file each
    awk '/BEGIN CERT/ { n++ } n { print > ("m-cert-" n ".pem") }' m-bundle.pem
    "${p11[@]}" --write-object m-cert-1.pem --type cert --id "$id" \
        --label manual >/dev/null || return 1
    BENCH_PIN_ENTRIES=$((BENCH_PIN_ENTRIES + 1))
    for f in m-cert-[2-9].pem; do
        [ -e "$f" ] || continue
        "${p11[@]}" --write-object "$f" --type cert \
            --id "$(openssl rand -hex 8)" --label "chain ${f//[^0-9]/}" \
            >/dev/null || return 1
        BENCH_PIN_ENTRIES=$((BENCH_PIN_ENTRIES + 1))
    done
}

# bench_stat FILE: "median min max count" of the numbers in FILE.
bench_stat() {
    if [ ! -s "$1" ]; then
        echo "- - - 0"
        return
    fi
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        print m, v[1], v[NR], NR }'
}

bench_med() { bench_stat "$1" | cut -d' ' -f1; }

# bench_calc EXPR A [B [C [D]]]: an awk expression of a b c d, printed
# with $BENCH_FMT (default %.2f); "-" when any of them is "-" (nothing
# measured).
bench_calc() {
    awk -v a="$2" -v b="${3:-0}" -v c="${4:-0}" -v d="${5:-0}" \
        -v f="${BENCH_FMT:-%.2f}" \
        "BEGIN { if (a == \"-\" || b == \"-\" || c == \"-\" || d == \"-\")
                     print \"-\"; else printf f, ($1) }"
}

# bench_ms US: milliseconds of a microsecond count, one decimal.
bench_ms() { BENCH_FMT=%.1f bench_calc 'a / 1000' "$1"; }

# bench_yes EXPR A [B [C]]: 1 or 0.
bench_yes() { BENCH_FMT=%d bench_calc "$@"; }

# bench_goal TEXT MEASURED MET: one line of the goals; MET is awk's verdict
# (1 or 0), or "-" when nothing was measured.
bench_goal() {
    local v='NOT met'
    [ "$3" = 1 ] && v=met
    printf '  %-44s %-22s %s\n' "$1" "$2" "$v"
}

# Where SoftHSM keeps the token's files: every object it generates (the
# keys) is a file rewritten once per attribute, so the file system shows in
# every figure, the floor first.
bench_store_text() {
    local fs
    fs=$(df --output=fstype "$BENCH_TOKENS" 2>/dev/null | tail -n 1)
    case $fs in
    tmpfs | ramfs) echo "in memory ($fs, $BENCH_TOKENS)" ;;
    *) echo "on disk (${fs:-?}, $BENCH_TOKENS)" ;;
    esac
}

# The PKCS#11 calls of one enrollment when the goals were set: a change
# that needs more calls says why.
BENCH_CALLS_MAX=69

# bench_report: the table, from the files in $W and run.sh's fleet_*.
# shellcheck disable=SC2154 # fleet_* come from run.sh
bench_report() {
    local kt m med lo hi nn fk fs fl tw to rss calls
    local -A ratio over over2 pins_p pins_m rssmb medp medm
    local row='%-10s %8s %8s %8s %8s %8s %8s %8s %8s %7s\n'
    echo
    echo "p11enroll benchmark, $(nproc) cores," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "SoftHSM $(softhsm2-util --version 2>/dev/null), scm-sim on" \
        "loopback, issuance delay 0 s; $RUNS alternating runs per method" \
        "and key type; a fresh token for every run"
    echo "SoftHSM's token files: $(bench_store_text)"
    echo
    printf '%-10s %-10s %10s %10s %10s %5s %10s\n' key method "median ms" \
        "min ms" "max ms" runs "CPU ms"
    for kt in $KEYS; do
        for m in p11enroll manual reuse; do
            read -r med lo hi nn < <(bench_stat "wall-$m-$kt")
            printf '%-10s %-10s %10s %10s %10s %5s %10s\n' "$kt" "$m" \
                "$(bench_ms "$med")" "$(bench_ms "$lo")" \
                "$(bench_ms "$hi")" "$nn" \
                "$(bench_ms "$(bench_med "cpu-$m-$kt")")"
        done
    done
    echo "(wall: whole enrollment, median of the runs; CPU: median user +" \
        "system time of all its processes, scm-sim not included)"
    echo "(reuse: p11enroll enrolling a key made beforehand with" \
        "--key-id; not in the ratio)"
    echo
    # shellcheck disable=SC2059 # the format is $row
    printf "$row" key p11e/man "PIN p11e" "PIN man" C_Login C_Login \
        "floor ms" "over ms" "over ms" "RSS MB"
    # shellcheck disable=SC2059
    printf "$row" "" "" "" "" p11e man "" "" reuse ""
    for kt in $KEYS; do
        med=$(bench_med "wall-p11enroll-$kt")
        medp[$kt]=$med
        medm[$kt]=$(bench_med "wall-manual-$kt")
        ratio[$kt]=$(bench_calc 'a / b' "$med" "${medm[$kt]}")
        fk=$(bench_med "floor-keygen-$kt")
        fs=$(bench_med "floor-sign-$kt")
        tw=$(bench_med "floor-write3-$kt")
        to=$(bench_med "floor-open-$kt")
        fl=$(bench_calc 'a + b' "$fk" "$fs")
        over[$kt]=$(bench_calc 'a - b' "$med" "$fl")
        over2[$kt]=$(bench_calc 'a - b' "$(bench_med "wall-reuse-$kt")" "$fs")
        pins_p[$kt]=$(cat "pins-p11enroll-$kt")
        pins_m[$kt]=$(cat "pins-manual-$kt")
        rss=$(cat rss-"$kt"-* 2>/dev/null | sort -n | tail -n 1)
        rssmb[$kt]=$(BENCH_FMT=%.1f bench_calc 'a / 1024' "${rss:--}")
        # shellcheck disable=SC2059
        printf "$row" "$kt" "${ratio[$kt]}" "${pins_p[$kt]}" "${pins_m[$kt]}" \
            "$(cat "logins-p11enroll-$kt")" "$(cat "logins-manual-$kt")" \
            "$(bench_ms "$fl")" "$(bench_ms "${over[$kt]}")" \
            "$(bench_ms "${over2[$kt]}")" "${rssmb[$kt]}"
        echo "           floor = token keygen $(bench_ms "$fk") ms + one" \
            "signature $(bench_ms "$fs") ms (medians, p11e-floor)"
        echo "           the token also spends: C_Initialize+login" \
            "$(bench_ms "$to") ms, leaf + 2 chain certificates written" \
            "$(bench_ms "$tw") ms (tok_cert_write_all; leaf, then" \
            "chain: $(bench_ms "$(bench_med "floor-inturn-$kt")") ms);"
        echo "           p11enroll beyond all of the token's work:" \
            "$(bench_ms "$(bench_calc 'a - b - c - d' "${over[$kt]}" "$tw" \
                "$to" "$fs")") ms"
    done
    echo
    echo "fleet: $FLEET x 'p11enroll enroll' (ec-p256) started at once," \
        "one token, one scm-sim"
    echo "  wall $(bench_calc 'a / 1000' "$fleet_ms") s, throughput" \
        "$(BENCH_FMT=%.1f bench_calc 'a * 1000 / b' "$FLEET" "$fleet_ms")" \
        "enrollments/s," \
        "failures $fleet_fail, certificates next to their key on the" \
        "token $fleet_on_token"
    if [ -s fleet-failures ]; then
        echo "  failure messages (distinct):"
        grep -v '^ *$' fleet-failures | sort | uniq -c | sort -rn | head -n 8
    fi
    echo
    for kt in $KEYS; do
        for m in p11enroll manual; do
            printf 'PKCS#11 calls, %s, %s: %s (%s searches)\n' "$kt" "$m" \
                "$(wc -l <"calls-$m-$kt.log")" \
                "$(grep -c '^C_FindObjectsInit' "calls-$m-$kt.log")"
        done
    done
    if [ -s nhsm-wall-p11enroll ]; then
        printf 'network HSM (%s ms per PKCS#11 call), %s: p11enroll %s ms in %s calls, manual %s ms in %s calls\n' \
            "$NHSM_MS" "$NHSM_KT" "$(bench_ms "$(cat nhsm-wall-p11enroll)")" \
            "$(wc -l <nhsm-calls-p11enroll.log)" \
            "$(bench_ms "$(cat nhsm-wall-manual)")" \
            "$(wc -l <nhsm-calls-manual.log)"
    fi
    [ -s fails ] && echo "failed timed runs: $(wc -l <fails) (see above)"
    echo
    echo "goals:"
    if [ -n "${ratio[ec-p256]:-}" ]; then
        bench_goal "EC: p11enroll <= 1/3 of manual wall time" \
            "${ratio[ec-p256]} (CPU $(bench_calc 'a / b' \
                "$(bench_med cpu-p11enroll-ec-p256)" \
                "$(bench_med cpu-manual-ec-p256)"))" \
            "$(bench_yes 'a <= b / 3' "${medp[ec-p256]}" \
                "${medm[ec-p256]}")"
    fi
    for kt in $KEYS; do
        bench_goal "$kt: 1 PIN entry vs several" \
            "${pins_p[$kt]} vs ${pins_m[$kt]}" \
            "$(bench_yes 'a == 1 && b > 1' "${pins_p[$kt]}" "${pins_m[$kt]}")"
        calls=$(wc -l <"calls-p11enroll-$kt.log")
        bench_goal "$kt: PKCS#11 calls <= $BENCH_CALLS_MAX" "$calls" \
            "$(bench_yes 'a > 0 && a <= b' "$calls" "$BENCH_CALLS_MAX")"
        bench_goal "$kt: p11enroll peak RSS < 16 MB" "${rssmb[$kt]} MB" \
            "$(bench_yes 'a > 0 && a < 16' "${rssmb[$kt]}")"
    done
    bench_goal "fleet of $FLEET: 0 failures" "$fleet_fail failures" \
        "$(bench_yes 'a == 0 && b == c' "$fleet_fail" "$fleet_on_token" \
            "$FLEET")"
}
