# SPDX-License-Identifier: Apache-2.0
"""tests/lib/json_check.py - one p11enroll --json output against
docs/p11enroll.schema.json, as a pipeline reading it would check it.

    python3 json_check.py SCHEMA STDOUT_FILE COMMAND EXIT_CODE [PYTHON_EXPR]

Checks that the standard output is exactly one JSON object, valid against
the schema, and again against a strict copy of it in which an object with
declared members may hold no other (so every name p11enroll prints is
declared; journal records in status are exempt: their names follow the
journal's, checked by the schema's propertyNames); that "command" is
COMMAND; that "error" is null exactly when EXIT_CODE is 0 and otherwise
carries it; that every member name, at any depth, is snake_case; and that
every time-like string is RFC 3339 in UTC.  PYTHON_EXPR, if given, must be
true with the envelope as `e` and its result as `r`.  Prints what is wrong
and exits 1, else exits 0 silently.

    python3 json_check.py --schema SCHEMA

checks the schema itself: every member name it declares is snake_case.
"""
import copy
import json
import re
import sys

import jsonschema

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
RFC3339 = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
# a string that starts like a date is a time and must be RFC 3339
DATEISH = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]")


def strict(schema):
    """The schema with additionalProperties false wherever members are
    declared, except where propertyNames governs (journal records)."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node
                    and "propertyNames" not in node
                    and "additionalProperties" not in node):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(s)
    return s


def declared_names(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("properties", "definitions") and isinstance(v, dict):
                out.update(v.keys())
            declared_names(v, out)
    elif isinstance(node, list):
        for v in node:
            declared_names(v, out)
    return out


def shape_errors(node, path, errs):
    if isinstance(node, dict):
        for k, v in node.items():
            if not SNAKE.match(k):
                errs.append("%s: member name %r is not snake_case" % (path, k))
            shape_errors(v, "%s.%s" % (path, k), errs)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            shape_errors(v, "%s[%d]" % (path, i), errs)
    elif isinstance(node, str):
        if (DATEISH.match(node) or node.endswith(" UTC")) and \
                not RFC3339.match(node):
            errs.append("%s: %r is not an RFC 3339 UTC time" % (path, node))
    return errs


def check(schema_path, out_path, command, rc, expr):
    schema = json.load(open(schema_path))
    text = open(out_path).read()
    errs = []
    try:
        e = json.loads(text)
    except ValueError as x:
        return ["standard output is not one JSON document (%s): %r"
                % (x, text[:400])]
    if not isinstance(e, dict):
        return ["standard output is not a JSON object"]
    for name, s in (("schema", schema), ("strict schema", strict(schema))):
        v = jsonschema.Draft7Validator(s)
        for x in sorted(v.iter_errors(e), key=lambda x: list(x.path)):
            # "not valid under any of the given schemas": say why not,
            # leaving out the "or null" alternative
            why = [c for c in x.context if c.validator_value != "null"]
            for c in why or [x]:
                errs.append("%s: %s at %s" % (
                    name, c.message[:300],
                    "/".join(map(str, c.absolute_path))))
    if e.get("command") != command:
        errs.append("command is %r, expected %r" % (e.get("command"), command))
    err = e.get("error")
    if rc == 0 and err is not None:
        errs.append("exit 0 but error is %r" % (err,))
    if rc != 0 and (not isinstance(err, dict) or err.get("code") != rc):
        errs.append("exit %d but error is %r" % (rc, err))
    shape_errors(e, "$", errs)
    if expr and not errs:
        r = e.get("result")
        try:
            ok = eval(expr, {"e": e, "r": r, "re": re})
        except Exception as x:  # pylint: disable=broad-except
            ok = False
            errs.append("%s raised %r" % (expr, x))
        if not ok:
            errs.append("not true: %s" % expr)
    return errs


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--schema":
        schema = json.load(open(sys.argv[2]))
        jsonschema.Draft7Validator.check_schema(schema)
        bad = sorted(n for n in declared_names(schema, set())
                     if not SNAKE.match(n))
        if bad:
            print("declared names not in snake_case: %s" % ", ".join(bad))
            sys.exit(1)
        return
    schema_path, out_path, command, rc = sys.argv[1:5]
    expr = sys.argv[5] if len(sys.argv) > 5 else ""
    errs = check(schema_path, out_path, command, int(rc), expr)
    if errs:
        print("\n".join(errs))
        sys.exit(1)


if __name__ == "__main__":
    main()
