#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: Apache-2.0
"""Ansible module p11enroll_certificate: a certificate on a PKCS#11 token,
enrolled, renewed or forgotten through the p11enroll command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: p11enroll_certificate
short_description: Enroll and renew a code-signing certificate for a key on a PKCS#11 token
version_added: "0.1.0"
description:
  - Runs C(p11enroll) on the managed host and reads its C(--json) result.
  - C(state=present) enrolls when no valid certificate of this lineage (the
    same token, CA endpoint or form, e-mail, client ID and label) is on the
    token, finishes an enrollment a previous run left pending, and otherwise
    changes nothing.
  - C(state=renewed) runs C(p11enroll renew) for what ends within I(within).
  - C(state=absent) forgets the recorded enrollments of this lineage
    (C(p11enroll forget)); their keys only with I(remove_key=true).
  - A request still pending at the CA is C(changed) with C(pending=true), not
    a failure; the next run finishes it.
  - Secrets are never parameters; only the files holding them are
    (I(pin_file), I(client_secret_file)), and those paths are kept out of
    the output too.
  - Check mode reads the token (C(p11enroll list)) and the journal
    (C(p11enroll status)) and reports what a real run would do, without
    generating a key or sending a request.
author:
  - p11enroll maintainers
requirements:
  - p11enroll on the managed host (the Debian package p11enroll)
options:
  state:
    description: What should be true after the run.
    type: str
    choices: [present, renewed, absent]
    default: present
  token:
    description: RFC 7512 C(pkcs11:) URI of the token (C(--token)).
    type: str
    required: true
  module:
    description: PKCS#11 module, path or p11-kit name (C(--module)).
    type: str
  token_family:
    description: Token quirks to apply (C(--token-family)).
    type: str
    choices: [generic, ykcs11, cloudhsm, p11kit-remote, softhsm]
  pin_file:
    description: File holding the token's user PIN (C(--pin-file)).
    type: path
  endpoint:
    description: SCM REST enrollment endpoint (C(--endpoint)).
    type: str
  form:
    description: SCM self-enrollment form URL (C(--form)).
    type: str
  client_id:
    description: REST client ID (C(--client-id)).
    type: str
  client_secret_file:
    description: File holding the REST client secret (C(--client-secret-file)).
    type: path
  email:
    description: E-mail address of the requester (C(--email)).
    type: str
  first_name:
    description: C(--first-name).
    type: str
  last_name:
    description: C(--last-name).
    type: str
  title:
    description: C(--title).
    type: str
  san_email:
    description: C(--san-email).
    type: str
  subject:
    description: Subject DN of the request (C(--subject)).
    type: str
  term:
    description: Certificate term in days (C(--term)).
    type: int
  key_type:
    description: Type of a new key (C(--key-type)).
    type: str
    choices: [ec-p256, ec-p384, rsa-3072, rsa-4096]
  label:
    description: Label of the new key and certificate (C(--label)); part of the lineage.
    type: str
  trust:
    description:
      - PEM roots the issued chain must verify to (C(--trust)).
      - Without it the chain must verify to the system trust store or to a root
        pinned in the state folder; a root that only the downloaded bundle
        carries is refused (exit 9). The module offers no C(--trust-bundle-root)
        on purpose, so that a play never accepts a root nobody looked at; ship
        the CA's root and give it here.
    type: path
  ca_file:
    description: PEM CA certificates trusted for the CA's HTTPS (C(--ca-file)).
    type: path
  otp_file:
    description: File the form's one-time code is read from (C(--otp-file)).
    type: path
  accept_eula:
    description: Accept the form's EULA (C(--accept-eula)).
    type: bool
    default: false
  out_cert:
    description: Also write the certificate as PEM here (C(--out-cert)).
    type: path
  out_chain:
    description: Also write the chain as PEM here (C(--out-chain)).
    type: path
  wait:
    description:
      - Seconds to wait for the CA (C(--wait)); C(0) returns at once
        (C(--no-wait)), pending.
    type: int
  poll_interval:
    description: Seconds between status calls (C(--poll-interval)).
    type: int
  state_dir:
    description: Journal folder (C(--state-dir)).
    type: path
  config:
    description: p11enroll config file (C(--config)).
    type: path
  within:
    description: With C(state=renewed), renew what ends within this (C(30d), C(12h), C(90m), C(3600s)).
    type: str
    default: 30d
  reuse_key:
    description: With C(state=renewed), keep the key (C(--reuse-key)).
    type: bool
    default: false
  retire_old:
    description: With C(state=renewed), remove superseded certificates (C(--retire-old)).
    type: bool
    default: false
  remove_key:
    description: With C(state=absent), also remove the keys (C(forget --remove-key)).
    type: bool
    default: false
  executable:
    description: The p11enroll program (default, from C(PATH)).
    type: path
"""

