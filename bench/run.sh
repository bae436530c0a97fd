#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh - p11enroll against the manual pipeline, the token's floor,
# and a fleet.  Not a test: it prints a table (bench/README.md explains it).
#
#   bash bench/run.sh [--runs N] [--fleet N] [--keys "ec-p256 rsa-3072"]
#                     [--token-store disk|memory]
#
# --token-store memory keeps SoftHSM's token files in /dev/shm (tmpfs)
# instead of next to the rest under $TMPDIR (default disk).
# Builds what it needs into $P11E_BUILD_DIR (default build-bench, configured
# as Release on first use, always with -DP11E_BENCH=ON): p11enroll, scm-sim,
# p11e-floor, the mock module.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=7 FLEET=50 KEYS="ec-p256 rsa-3072" STORE=disk
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2 && shift 2 ;;
    --fleet) FLEET=$2 && shift 2 ;;
    --keys) KEYS=$2 && shift 2 ;;
    --token-store) STORE=$2 && shift 2 ;;
    *)
        sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done

# ---- build and tools -----------------------------------------------------
B=${P11E_BUILD_DIR:-$top/build-bench}
P11ENROLL=$B/agent/p11enroll SCM_SIM=$B/contrib/scm-sim/scm-sim
FLOOR=$B/bench/p11e-floor MOCK=$B/tests/mock/libp11e_mock.so
if [ ! -e "$B/CMakeCache.txt" ]; then
    echo "configuring $B (Release)..." >&2
    cmake -S "$top" -B "$B" -DCMAKE_BUILD_TYPE=Release -DP11E_BENCH=ON \
        >/dev/null || exit 1
else
    # p11e-floor is built only with P11E_BENCH (off by default)
    cmake -S "$top" -B "$B" -DP11E_BENCH=ON >/dev/null || exit 1
fi
echo "building p11enroll, scm-sim, p11e-floor and the mock in $B..." >&2
cmake --build "$B" -j2 --target p11enroll scm-sim p11e-floor p11e_mock \
    >"$B/bench-build.log" 2>&1 || {
    tail -n 30 "$B/bench-build.log" >&2
    echo "build failed (log: $B/bench-build.log)" >&2
    exit 1
}
for t in pkcs11-tool openssl curl softhsm2-util strace /usr/bin/time; do
    command -v "$t" >/dev/null || {
        echo "missing: $t (apt-get install opensc openssl curl softhsm2 strace time)"
        exit 1
    }
done
export P11ENROLL SCM_SIM P11E_BUILD_DIR=$B P11E_SOURCE_DIR=$top
# shellcheck source=tests/softhsm/fixture.sh
. "$top/tests/softhsm/fixture.sh"
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$top/tests/integration/scm_sim_lib.sh"
# shellcheck source=bench/bench_lib.sh
. "$top/bench/bench_lib.sh"

fx_softhsm_begin p11e-bench
BENCH_TOKENS=$FX_DIR/tokens
case $STORE in
disk) ;;
memory)
    BENCH_TOKENS=$(mktemp -d /dev/shm/p11e-bench-tokens-XXXXXX) || exit 1
    bench_cleanup() {
        rm -rf "$BENCH_TOKENS"
        fx_softhsm_end
    }
    trap bench_cleanup EXIT # scm_sim_start keeps it
    sed -i "s|^directories.tokendir = .*|directories.tokendir = $BENCH_TOKENS|" \
        "$SOFTHSM2_CONF"
    ;;
*)
    echo "--token-store: disk or memory, not $STORE" >&2
    exit 2
    ;;
esac
export BENCH_TOKENS
scm_sim_start || exit 1
scm_sim_delay 0
W=$FX_DIR/bench
mkdir -p "$W"
cd "$W" || exit 1
printf '%s\n' "$FX_USER_PIN" >pin
printf '%s' p11e-secret-0123456789 >client-secret
printf 'grant_type=client_credentials&client_id=p11e-client&client_secret=%s' \
    p11e-secret-0123456789 >token-form
chmod 600 pin client-secret token-form
export BENCH_PIN=$FX_USER_PIN # pkcs11-tool --pin env:, openssl -passin env:

# ---- 1. alternating runs ---------------------------------------------------
t0=0 t1=0 # set by bench_now
echo "timing $RUNS runs of each method and key type, alternating..." >&2
for ((i = 1; i <= RUNS; i++)); do
    for kt in $KEYS; do
        if ((i % 2)); then order="p11enroll manual"; else order="manual p11enroll"; fi
        for m in $order reuse; do
            bench_fresh_token
            kid=
            [ "$m" = reuse ] && kid=$(bench_pregen "$kt")
            bench_now t0
            times >cpu0 # children's CPU so far (no fork: a builtin)
            if [ "$m" = reuse ]; then
                BENCH_KEY_ID=$kid bench_p11enroll "$kt" "$FX_MODULE" "" \
                    >"run.out" 2>&1
            elif [ "$m" = p11enroll ]; then
                bench_p11enroll "$kt" "$FX_MODULE" "" >"run.out" 2>&1
            else
                bench_manual "$kt" "$FX_MODULE" >"run.out" 2>&1
            fi
            rc=$?
            times >cpu1
            bench_now t1
            if [ "$rc" -ne 0 ]; then
                echo "$m $kt run $i failed (exit $rc):" >&2
                sed 's/^/    /' run.out >&2
                echo "$m $kt $i fail" >>fails
                continue
            fi
            echo $((t1 - t0)) >>"wall-$m-$kt"
            echo $(($(bench_cpu cpu1) - $(bench_cpu cpu0))) >>"cpu-$m-$kt"
        done
    done
