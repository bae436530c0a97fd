#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The state folder and its records are used only when they are the user's
# own and not writable by group or others: a record names the PKCS#11
# module that `resume` loads, so a record someone else could write would
# run their code.  Each way of planting one is refused with exit 10.  And
# PIN and secret files others can read are refused.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

scm_sim_delay 600
en_run pending en_rest --no-wait
en_expect_rc 3
id=$(en_journal_id)
rec=$EN_STATE/$id.json
[ -f "$rec" ] || en_fail "no record"

status() { "$P11ENROLL" status --state-dir "$EN_STATE" "$@"; }

# 1. a folder anyone may write to: a record could be planted there
chmod 0777 "$EN_STATE"
en_run dir_status status
en_expect_rc 10
en_expect_err "can be changed by group or others (mode 0777)"
en_expect_err "chmod go-w $EN_STATE"
en_run dir_resume en_resume "$id"
en_expect_rc 10
en_run dir_enroll en_rest --new --label other
en_expect_rc 10
en_expect_orders 1
chmod 0700 "$EN_STATE"

# 2. a record anyone may write to
chmod 0666 "$rec"
en_run rec_resume en_resume "$id"
en_expect_rc 10
en_expect_err "record $rec can be changed by group or others"
chmod 0600 "$rec"

# 3. a record, or the folder, of another user (root can make one)
if [ "$(id -u)" -eq 0 ]; then
    chown nobody "$rec"
    en_run other_resume en_resume "$id"
    en_expect_rc 10
    en_expect_err "belongs to user $(id -u nobody), not to you"
    chown 0 "$rec"
    chown nobody "$EN_STATE"
    en_run other_dir status
    en_expect_rc 10
    en_expect_err "belongs to user"
    chown 0 "$EN_STATE"
fi

# 4. a symlink in place of a record is not followed
mv "$rec" "$EN/moved.json"
ln -s "$EN/moved.json" "$rec"
en_run link_resume en_resume "$id"
en_expect_rc 10
en_expect_err "is not a regular file"
rm "$rec"
mv "$EN/moved.json" "$rec"

# a PIN or client secret file others can read is refused, as ssh does
chmod 0644 "$EN/pin"
en_run pin_perm en_rest --new --label perm
en_expect_rc 8
en_expect_err "can be read by group or others (mode 0644)"
en_expect_err "chmod 600 $EN/pin"
chmod 0600 "$EN/pin"
chmod 0640 "$EN/secret"
en_run secret_perm en_rest --new --label perm
en_expect_rc 2
en_expect_err "chmod 600 $EN/secret"
chmod 0600 "$EN/secret"
en_expect_orders 1

# all well again: status and resume work (the order is still pending)
en_run ok_status status
en_expect_rc 0
en_run ok_resume en_resume "$id" --no-wait
en_expect_rc 3
echo PASS