EXAMPLES = r"""
- name: A code-signing certificate on the build server's HSM
  p11enroll.pki.p11enroll_certificate:
    token: "pkcs11:token=codesign"
    module: /usr/lib/libCryptoki2_64.so
    pin_file: /etc/p11enroll/credentials/pin
    endpoint: https://cert-manager.com/api/enrollment/example
    client_id: build-server-01
    client_secret_file: /etc/p11enroll/credentials/client-secret
    email: release@example.org
    key_type: ec-p384
    label: code-signing
    wait: 1800
  register: cert

- name: Renew what ends within 60 days
  p11enroll.pki.p11enroll_certificate:
    state: renewed
    token: "pkcs11:token=codesign"
    pin_file: /etc/p11enroll/credentials/pin
    client_secret_file: /etc/p11enroll/credentials/client-secret
    within: 60d
"""

RETURN = r"""
action:
  description: What was done (or would be, in check mode)
    C(none), C(enroll), C(resume), C(renew), C(forget).
  returned: always
  type: str
pending:
  description: The request waits at the CA (p11enroll exit 3); the next run finishes it.
  returned: always
  type: bool
enrollment:
  description: Journal ID of the enrollment.
  returned: when known
  type: str
status:
  description: Journal step reached (C(installed), C(submitted), ...).
  returned: when known
  type: str
request_id:
  description: The CA's request ID.
  returned: when known
  type: str
key_uri:
  description: RFC 7512 URI of the private key.
  returned: when known
  type: str
cert_uri:
  description: RFC 7512 URI of the certificate.
  returned: when installed
  type: str
subject:
  description: Subject of the certificate (RFC 2253).
  returned: when installed
  type: str
serial:
  description: Serial number of the certificate (hex).
  returned: when installed
  type: str
not_after:
  description: End of the certificate's validity, as p11enroll printed it.
  returned: when installed
  type: str
files:
  description: Files p11enroll wrote (I(out_cert), I(out_chain)).
  returned: when enrolled
  type: list
  elements: str
renewals:
  description: With C(state=renewed), one entry per certificate looked at (p11enroll renew --json).
  returned: with state=renewed
  type: list
  elements: dict
next_due:
  description: With C(state=renewed), when the next certificate falls due.
  returned: with state=renewed
  type: str
forgotten:
  description: With C(state=absent), the journal IDs forgotten (or that would be).
  returned: with state=absent
  type: list
  elements: str
p11enroll:
  description: The C(result) member of the command's JSON (docs/json-schema.md).
  returned: when a command ran
  type: dict
"""

import calendar
import json
import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

EXIT_PENDING = 3
EXIT_USAGE = 2
FINAL_STEPS = ("installed", "rejected")

# The member names p11enroll prints: snake_case (docs/json-schema.md,
# schema p11enroll/2), and the journal's camelCase names that `status
# --json` showed under p11enroll/1, so an older p11enroll still works.
FIELDS = {
    "id": ("id",),
    "status": ("status",),
    "token_uri": ("token_uri", "tokenUri"),
    "key_id": ("key_id", "keyId"),
    "key_uri": ("key_uri", "keyUri"),
    "cert_uri": ("cert_uri", "certUri"),
    "request_id": ("request_id", "requestId"),
    "ca_status": ("ca_status", "caStatus"),
    "url": ("url",),
    "email": ("email",),
    "client_id": ("client_id", "clientId"),
    "label": ("label", "key_label", "keyLabel"),
    "subject": ("subject", "cert_subject", "certSubject"),
    "issuer": ("issuer", "cert_issuer", "certIssuer"),
    "serial": ("serial", "cert_serial", "certSerial"),
    "not_after": ("not_after", "cert_expires", "certExpires", "notAfter"),
    "created": ("created",),
    "matches_key": ("matches_key", "matchesKey"),
    "files": ("files",),
}