done

# ---- 2. PIN entries and C_Login calls (one run each through the mock) -----
# and peak memory: three more p11enroll runs per key type under
# /usr/bin/time (not in the timed runs, so those time p11enroll alone)
echo "measuring p11enroll's peak memory..." >&2
for kt in $KEYS; do
    for i in 1 2 3; do
        bench_fresh_token
        bench_p11enroll "$kt" "$FX_MODULE" "$kt-$i" >run.out 2>&1 || {
            echo "p11enroll $kt (peak memory run) failed:" >&2
            sed 's/^/    /' run.out >&2
        }
    done
done
echo "counting logins through the pass-through mock module..." >&2
export P11E_MOCK_TARGET=$FX_MODULE
for kt in $KEYS; do
    for m in p11enroll manual; do
        bench_fresh_token
        export P11E_MOCK_LOG=$W/calls-$m-$kt.log
        : >"$P11E_MOCK_LOG"
        BENCH_PIN_ENTRIES=0
        if [ "$m" = p11enroll ]; then
            # every open of the PIN file is one PIN entry (strace sees them)
            BENCH_WRAP="strace -f -e trace=open,openat -o $W/opens-$kt" \
                bench_p11enroll "$kt" "$MOCK" "" >run.out 2>&1 || {
                echo "p11enroll through the mock failed:" >&2
                sed 's/^/    /' run.out >&2
            }
            BENCH_PIN_ENTRIES=$(grep -c "\"$W/pin\"" "opens-$kt")
        else
            bench_manual "$kt" "$MOCK" >run.out 2>&1 || {
                echo "the manual pipeline through the mock failed:" >&2
                sed 's/^/    /' run.out >&2
            }
        fi
        echo "$BENCH_PIN_ENTRIES" >"pins-$m-$kt"
        grep -c '^C_Login' "$P11E_MOCK_LOG" >"logins-$m-$kt"
        unset P11E_MOCK_LOG
    done
done

# ---- 2b. a network HSM: every PKCS#11 call 5 ms away (the mock's delay) ----
NHSM_MS=5 NHSM_KT=${KEYS%% *}
echo "timing $NHSM_KT with $NHSM_MS ms per PKCS#11 call..." >&2
for m in p11enroll manual; do
    bench_fresh_token
    export P11E_MOCK_LOG=$W/nhsm-calls-$m.log P11E_MOCK_DELAY_MS=$NHSM_MS
    : >"$P11E_MOCK_LOG"
    bench_now t0
    if [ "$m" = p11enroll ]; then
        bench_p11enroll "$NHSM_KT" "$MOCK" "" >run.out 2>&1
    else
        bench_manual "$NHSM_KT" "$MOCK" >run.out 2>&1
    fi || {
        echo "$m with the delay failed:" >&2
        sed 's/^/    /' run.out >&2
    }
    bench_now t1
    unset P11E_MOCK_LOG P11E_MOCK_DELAY_MS
    echo $((t1 - t0)) >"nhsm-wall-$m"
done

# ---- 3. the floor: the token's own keygen + one signature -----------------
echo "timing the token's floor..." >&2
for kt in $KEYS; do
    bench_fresh_token
    "$FLOOR" --token "$FX_URI" --module "$FX_MODULE" --pin-file pin \
        --key "$kt" --runs "$RUNS" >"floor-$kt.out" 2>&1 || {
        echo "p11e-floor $kt failed:" >&2
        cat "floor-$kt.out" >&2
    }
    awk '/^run/ { print $4 * 1000 }' "floor-$kt.out" >"floor-keygen-$kt"
    awk '/^run/ { print $6 * 1000 }' "floor-$kt.out" >"floor-sign-$kt"
    awk '/^run/ { print $8 * 1000 }' "floor-$kt.out" >"floor-write3-$kt"
    awk '/^run/ { print $10 * 1000 }' "floor-$kt.out" >"floor-inturn-$kt"
    awk '/^open/ { print ($2 + $4) * 1000 }' "floor-$kt.out" >"floor-open-$kt"
done

# ---- 4. the fleet: FLEET enrollments at once on one token ------------------
echo "fleet: $FLEET enrollments (ec-p256) at once..." >&2
bench_fresh_token
bench_now t0
for ((f = 1; f <= FLEET; f++)); do
    "$P11ENROLL" -q enroll --token "$FX_URI" --module "$FX_MODULE" \
        --pin-file pin --endpoint "$SCM_SIM_URL" --client-id p11e-client \
        --client-secret-file client-secret --email dev@example.org \
        --key-type ec-p256 --label "fleet-$f" --ca-file "$SCM_SIM_CA_FILE" \
        --trust "$SCM_SIM_ROOTS" --state-dir "$W/fleet-state-$f" \
        >"fleet-$f.out" 2>&1 &
    pids[f]=$!
done
fleet_fail=0
for ((f = 1; f <= FLEET; f++)); do
    wait "${pids[f]}"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        fleet_fail=$((fleet_fail + 1))
        sed "s/^/    exit $rc: /" "fleet-$f.out" >>fleet-failures
    fi
done
bench_now t1
fleet_ms=$(((t1 - t0) / 1000))
fleet_on_token=$("$P11ENROLL" list --token "$FX_URI" --module "$FX_MODULE" \
    --pin-file pin 2>/dev/null | grep -c 'key on token: yes')

bench_report
