# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/ansible/ansible_lib.sh - run ansible-playbook against localhost with
# the collection in contrib/ansible.  Source it after en_setup, then:
#   an_setup                  AN (work folder), a private Ansible config
#                             and home, the collection as p11enroll.pki
#   an_play NAME PLAYBOOK ARGS...   run it; $AN/NAME.out/.err/.rc
#   an_expect_rc NAME N       its exit code is N (else prints its output)
#   an_task NAME TEXT         ok/changed/failed/skipping of the first task
#                             whose title holds TEXT
#   an_expect_in NAME TEXT [CHECK]  the output holds TEXT (a result line)
#   an_recap NAME TEXT        the PLAY RECAP line holds TEXT

an_setup() {
    AN=$EN/ansible
    mkdir -p "$AN/collections/ansible_collections/p11enroll" "$AN/tmp"
    ln -s "$P11E_SOURCE_DIR/contrib/ansible" \
        "$AN/collections/ansible_collections/p11enroll/pki"
    printf '%s\n' "localhost ansible_connection=local" >"$AN/inventory"
    cat >"$AN/ansible.cfg" <<CFG
[defaults]
inventory = $AN/inventory
collections_path = $AN/collections
interpreter_python = /usr/bin/python3
local_tmp = $AN/tmp
remote_tmp = $AN/tmp
retry_files_enabled = false
nocolor = true
stdout_callback = default
CFG
    export ANSIBLE_CONFIG=$AN/ansible.cfg ANSIBLE_HOME=$AN/home AN
}

an_play() { # NAME PLAYBOOK ARGS...
    local name=$1 rc=0
    shift
    ansible-playbook "$@" >"$AN/$name.out" 2>"$AN/$name.err" || rc=$?
    echo "$rc" >"$AN/$name.rc"
}

an_expect_rc() { # NAME N
    if [ "$(cat "$AN/$1.rc")" -ne "$2" ]; then
        tail -n 60 "$AN/$1.out" "$AN/$1.err" >&2
        bad "/ansible/$1" "exit code $(cat "$AN/$1.rc"), expected $2"
        check_done
        exit 1
    fi
}

an_task() { # NAME TEXT
    awk -v want="$2" '
        /^TASK \[/ { inside = index($0, want) > 0; next }
        inside && match($0, /^(ok|changed|failed|fatal|skipping): \[/) {
            s = substr($0, 1, RLENGTH - 3); sub(/:$/, "", s); print s; exit
        }' "$AN/$1.out"
}

an_expect_in() { # NAME TEXT [CHECK]
    if grep -q -F -- "$2" "$AN/$1.out"; then
        if [ -n "${3:-}" ]; then ok "$3"; fi
        return 0
    fi
    if [ -n "${3:-}" ]; then bad "$3" "no '$2' in $AN/$1.out"; fi
    return 1
}

an_recap() { # NAME TEXT
    grep -A 2 '^PLAY RECAP' "$AN/$1.out" | grep -q -F -- "$2"
}
