#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contrib/ansible passes ansible-lint (Debian's; production profile) and
# ansible-doc reads the module's documentation.  (ansible-test sanity
# wants to fetch pip and its own requirements from the network, so the
# Debian tool that runs offline is ansible-lint.)
set -u
: "${P11E_SOURCE_DIR:?}"
# shellcheck source=tests/lib/check_lib.sh
. "$P11E_SOURCE_DIR/tests/lib/check_lib.sh"
for t in ansible-lint ansible-doc; do
    if ! command -v "$t" >/dev/null; then
        if [ -n "${P11E_NO_SKIP:-}" ]; then
            echo "$t is not installed, and P11E_NO_SKIP is set" >&2
            exit 1
        fi
        echo "skipped: $t is not installed (apt install ansible-lint)" >&2
        exit 77
    fi
done
W=$(mktemp -d "${TMPDIR:-/tmp}/p11e-ansible-lint-XXXXXX")
trap 'rm -rf "$W"' EXIT
# a copy, so the linter's caches never land in the source tree
mkdir -p "$W/collections/ansible_collections/p11enroll"
cp -r "$P11E_SOURCE_DIR/contrib/ansible" "$W/collections/ansible_collections/p11enroll/pki"
export HOME=$W/home XDG_CACHE_HOME=$W/cache ANSIBLE_HOME=$W/ansible-home \
    ANSIBLE_COLLECTIONS_PATH=$W/collections NO_COLOR=1
cd "$W/collections/ansible_collections/p11enroll/pki" || exit 1

check /ansible/lint 0 "Passed with production profile" -- \
    ansible-lint --offline --nocolor --profile production
check /ansible/doc 0 "p11enroll_certificate" -- \
    ansible-doc -t module p11enroll.pki.p11enroll_certificate
expect /ansible/module_compiles \
    /usr/bin/python3 -m py_compile plugins/modules/p11enroll_certificate.py
check_done
