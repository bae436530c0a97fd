# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/lib/json_lib.sh - checking --json output against the schema.
# Source it, then:
#   json_python   print the python3 that can import jsonschema; status 1
#                 when none can.  Debian's python3-jsonschema is for
#                 Debian's python3, so /usr/bin/python3 comes before
#                 whatever python3 is first on PATH.
# The checker itself: tests/lib/json_check.py SCHEMA FILE COMMAND RC [EXPR].

json_python() {
    local p
    for p in /usr/bin/python3 python3; do
        if "$p" -c 'import jsonschema' 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