RESULT_FIELDS = ("token_uri", "key_id", "key_uri", "cert_uri", "request_id",
                 "ca_status", "subject", "issuer", "serial", "not_after",
                 "files")


def field(obj, name, default=None):
    """Member NAME of a p11enroll JSON object, whichever spelling it has."""
    if not isinstance(obj, dict):
        return default
    for key in FIELDS.get(name, (name,)):
        if obj.get(key) is not None:
            return obj[key]
    return default


def epoch(text):
    """Seconds since 1970 of a p11enroll time: RFC 3339 ("...T...Z"), the
    older "YYYY-MM-DD HH:MM:SS UTC", or a number; None if unreadable."""
    if isinstance(text, (int, float)):
        return int(text)
    if not isinstance(text, str):
        return None
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)", text)
    if m is None:
        return None
    return calendar.timegm(tuple(int(v) for v in m.groups()) + (0, 0, 0))


def duration(text):
    """Seconds of a --within value (30d, 12h, 90m, 3600s, 3600)."""
    m = re.match(r"^\s*(\d+)\s*([dhms]?)\s*$", text or "")
    if m is None:
        return None
    return int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60,
                              "s": 1, "": 1}[m.group(2)]


def same_url(a, b):
    return (a or "").rstrip("/") == (b or "").rstrip("/")


class P11enroll(object):
    """Runs p11enroll with the task's parameters and reads its JSON."""

    def __init__(self, module):
        self.m = module
        self.p = module.params
        self.bin = self.p["executable"] or module.get_bin_path(
            "p11enroll", required=True)

    def opts(self, *groups):
        p = self.p
        table = {
            "token": [("--token", "token"), ("--module", "module"),
                      ("--token-family", "token_family"),
                      ("--pin-file", "pin_file")],
            "files": [("--state-dir", "state_dir"), ("--config", "config")],
            "ca": [("--endpoint", "endpoint"), ("--form", "form"),
                   ("--client-id", "client_id"),
                   ("--client-secret-file", "client_secret_file"),
                   ("--email", "email"), ("--first-name", "first_name"),
                   ("--last-name", "last_name"), ("--title", "title"),
                   ("--san-email", "san_email"), ("--subject", "subject"),
                   ("--term", "term"), ("--key-type", "key_type"),
                   ("--label", "label"), ("--otp-file", "otp_file"),
                   ("--out-cert", "out_cert"), ("--out-chain", "out_chain")],
            "trust": [("--ca-file", "ca_file"), ("--trust", "trust"),
                      ("--poll-interval", "poll_interval")],
        }
        args = []
        for group in groups:
            for opt, name in table[group]:
                if p.get(name) is not None:
                    args += [opt, str(p[name])]
        if "ca" in groups and p["accept_eula"]:
            args.append("--accept-eula")
        if "trust" in groups and p["wait"] is not None:
            args += ["--no-wait"] if p["wait"] == 0 else [
                "--wait", str(p["wait"])]
        return args

    def run(self, verb, args, may_pend=True):
        """Runs `p11enroll VERB ARGS --json`; returns (rc, result); fails
        the task on any exit but 0 (and 3 when MAY_PEND)."""
        argv = [self.bin, verb] + args + ["--json"]
        rc, out, err = self.m.run_command(argv, check_rc=False)
        try:
            envelope = json.loads(out)
        except ValueError:
            envelope = {}
        error = envelope.get("error") or {}
        if rc == 0 or (rc == EXIT_PENDING and may_pend):
            return rc, envelope.get("result")
        lines = [ln for ln in (err or "").splitlines() if ln.strip()]
        msg = error.get("message") or (lines[-1] if lines else
                                       "p11enroll %s exited %d" % (verb, rc))
        self.m.fail_json(msg=msg, rc=rc, error=error.get("name"),
                         command=verb, stderr=err,
                         p11enroll=envelope.get("result"))
        return None  # not reached

    def records(self):
        args = []
        if self.p["state_dir"]:
            args = ["--state-dir", self.p["state_dir"]]
        _rc, res = self.run("status", args, may_pend=False)
        return field(res, "enrollments", []) or []

    def token_certs(self):
        args = self.opts("token")
        pin = self.p["pin_file"]
        if pin is not None and not os.path.exists(pin):
            # a check run before the PIN file is laid out: certificates
            # are public objects, listed without logging in
            i = args.index("--pin-file")
            del args[i:i + 2]
        _rc, res = self.run("list", args, may_pend=False)
        return field(res, "certificates", []) or []


