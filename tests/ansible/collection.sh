#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contrib/ansible (the collection p11enroll.pki) run by ansible-playbook
# against localhost, with a SoftHSM token and scm-sim over HTTPS:
#   the role token_enrollment in check mode changes nothing; the first run
#   lays out config and credentials and enrolls (changed); the second run
#   changes nothing (ok); a CA that keeps the request pending gives
#   changed + pending, check mode then changes nothing, and the run after
#   the CA issued finishes it; check mode of state renewed and absent
#   reports what they would do and changes nothing; state renewed renews
#   what check mode said; the PIN and the client secret appear in no
#   Ansible output, -vvv included.
set -euo pipefail
: "${P11ENROLL:?}" "${P11E_SOURCE_DIR:?}"
for t in ansible-playbook /usr/bin/python3; do
    if ! command -v "$t" >/dev/null; then
        if [ -n "${P11E_NO_SKIP:-}" ]; then
            echo "$t is not installed, and P11E_NO_SKIP is set" >&2
            exit 1
        fi
        echo "skipped: $t is not installed (apt install ansible-core)" >&2
        exit 77
    fi
done
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
# shellcheck source=tests/ansible/ansible_lib.sh
. "$P11E_SOURCE_DIR/tests/ansible/ansible_lib.sh"
en_setup
an_setup

# A token of its own with a PIN no other output could hold by chance.
PIN=pin-Qz7fW2kx
SECRET=p11e-secret-0123456789
softhsm2-util --init-token --free --label fleet --so-pin "$FX_SO_PIN" \
    --pin "$PIN" >/dev/null
TOKEN=pkcs11:token=fleet
printf '%s\n' "$PIN" >"$AN/pin"

cat >"$AN/vars.json" <<EOF
{"p11enroll_install_package": false, "p11enroll_manage_timer": false,
 "p11enroll_config_dir": "$AN/etc", "p11enroll_state_dir": "$AN/state",
 "p11enroll_owner": "$(id -un)", "p11enroll_group": "$(id -gn)",
 "p11enroll_executable": "$P11ENROLL",
 "p11enroll_token": "$TOKEN", "p11enroll_module": "$FX_MODULE",
 "p11enroll_endpoint": "$SCM_SIM_URL", "p11enroll_client_id": "p11e-client",
 "p11enroll_email": "dev@example.org", "p11enroll_key_type": "ec-p256",
 "p11enroll_ca_file": "$SCM_SIM_CA_FILE", "p11enroll_trust": "$SCM_SIM_ROOTS",
 "p11enroll_wait": 120, "p11enroll_poll_interval": 1}
EOF
# the secrets, as a vault would hand them over
cat >"$AN/secrets.json" <<EOF
{"p11enroll_pin": "$PIN", "p11enroll_client_secret": "$SECRET"}
EOF
cat >"$AN/role.yml" <<'EOF'
---
- name: A build server's token
  hosts: localhost
  gather_facts: false
  roles:
    - p11enroll.pki.token_enrollment
EOF
role_run() { # NAME [ansible-playbook options]
    local name=$1
    shift
    an_play "$name" "$AN/role.yml" -e "@$AN/vars.json" \
        -e "@$AN/secrets.json" "$@"
}
tokn() { # keys, matching certificates, certificates on the fleet token
    "$P11ENROLL" list --module "$FX_MODULE" --token "$TOKEN" \
        --pin-file "$AN/pin" --json |
        /usr/bin/python3 -c 'import json,sys
r = json.load(sys.stdin)["result"]
print(len(r["keys"]), sum(1 for c in r["certificates"] if c["matches_key"]),
      len(r["certificates"]))'
}

# ---- 1. the role, check mode: nothing written, nothing enrolled ---------
role_run check --check
an_expect_rc check 0
if [ "$(an_task check Enroll)" = changed ]; then
    ok /role/check_would_enroll
else
    bad /role/check_would_enroll "$(an_task check Enroll)"
fi
if [ ! -e "$AN/etc" ] && [ "$(tokn)" = "0 0 0" ] && [ "$(en_orders)" -eq 0 ]; then
    ok /role/check_changes_nothing
else
    bad /role/check_changes_nothing "config $(ls "$AN"), token $(tokn), orders $(en_orders)"
fi

