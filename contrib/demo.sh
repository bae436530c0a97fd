#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# contrib/demo.sh - the main job end to end on the embedded default: a
# throwaway SoftHSM token, a local scm-sim over HTTPS, and p11enroll.
# Run through `bash contrib/dev.sh demo`, which builds and sets P11ENROLL
# and SCM_SIM.
set -euo pipefail

: "${P11ENROLL:?run through contrib/dev.sh demo}"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=tests/softhsm/fixture.sh
. "$top/tests/softhsm/fixture.sh"
fx_softhsm_begin p11enroll-demo
echo "SoftHSM token \"p11enroll-demo\" in $FX_DIR (user PIN $FX_USER_PIN)"

"$P11ENROLL" tokens --module "$FX_MODULE"