def lineage(records, p):
    """The journal records of this task's certificate, oldest first."""
    url = p["endpoint"] or p["form"]
    mine = []
    for r in records:
        if field(r, "token_uri") != p["token"]:
            continue
        if url and not same_url(field(r, "url"), url):
            continue
        for name in ("email", "client_id", "label"):
            have = field(r, name)
            if p[name] and have and have.lower() != p[name].lower():
                break
        else:
            mine.append(r)
    # created: RFC 3339 since p11enroll/2, seconds since 1970 before
    return sorted(mine, key=lambda r: epoch(field(r, "created")) or 0)


def valid_leaves(certs, now):
    """Certificates on the token that match a key there and still hold."""
    return [c for c in certs if field(c, "matches_key") and
            (epoch(field(c, "not_after")) or 0) > now]


def summary(rec):
    out = {"enrollment": field(rec, "id"), "status": field(rec, "status")}
    for name in RESULT_FIELDS:
        value = field(rec, name)
        if value is not None:
            out[name] = value
    return out


def present(pe, m):
    p = m.params
    now = time.time()
    mine = lineage(pe.records(), p)
    leaves = valid_leaves(pe.token_certs(), now)
    leaf_ids = set(field(c, "id") for c in leaves)
    for rec in reversed(mine):
        if field(rec, "status") == "installed" and \
                field(rec, "key_id") in leaf_ids:
            m.exit_json(changed=False, action="none", pending=False,
                        msg="A valid certificate of this lineage is on the token.",
                        **summary(rec))
    if not mine and p["label"]:
        for c in leaves:
            if c.get("label") == p["label"]:
                m.exit_json(changed=False, action="none", pending=False,
                            msg="A valid certificate labelled %s is on the token "
                                "(not in the journal)." % p["label"],
                            subject=field(c, "subject"),
                            serial=field(c, "serial"),
                            not_after=field(c, "not_after"),
                            cert_uri=c.get("uri"))
    unfinished = [r for r in mine if field(r, "status") not in FINAL_STEPS]
    if unfinished:
        rec = unfinished[-1]
        if m.check_mode:
            m.exit_json(changed=True, action="resume", pending=False,
                        msg="Would continue enrollment %s (%s)." % (
                            field(rec, "id"), field(rec, "status")),
                        **summary(rec))
        args = [field(rec, "id")] + pe.opts("token", "files", "trust")
        for opt, name in (("--client-secret-file", "client_secret_file"),
                          ("--otp-file", "otp_file"),
                          ("--out-cert", "out_cert"),
                          ("--out-chain", "out_chain")):
            if p[name] is not None:
                args += [opt, p[name]]
        finish(m, "resume", *pe.run("resume", args))
    if m.check_mode:
        m.exit_json(changed=True, action="enroll", pending=False,
                    msg="Would enroll a new key on %s." % p["token"])
    finish(m, "enroll",
           *pe.run("enroll", pe.opts("token", "files", "ca", "trust")))


def finish(m, action, rc, res):
    pending = rc == EXIT_PENDING
    out = summary(res or {})
    msg = ("Request %s is pending at the CA; the next run finishes it." %
           out.get("request_id") if pending else
           "Installed %s (serial %s)." % (out.get("subject"),
                                          out.get("serial")))
    m.exit_json(changed=True, action=action, pending=pending, msg=msg,
                p11enroll=res, **out)