# ---- 2. the role: files laid out, doctor, enrolled -----------------------
role_run first -vvv
an_expect_rc first 0
if [ "$(an_task first Enroll)" = changed ]; then
    ok /role/first_run_enrolls
else
    bad /role/first_run_enrolls "$(an_task first Enroll)"
fi
if [ "$(tokn)" = "1 1 3" ] && [ "$(en_orders)" -eq 1 ]; then
    ok /role/on_token
else
    bad /role/on_token "token $(tokn), orders $(en_orders)"
fi
if [ "$(stat -c %a "$AN/etc/credentials")" = 700 ] &&
    [ "$(stat -c %a "$AN/etc/credentials/pin")" = 600 ] &&
    [ "$(cat "$AN/etc/credentials/pin")" = "$PIN" ] &&
    grep -q "^token = $TOKEN\$" "$AN/etc/renew.conf" &&
    ! grep -q -e "$PIN" -e "$SECRET" "$AN/etc/renew.conf"; then
    ok /role/files
else
    bad /role/files "$(ls -lR "$AN/etc")"
fi
an_expect_in first '"serial":' /role/first_run_reports_serial

# ---- 3. the role again: nothing to do -----------------------------------
role_run second -vvv
an_expect_rc second 0
if [ "$(an_task second Enroll)" = ok ] && an_recap second changed=0; then
    ok /role/second_run_ok
else
    bad /role/second_run_ok "$(an_task second Enroll); $(grep 'changed=' "$AN/second.out")"
fi
if [ "$(en_orders)" -eq 1 ]; then
    ok /role/second_run_no_order
else
    bad /role/second_run_no_order "$(en_orders) orders"
fi

# ---- 4. the module, a CA that keeps the request pending ------------------
cat >"$AN/pending.yml" <<EOF
---
- name: A second certificate, from a slow CA
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Enroll
      p11enroll.pki.p11enroll_certificate:
        token: "$TOKEN"
        module: "$FX_MODULE"
        pin_file: "$AN/etc/credentials/pin"
        endpoint: "$SCM_SIM_URL"
        client_id: p11e-client
        client_secret_file: "$AN/etc/credentials/client-secret"
        email: dev@example.org
        label: slow-ca
        ca_file: "$SCM_SIM_CA_FILE"
        trust: "$SCM_SIM_ROOTS"
        state_dir: "$AN/state"
        wait: 0
        poll_interval: 1
        executable: "$P11ENROLL"
EOF
scm_sim_delay 3600
an_play pending "$AN/pending.yml" -vvv
an_expect_rc pending 0
if [ "$(an_task pending Enroll)" = changed ] &&
    an_expect_in pending '"pending": true' "" &&
    [ "$(en_orders)" -eq 2 ]; then
    ok /module/pending_is_changed
else
    bad /module/pending_is_changed "$(an_task pending Enroll), $(en_orders) orders"
fi
state_of_newest() {
    "$P11ENROLL" status --state-dir "$AN/state" --json |
        /usr/bin/python3 -c 'import json,sys
e = json.load(sys.stdin)["result"]["enrollments"]
print(sorted(e, key=lambda r: r["created"])[-1]["status"])'
}
before=$(state_of_newest)

an_play pending_check "$AN/pending.yml" --check -v
an_expect_rc pending_check 0
if [ "$(an_task pending_check Enroll)" = changed ] &&
    an_expect_in pending_check '"action": "resume"' "" &&
    [ "$(state_of_newest)" = "$before" ] && [ "$(en_orders)" -eq 2 ] &&
    [ "$(tokn)" = "2 1 3" ]; then
    ok /module/check_mode_changes_nothing
else
    bad /module/check_mode_changes_nothing "$before -> $(state_of_newest), token $(tokn)"
fi

