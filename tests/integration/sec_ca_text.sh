#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What the CA says is data, not commands: a request id of ".." is refused
# (it would name a path), and a status reason full of terminal escapes
# reaches the terminal without them.
set -euo pipefail
# shellcheck source=tests/integration/enroll_lib.sh
. "$P11E_SOURCE_DIR/tests/integration/enroll_lib.sh"
en_setup

# 1. the enrollment's answer names request ".."
scm_sim_fault '{"type": "hostile_id", "path": "/api/v1/certificates", "method": "POST"}'
en_run id en_rest
en_expect_rc 6
en_expect_err "has no usable certId"
if find "$EN_STATE" -name '*..*' | grep -q .; then
    en_fail "a file named after the id"
fi

# 2. the status answer's reason tries to retitle and clear the terminal
scm_sim_fault '{"type": "hostile_text", "path": "/api/v1/certificates/1", "method": "GET"}'
en_run text en_rest --new --label text
en_expect_rc 4
en_expect_err "owned"
en_expect_err "all fine"
if LC_ALL=C grep -q -P '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' \
    "$EN/text.err" "$EN/text.out"; then
    en_fail "a control character reached the terminal: $(od -c "$EN/text.err" | head)"
fi
echo PASS
