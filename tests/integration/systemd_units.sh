#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contrib/systemd: the renewal service and timer pass `systemd-analyze
# verify`; the example renew.conf is a valid config; and the service's own
# ExecStart line, with systemd's credential and state folders filled in
# the way systemd fills them, renews a 1-day certificate that scm-sim
# issued onto a SoftHSM token (PIN and client secret only from the
# credentials folder).  The certificate was enrolled by hand by root
# without --state-dir: the service (StateDirectory=p11enroll, that is
# /var/lib/p11enroll) finds that record and renews it as its successor.
# Run as another user, the by-hand enrollment names the folder instead.
set -u
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
S=$P11E_SOURCE_DIR/contrib/systemd
# shellcheck source=tests/softhsm/fixture.sh
. "$P11E_SOURCE_DIR/tests/softhsm/fixture.sh"
fx_softhsm_begin p11e-test
W=$FX_DIR/work
mkdir -p "$W/units" "$W/credentials" "$W/state"
cd "$W" || exit 1
export P11ENROLL_CONF_DIR=$W/no-conf
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"

# ---- systemd-analyze verify ---------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # the program is not installed in /usr/bin here: point at the build
    sed "s|/usr/bin/p11enroll|$P11ENROLL|" "$S/p11enroll-renew.service" \
        >units/p11enroll-renew.service
    cp "$S/p11enroll-renew.timer" units/
    if out=$(systemd-analyze verify --man=no units/p11enroll-renew.service \
        units/p11enroll-renew.timer 2>&1) && [ -z "$out" ]; then
        ok /systemd/verify
    else
        bad /systemd/verify "$out"
    fi
else
    # systemd is not among contrib/dev.sh's packages: on a machine without
    # it only this check is left out
    echo "skip /systemd/verify: systemd-analyze is not installed"
fi

# shellcheck disable=SC2016 # the unit's own ${...}, unexpanded
for want in "LoadCredential=pin:" 'pin-file ${CREDENTIALS_DIRECTORY}/pin' \
    "SuccessExitStatus=3" "StateDirectory=p11enroll"; do
    if grep -qF -- "$want" "$S/p11enroll-renew.service"; then
        ok "/systemd/service_has $want"
    else
        bad /systemd/service_has "no \"$want\" in the service"
    fi
done
if grep -q "^Persistent=true" "$S/p11enroll-renew.timer" &&
    grep -q "^WantedBy=timers.target" "$S/p11enroll-renew.timer"; then
    ok /systemd/timer
else
    bad /systemd/timer "Persistent= or WantedBy= missing"
fi

# ---- the example config parses (exit 2 would be a config error) --------
out=$("$P11ENROLL" doctor --config "$S/renew.conf" --token "$FX_URI" \
    --module "$FX_MODULE" --endpoint https://127.0.0.1:9 2>&1)
rc=$?
if [ "$rc" -ne 2 ] && ! printf '%s' "$out" | grep -q "renew.conf:"; then
    ok /systemd/renew_conf_parses
else
    bad /systemd/renew_conf_parses "rc $rc: $out"
fi

# ---- the service's command line, as systemd would run it ---------------
cat >sim.json <<'EOF'
{"profiles": [{"name": "Short", "terms": [1]}],
 "forms": [{"uri": "cs", "department": "Engineering", "profile": "Short",
            "eulaId": "e1", "eulaText": "EULA", "requiredFields": ["csr"]}],
 "restAccounts": [{"clientId": "p11e-client",
                   "clientSecret": "p11e-secret-0123456789",
                   "department": "Engineering", "profile": "Short",
                   "term": 1}]}
EOF
# shellcheck source=tests/integration/scm_sim_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/scm_sim_lib.sh"
scm_sim_start_config "$W/sim.json"
# what LoadCredential= copies: only this service can read it
printf '%s\n' "$FX_USER_PIN" >credentials/pin
printf 'p11e-secret-0123456789\n' >credentials/client-secret
chmod 0400 credentials/*
cat >renew.conf <<EOF
token = $FX_URI
module = $FX_MODULE
endpoint = $SCM_SIM_URL
client-id = p11e-client
email = dev@example.org
ca-file = $SCM_SIM_CA_FILE
trust = $SCM_SIM_ROOTS
wait = 2m
EOF
# the first enrollment, by a person, with the PIN and secret at hand; as
# root without --state-dir, whatever HOME and XDG_STATE_HOME say
if [ "$(id -u)" = 0 ]; then
    STATE=/var/lib/p11enroll # systemd's STATE_DIRECTORY for the unit
    by_hand=()
else
    STATE=$W/state
    by_hand=(--state-dir "$STATE")
fi
mkdir -p "$W/home"
HOME=$W/home XDG_STATE_HOME=$W/home/.local/state "$P11ENROLL" enroll \
    --config renew.conf "${by_hand[@]}" --json \
    --pin-file credentials/pin --client-secret-file credentials/client-secret \
    >enroll.out 2>enroll.err || {
    cat enroll.out enroll.err
    bad /systemd/setup "enroll failed"
}
first=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["id"])' \
    <enroll.out 2>/dev/null)
expect /systemd/by_hand/record_in_state_directory test -e "$STATE/$first.json"
expect /systemd/by_hand/not_in_home test ! -e "$W/home/.local/state/p11enroll"
sleep 1

line=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$S/p11enroll-renew.service" |
    sed 's/\\$//' | tr -d '\n' | sed 's/^ExecStart=//')
# shellcheck disable=SC2016 # systemd's variables, filled in as it would
line=${line//'${CREDENTIALS_DIRECTORY}'/$W/credentials}
# shellcheck disable=SC2016
line=${line//'${STATE_DIRECTORY}'/$STATE}
line=${line//\/etc\/p11enroll\/renew.conf/$W/renew.conf}
line=${line//\/usr\/bin\/p11enroll/$P11ENROLL}
read -r -a cmd <<<"$line"
# the unit's default window would wait until 8 hours before a 1-day
# certificate's end: ask for 2 days, and --json for the renewal's record
out=$(env -u XDG_STATE_HOME "${cmd[@]}" --within 2d --json 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q '"outcome": "renewed"'; then
    ok /systemd/execstart_renews
else
    bad /systemd/execstart_renews "rc $rc from: ${cmd[*]}"
    printf '%s\n' "$out" | sed 's/^/    /'
fi
# the renewal's record names the by-hand record as its predecessor
second=$(python3 -c '
import json, glob, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    r = json.load(open(f))
    if r.get("predecessorId") == sys.argv[2] and r["status"] == "installed":
        print(r["id"])' "$STATE" "$first" 2>/dev/null)
expect /systemd/same_records test -n "$second"
# the records this test made in the shared folder, and nothing else
for id in $first $second; do
    [ -n "$id" ] || continue
    rm -f "$STATE/$id.json" "$STATE/$id.bundle" "$STATE/$id.lock"
done

check_done