# the CA issues it; the next run finishes the same request
id=$(scm_sim_admin GET /admin/requests | /usr/bin/python3 -c 'import json,sys
print(json.load(sys.stdin)["requests"][-1]["id"])')
scm_sim_admin POST "/admin/requests/$id" '{"status": "Issued"}' >/dev/null
an_play finish "$AN/pending.yml" -vvv
an_expect_rc finish 0
if [ "$(an_task finish Enroll)" = changed ] &&
    an_expect_in finish '"action": "resume"' "" &&
    an_expect_in finish '"pending": false' "" &&
    [ "$(state_of_newest)" = installed ] && [ "$(en_orders)" -eq 2 ] &&
    [ "$(tokn)" = "2 2 4" ]; then
    ok /module/next_run_finishes
else
    bad /module/next_run_finishes "$(an_task finish Enroll), $(state_of_newest), token $(tokn)"
fi
# check mode of the other states: renew what ends within 400 days (both
# enrollments: they share a subject, but the journal links neither to the
# other, so neither supersedes the other), forget the slow CA's
# enrollment; nothing may change
sed -e 's/- name: Enroll/- name: Enroll (ok)/' "$AN/pending.yml" >"$AN/states.yml"
task_args=$(sed -n '/^        token:/,/^        executable:/p' "$AN/pending.yml" |
    grep -v -e '^        wait:' -e '^        label:')
cat >>"$AN/states.yml" <<EOF
    - name: Renew
      p11enroll.pki.p11enroll_certificate:
        state: renewed
        within: 400d
$task_args
    - name: Forget
      p11enroll.pki.p11enroll_certificate:
        state: absent
        label: slow-ca
$task_args
EOF
journal_before=$(cat "$AN"/state/*.json | md5sum)
an_play states "$AN/states.yml" --check -v
an_expect_rc states 0
if [ "$(an_task states 'Enroll (ok)')" = ok ] &&
    [ "$(an_task states Renew)" = changed ] &&
    an_expect_in states "Would renew 2 certificate(s)." &&
    [ "$(an_task states Forget)" = changed ] &&
    [ "$(cat "$AN"/state/*.json | md5sum)" = "$journal_before" ] &&
    [ "$(tokn)" = "2 2 4" ] && [ "$(en_orders)" -eq 2 ]; then
    ok /module/check_mode_states
else
    bad /module/check_mode_states "$(an_task states 'Enroll (ok)') $(an_task states Renew) $(an_task states Forget), token $(tokn)"
    tail -n 40 "$AN/states.out"
fi

# a real renewal of what ends within 400 days, as check mode said: two
# certificates, each with a new order and a new key
cat >"$AN/renew.yml" <<EOF
---
- name: Renew ahead of a release
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Renew
      p11enroll.pki.p11enroll_certificate:
        state: renewed
        within: 400d
$task_args
EOF
scm_sim_delay 0
an_play renew "$AN/renew.yml" -v
an_expect_rc renew 0
if [ "$(an_task renew Renew)" = changed ] &&
    grep -q '"outcome": "renewed"' "$AN/renew.out" &&
    an_expect_in renew '2 certificate(s) renewed or pending.' &&
    [ "$(en_orders)" -eq 4 ] && [ "$(tokn)" = "4 4 6" ]; then
    ok /module/renewed
else
    bad /module/renewed "$(an_task renew Renew), $(en_orders) orders, token $(tokn)"
    tail -n 40 "$AN/renew.out"
fi

# state: absent for real: the slow CA's enrollments are forgotten, their
# keys and certificates stay on the token (remove_key is not set)
cat >"$AN/absent.yml" <<EOF
---
- name: Forget the slow CA's enrollment
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Forget
      p11enroll.pki.p11enroll_certificate:
        state: absent
        label: slow-ca
$task_args
EOF
slow_records() { grep -l '"keyLabel": "slow-ca"' "$AN"/state/*.json | wc -l; }
slow_before=$(slow_records)
an_play absent "$AN/absent.yml" -v
an_expect_rc absent 0
if [ "$(an_task absent Forget)" = changed ] && [ "$(tokn)" = "4 4 6" ] &&
    [ "$(slow_records)" -lt "$slow_before" ]; then
    ok /module/absent
else
    bad /module/absent "$(an_task absent Forget), token $(tokn), slow-ca records $slow_before -> $(slow_records)"
    tail -n 40 "$AN/absent.out"
fi

# ---- secrets ---------------------------------------------------------------
leaks=$(grep -l -F -e "$PIN" -e "$SECRET" "$AN"/*.out "$AN"/*.err || true)
if [ -z "$leaks" ]; then
    ok /secrets/in_no_output
else
    bad /secrets/in_no_output "found in $leaks"
fi
if [ "$(grep -c '<localhost> EXEC' "$AN/first.out")" -gt 0 ]; then
    ok /secrets/output_was_verbose
else
    bad /secrets/output_was_verbose "no -vvv trace"
fi

check_done