def renewed(pe, m):
    p = m.params
    if duration(p["within"]) is None:
        m.fail_json(msg="within: %s is not a duration such as 30d, 12h, "
                        "90m or 3600s." % p["within"])
    args = ["--within", p["within"]] + pe.opts("token", "files", "ca", "trust")
    if p["reuse_key"]:
        args.append("--reuse-key")
    if p["retire_old"]:
        args.append("--retire-old")
    if m.check_mode:
        # renew's own dry run: lineage from the journal decides, as in a
        # real run, and nothing changes
        rc, res = pe.run("renew", args + ["--dry-run"])
        entries = field(res, "certificates", []) or []
        due = [{"subject": e.get("subject"), "not_after": e.get("not_after"),
                "key_id": e.get("key_id")}
               for e in entries if e.get("outcome") == "due"]
        m.exit_json(changed=bool(due), action="renew" if due else "none",
                    pending=False, renewals=due,
                    msg="Would renew %d certificate(s)." % len(due))
    rc, res = pe.run("renew", args)
    entries = field(res, "certificates", []) or []
    acted = [e for e in entries if e.get("outcome") in
             ("renewed", "pending", "retired")]
    pending = rc == EXIT_PENDING or any(e.get("outcome") == "pending"
                                        for e in entries)
    m.exit_json(changed=bool(acted), action="renew" if acted else "none",
                pending=pending, renewals=entries, p11enroll=res,
                next_due=field(res, "next_due"),
                msg="%d certificate(s) renewed or pending." % len(acted))


def absent(pe, m):
    p = m.params
    mine = lineage(pe.records(), p)
    ids = [field(r, "id") for r in mine]
    if not ids or m.check_mode:
        m.exit_json(changed=bool(ids), action="forget" if ids else "none",
                    pending=False, forgotten=ids,
                    msg="Would forget %s." % ", ".join(ids) if ids else
                    "No enrollment of this lineage is recorded.")
    for rec_id in ids:
        args = [rec_id, "--yes"]
        if p["state_dir"]:
            args += ["--state-dir", p["state_dir"]]
        if p["remove_key"]:
            # the key is removed from the token: it needs the token and PIN
            args += ["--remove-key"] + pe.opts("token")
        rc, _out, err = m.run_command([pe.bin, "forget"] + args,
                                      check_rc=False)
        if rc != 0:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            msg = lines[-1] if lines else "p11enroll forget exited %d" % rc
            if rc == EXIT_USAGE and "unknown command" in msg:
                msg = ("This p11enroll has no `forget` command (%s); update "
                       "it to use state=absent." % msg)
            m.fail_json(msg=msg, rc=rc, forgotten=ids[:ids.index(rec_id)])
    m.exit_json(changed=True, action="forget", pending=False, forgotten=ids,
                msg="Forgot %s." % ", ".join(ids))


def main():
    spec = dict(
        state=dict(type="str", default="present",
                   choices=["present", "renewed", "absent"]),
        token=dict(type="str", required=True),
        module=dict(type="str"),
        token_family=dict(type="str", choices=[
            "generic", "ykcs11", "cloudhsm", "p11kit-remote", "softhsm"]),
        pin_file=dict(type="path", no_log=True),
        endpoint=dict(type="str"),
        form=dict(type="str"),
        client_id=dict(type="str"),
        client_secret_file=dict(type="path", no_log=True),
        email=dict(type="str"),
        first_name=dict(type="str"),
        last_name=dict(type="str"),
        title=dict(type="str"),
        san_email=dict(type="str"),
        subject=dict(type="str"),
        term=dict(type="int"),
        key_type=dict(type="str", choices=[
            "ec-p256", "ec-p384", "rsa-3072", "rsa-4096"]),
        label=dict(type="str"),
        trust=dict(type="path"),
        ca_file=dict(type="path"),
        otp_file=dict(type="path"),
        accept_eula=dict(type="bool", default=False),
        out_cert=dict(type="path"),
        out_chain=dict(type="path"),
        wait=dict(type="int"),
        poll_interval=dict(type="int"),
        state_dir=dict(type="path"),
        config=dict(type="path"),
        within=dict(type="str", default="30d"),
        reuse_key=dict(type="bool", default=False),
        retire_old=dict(type="bool", default=False),
        remove_key=dict(type="bool", default=False),
        executable=dict(type="path"),
    )
    m = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                      mutually_exclusive=[("endpoint", "form")])
    pe = P11enroll(m)
    {"present": present, "renewed": renewed,
     "absent": absent}[m.params["state"]](pe, m)


if __name__ == "__main__":
    main()
