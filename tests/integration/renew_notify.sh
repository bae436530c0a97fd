#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `renew --notify-cmd CMD` against scm-sim and a SoftHSM token: CMD runs
# when a renewal is due and done, pending, or failed (an unmanaged
# certificate); it gets what happened in P11ENROLL_* variables and a JSON
# file; it gets a clean environment (nothing of renew's own), standard
# input from /dev/null and no descriptor beyond 0-2 (the PIN came through
# --pin-fd); neither the PIN nor the client secret is in anything it sees;
# its failure does not change renew's exit code.
set -u
# shellcheck source=tests/integration/renew_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/renew_lib.sh"

T=(--token "$FX_URI" --module "$FX_MODULE")
mkdir -p ev
# what the command saw, one set of files per event: its open descriptors
# (found with fstat, which opens none) and where its standard input leads,
# its environment, a copy of the event file
cat >notify.py <<'EOF'
import os, shutil, sys
fds = []
for fd in range(0, 4096):
    try:
        os.fstat(fd)
        fds.append(fd)
    except OSError:
        pass
d = os.path.join(os.path.dirname(sys.argv[0]), "ev")
n = os.path.join(d, "%s.%d" % (os.environ["P11ENROLL_EVENT"], os.getpid()))
open(n + ".fds", "w").write(" ".join(map(str, fds)) + "\n")
open(n + ".stdin", "w").write(os.readlink("/proc/self/fd/0") + "\n")
open(n + ".env", "w").write(
    "".join("%s=%s\n" % kv for kv in sorted(os.environ.items())))
shutil.copy(os.environ["P11ENROLL_EVENT_FILE"], n + ".json")
EOF
NOTIFY="exec python3 $W/notify.py"

"$P11ENROLL" enroll "${T[@]}" --pin-file "$W/pin" --endpoint "$SCM_SIM_URL" \
    --client-id p11e-client --client-secret-file "$W/secret" \
    --ca-file "$SCM_SIM_CA_FILE" --trust "$SCM_SIM_ROOTS" \
    --email dev@example.org --state-dir "$W/state" >enroll.out 2>&1 ||
    { cat enroll.out; bad /notify/setup "enroll failed"; }
sleep 1

# ---- due, then done; the PIN through a descriptor, a canary in the env -----
exec 7<"$W/pin"
check /notify/renewed 0 "renewed" -- env NOTIFY_CANARY=leak \
    "$P11ENROLL" renew --state-dir "$W/state" "${T[@]}" --pin-fd 7 \
    --within 2d --notify-cmd "$NOTIFY"
exec 7<&-
expect /notify/due_ran test "$(find ev -name 'due.*.json' | wc -l)" = 1
expect /notify/done_ran test "$(find ev -name 'done.*.json' | wc -l)" = 1
done_json=$(find ev -name 'done.*.json' | head -n 1)
expect /notify/done/json python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert e["event"] == "done" and e["outcome"] == "renewed", e
assert e["renewal"]["enrollment"] and e["renewal"]["serial"], e
assert e["subject"].startswith("CN=Dana Developer"), e' "$done_json"
done_env=${done_json%.json}.env
expect /notify/done/env_event grep -qx "P11ENROLL_EVENT=done" "$done_env"
expect /notify/done/env_subject \
    grep -q "^P11ENROLL_SUBJECT=CN=Dana Developer" "$done_env"
expect /notify/done/env_file \
    grep -q "^P11ENROLL_EVENT_FILE=/" "$done_env"
expect /notify/clean_env/no_canary \
    test "$(cat ev/*.env | grep -c NOTIFY_CANARY)" = 0
# PWD comes from the shell, LC_CTYPE from python's locale coercion
expect /notify/clean_env/only_ours test "$(cat ev/*.env | grep -c -v -E \
    '^(P11ENROLL_[A-Z_]+|PATH|LANG|PWD|LC_CTYPE)=')" = 0
expect /notify/fds/only_0_1_2 test "$(sort -u ev/*.fds)" = "0 1 2"
expect /notify/fds/stdin_null test "$(sort -u ev/*.stdin)" = /dev/null
expect /notify/no_secret_seen test "$(cat ev/* | grep -c -e p11e-secret \
    -e "=$FX_USER_PIN\$" -e "\"$FX_USER_PIN\"")" = 0
expect /notify/event_file_removed \
    test "$(find /tmp -maxdepth 1 -name 'p11enroll-event-*' -newer notify.py |
        wc -l)" = 0

# ---- pending ------------------------------------------------------------------
scm_sim_delay 600
sleep 1
check /notify/pending 3 "pending" -- "$P11ENROLL" renew \
    --state-dir "$W/state" "${T[@]}" --pin-file "$W/pin" --within 2d \
    --no-wait --notify-cmd "$NOTIFY"
expect /notify/pending_ran \
    test "$(find ev -name 'pending.*.json' | wc -l)" = 1
scm_sim_delay 0

# ---- failed: a due certificate renew cannot renew; a failing command ----------
check /notify/failed 11 "unmanaged" -- "$P11ENROLL" renew \
    --state-dir "$W/empty" "${T[@]}" --pin-file "$W/pin" --within 2d \
    --notify-cmd "$NOTIFY"
expect /notify/failed_ran test "$(find ev -name 'failed.*.json' | wc -l)" -ge 1
expect /notify/failed/fix python3 -c '
import json, glob
e = [json.load(open(f)) for f in glob.glob("ev/failed.*.json")]
assert all(x["fix"].startswith("p11enroll adopt ") for x in e), e'
check /notify/command_fails 11 "notify-cmd for \"failed\" failed" \
    -- "$P11ENROLL" renew --state-dir "$W/empty" "${T[@]}" \
    --pin-file "$W/pin" --within 2d --notify-cmd "exit 3"

check_done
