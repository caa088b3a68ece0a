#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nft_egress
short_description: Open exactly the DLEGATE service's egress in a dedicated nftables table
version_added: 0.1.0
description:
  - Manages one nftables table owned by the collection (family C(inet), default C(dlegate_egress)) that opens
    exactly the egress the DLEGATE real-time service needs, and nothing more. Other tables are never touched, so
    the module coexists with whatever firewall the host already has.
  - Each destination group is kept in two named interval sets, C(<group>_v4) and C(<group>_v6). Addresses and
    CIDRs are used as given; DNS names are resolved B(on the managed host), because geo-DNS answers differ per
    site. Overlapping and adjacent networks are merged before they are written, so nft accepts them and the live
    sets read back equal.
  - Each rule becomes one nft rule per destination group and address family, with the rule's name as comment.
  - The whole table is created or replaced in B(one) atomic C(nft -f -) transaction; the host never sees a half
    applied policy, and nothing changes when nft rejects it.
  - Idempotence compares the parsed live table (C(nft -j list ruleset)) with the desired table as data, never as
    text. Rules or objects in the table that this module did not write are reported and removed.
  - 'Why a mark: nftables runs every table registered at a hook and a drop in any of them is final, so an accept
    in this table cannot overrule another table''s default drop. Every permitted packet therefore gets the bit
    O(permit_mark), and a site firewall honours the collection''s permits with one rule
    C(meta mark & 0x00200000 == 0x00200000 accept). Base chains of other tables at the same hook whose policy
    is drop and that never mention the mark are reported in RV(shadowing_chains) with a warning.'
author:
  - DLEGATE network engineering (@dlegate)
requirements:
  - nftables (the C(nft) command, with JSON support) on the managed host
  - dnspython on the managed host when O(destinations) holds DNS names
options:
  state:
    description:
      - V(present) creates or replaces the table with the policy.
      - V(absent) deletes the table if it exists.
      - V(rendered) returns the policy's ruleset in RV(ruleset) without touching the host; nft is not needed.
        It does not resolve names either; names not given in O(resolved) are left out of the sets with a warning
        and listed in RV(skipped_domains), whatever O(unresolved) says.
      - V(gathered) returns the live table as module arguments in RV(gathered), touching nothing.
    type: str
    choices: [present, absent, rendered, gathered]
    default: present
  mode:
    description:
      - V(permit) accepts and marks the allowed flows, ahead of the host's own policy.
      - V(enforce) does the same, then drops and counts (one rule counter per destination set) all other
        traffic to any address of any destination group, whatever its source. RV(counters) reports the counts.
      - V(audit) changes nothing, reports in RV(compliant) whether the live table implements the policy (in its
        permit or, when the live table drops, its enforce form) and the differences in RV(added) and
        RV(removed). C(changed) is always false. Cannot be combined with O(state=rendered).
    type: str
    choices: [permit, enforce, audit]
    default: permit
  hook:
    description:
      - V(output) filters the host's own traffic (endpoints).
      - V(forward) filters the traffic the host forwards (gateways).
    type: str
    choices: [output, forward]
    default: output
  source_networks:
    description:
      - With O(hook=forward), only traffic from these networks (IPv4/IPv6 CIDRs) is permitted; they are kept in
        the sets C(sources_v4) and C(sources_v6). Empty means any source.
      - Not allowed with O(hook=output).
    type: list
    elements: str
    default: []
  destinations:
    description:
      - Destination groups. Each key is a group name (a lowercase letter followed by up to 30 lowercase letters,
        digits or underscores; C(sources) is reserved); each value is a list of IPv4/IPv6 addresses, CIDRs
        (without host bits) or DNS names.
      - DNS names are resolved on the managed host (A and AAAA). Rerun the module to follow changed answers.
      - In O(mode=enforce), traffic to any address of any group that no rule allows is dropped.
    type: dict
    default: {}
  rules:
    description:
      - The flows to permit, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Rule name, written as the nft rule comment. A lowercase letter followed by up to 30 lowercase letters,
            digits or underscores; unique among the rules.
        type: str
        required: true
      protocol:
        description:
          - Transport protocol.
        type: str
        required: true
        choices: [tcp, udp]
      ports:
        description:
          - Destination ports, each an integer (V(443)) or a string holding one port (V("3478")) or a range
            V("LOW-HIGH") (V("49152-65535")); ports are 1-65535 and LOW must not exceed HIGH.
        type: list
        elements: raw
        required: true
      destinations:
        description:
          - Names of groups of O(destinations) this rule opens.
        type: list
        elements: str
        required: true
  unresolved:
    description:
      - What to do with a DNS name that does not resolve on the host.
      - V(fail) fails naming it, and changes nothing.
      - V(skip) leaves it out with a warning and lists it in RV(skipped_domains).
    type: str
    choices: [fail, skip]
    default: fail
  nameservers:
    description:
      - Resolver addresses to ask instead of the host's own (C(/etc/resolv.conf)).
    type: list
    elements: str
    default: []
  resolve_timeout:
    description:
      - Seconds to wait for the DNS answers of one name and record type.
    type: float
    default: 5.0
  resolved:
    description:
      - Addresses to use for DNS names instead of looking them up, as a dict of name to a list of addresses
        (the shape of RV(resolved)). Needed to render names with O(state=rendered).
    type: dict
    default: {}
  permit_mark:
    description:
      - Bit(s) OR-ed into the packet mark of every permitted packet (C(meta mark set meta mark | 0x00200000)), so
        that another table's default-drop chain can accept them with C(meta mark & 0x00200000 == 0x00200000 accept).
      - V(0) sets no mark.
    type: int
    default: 2097152
  table:
    description:
      - Name of the collection's table (family C(inet)). A letter followed by up to 63 letters, digits or
        underscores. Only this table is ever changed.
    type: str
    default: dlegate_egress
  priority:
    description:
      - Priority of the table's base chain. The default V(-10) is C(filter - 10), ahead of the host's own filter
        chains.
    type: int
    default: -10
  rollback_timeout:
    description:
      - Commit-confirm for remote gateways. When above 0 and the run changes the table, the module first saves the
        table's previous content (or its absence) to a rollback script under C(/run/dlegate/) and starts a detached
        process that restores it with one C(nft -f) after this many seconds, unless O(confirm=true) is run first.
      - The result then has RV(rollback_pending) and RV(rollback_deadline). Confirm in a later task over a new
        connection; if the change cut the management path, that task fails and the host rolls back by itself.
      - When a rollback is already pending, the new one keeps restoring the last confirmed table.
      - V(0) turns it off. At most 86400.
    type: int
    default: 0
  confirm:
    description:
      - Cancel the pending rollback of O(table), keeping the applied change. Nothing else is done in this run.
      - Reports RV(confirmed=true) (and C(changed=false)) when a rollback was pending, RV(confirmed=false) when
        none was, and fails when the rollback has already run, since the change was then reverted.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
notes:
  - Needs root (C(become=true)) for every state except V(rendered).
  - Without nft on the host the module fails, except in O(mode=audit), which then warns and audits the host as
    having no table (not compliant unless O(state=absent)).
  - The table's base chain has policy accept; it never drops traffic outside the service's destinations.
  - Reply traffic is not matched; the host's firewall is expected to accept established connections.
  - The detached rollback process runs in its own session; on hosts where systemd-logind kills user processes at
    logout (C(KillUserProcesses=yes)), connect as root or lower that setting.
  - Table names that are nft keywords are rejected by nft; the error is reported as is.
seealso:
  - name: nftables wiki
    description: Configuring chains, priorities and the evaluation of several tables at one hook.
    link: https://wiki.nftables.org/wiki-nftables/index.php/Configuring_chains
"""

EXAMPLES = r"""
- name: Endpoint - permit and mark the DLEGATE flows
  dlegate.rtc.nft_egress:
    hook: output
    mode: permit
    destinations:
      signaling: [signal.dlegate.example]
      media: [turn.dlegate.example, 203.0.113.0/24]
    rules:
      - {name: signaling, protocol: tcp, ports: [443], destinations: [signaling]}
      - {name: stun, protocol: udp, ports: [3478], destinations: [media]}
      - {name: media, protocol: udp, ports: ["49152-65535"], destinations: [media]}
      - {name: tls_fallback, protocol: tcp, ports: [443], destinations: [media]}
  become: true

- name: Gateway - enforce for the site networks, rolled back unless confirmed within 60 s
  dlegate.rtc.nft_egress:
    hook: forward
    mode: enforce
    source_networks: [10.20.0.0/16, "2001:db8:20::/48"]
    destinations:
      signaling: [signal.dlegate.example]
      media: [turn.dlegate.example]
    rules:
      - {name: signaling, protocol: tcp, ports: [443], destinations: [signaling]}
      - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
      - {name: tls_fallback, protocol: tcp, ports: [443], destinations: [media]}
    rollback_timeout: 60
  become: true
  register: egress

- name: Gateway - confirm over a new connection (if it cannot connect, the host rolls back by itself)
  when: egress.rollback_pending
  block:
    - name: Drop the old connection
      ansible.builtin.meta: reset_connection

    - name: Wait for a new one
      ansible.builtin.wait_for_connection:
        timeout: 60

    - name: Confirm
      dlegate.rtc.nft_egress:
        confirm: true
      become: true

- name: Render the ruleset for review, without touching the host
  dlegate.rtc.nft_egress:
    state: rendered
    mode: enforce
    destinations:
      media: [turn.dlegate.example]
    resolved:
      turn.dlegate.example: [198.51.100.20, "2001:db8:51::20"]
    rules:
      - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
  register: review

- name: Read the live table back as module arguments
  dlegate.rtc.nft_egress:
    state: gathered
  become: true
  register: live

- name: Audit a host against the policy, changing nothing
  dlegate.rtc.nft_egress:
    mode: audit
    destinations:
      media: [turn.dlegate.example]
    rules:
      - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
  become: true
  register: audit

- name: Fail when the host is not compliant
  ansible.builtin.assert:
    that: audit.compliant
    fail_msg: "missing {{ audit.added }}, unexpected {{ audit.removed }}"

- name: Remove the collection's table
  dlegate.rtc.nft_egress:
    state: absent
  become: true
"""

RETURN = r"""
ruleset:
  description:
    - The desired table definition as nft text (empty for O(state=absent)). Load it after
      C(table inet <table>) and C(delete table inet <table>) lines to replace the table atomically, e.g. from a
      file the nftables service loads at boot. In O(mode=audit) the policy in the form the audit compared with.
  returned: always, except with O(confirm=true) and O(state=gathered)
  type: str
  sample: "table inet dlegate_egress {\n\tset media_v4 {\n...\n}\n"
resolved:
  description: The addresses each DNS name resolved to (or was given in O(resolved)).
  returned: when O(state) is V(present) or V(rendered)
  type: dict
  sample: {"turn.dlegate.example": ["198.51.100.20", "2001:db8:51::20"]}
skipped_domains:
  description: DNS names left out because they did not resolve (O(unresolved=skip), or O(state=rendered)).
  returned: when O(state) is V(present) or V(rendered)
  type: list
  elements: str
  sample: ["media2.dlegate.example"]
added:
  description: Ruleset lines the desired table has and the live one lacks (whitespace stripped).
  returned: when O(state) is V(present) or V(absent)
  type: list
  elements: str
  sample: ["198.51.100.21,"]
removed:
  description:
    - Ruleset lines the live table has and the desired one lacks (whitespace stripped).
    - Rules the module did not write show as a comment line C(# unrecognised rule) followed by their JSON.
  returned: when O(state) is V(present) or V(absent)
  type: list
  elements: str
  sample: ["198.51.100.20,"]
compliant:
  description: Whether the live table implements the policy exactly.
  returned: when O(mode=audit)
  type: bool
  sample: false
gathered:
  description:
    - The live table as module arguments (table, hook, priority, mode, permit_mark, source_networks,
      destinations, rules); feeding them back renders the same table. V(null) when the table does not exist.
  returned: when O(state=gathered)
  type: dict
  sample: {"table": "dlegate_egress", "hook": "output", "priority": -10, "mode": "permit", "permit_mark": 2097152,
           "source_networks": [], "destinations": {"media": ["198.51.100.20"]},
           "rules": [{"name": "media", "protocol": "udp", "ports": [3478, "49152-65535"], "destinations": ["media"]}]}
unrecognised:
  description: JSON of the rules and objects in the live table that this module did not write.
  returned: when O(state=gathered)
  type: list
  elements: str
  sample: ['{"rule":{"chain":"egress","comment":"extra","expr":[{"accept":null}]}}']
shadowing_chains:
  description:
    - Base chains of other tables at the same hook whose policy is drop and that have no rule (following jumps)
      mentioning O(permit_mark). They drop what this table permits; each also raises a warning.
  returned: when O(state) is V(present)
  type: list
  elements: dict
  sample: [{"family": "inet", "table": "filter", "chain": "forward", "hook": "forward", "priority": 0}]
counters:
  description:
    - Packets and bytes counted by the live table's drop rules (O(mode=enforce)), read before any change this run
      makes (replacing the table resets them). C(by_set) splits them by destination set.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: dict
  sample: {"packets": 3, "bytes": 180, "by_set": {"media_v4": {"packets": 3, "bytes": 180}}}
rollback_pending:
  description: Whether a rollback of the table is armed and not yet confirmed.
  returned: always, except with O(state=rendered)
  type: bool
  sample: true
rollback_deadline:
  description: When the pending rollback runs, in seconds since the epoch (UTC); V(null) when none is pending.
  returned: always, except with O(state=rendered)
  type: int
  sample: 1767225600
confirmed:
  description: Whether this run cancelled a pending rollback (O(confirm=true)).
  returned: always, except with O(state=rendered)
  type: bool
  sample: true
"""

import glob
import json
import os
import time
import traceback
import uuid

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dlegate.rtc.plugins.module_utils.nft_egress import (
    FAMILY,
    NftParseError,
    PolicyError,
    domains_to_resolve,
    drop_counters,
    find_shadowing_chains,
    normalize_policy,
    parse_table,
    plan,
    rearm_rollback_script,
    render_rollback_script,
    rollback_command,
    rollback_deadline,
    rollback_file_prefix,
    rollback_marker_name,
    shadowing_warning,
    state_to_policy,
    unrecognised_items,
)

try:
    import dns.exception
    import dns.resolver
    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

RUN_DIR = "/run/dlegate"
NFT_MISSING = "nft not found: install the nftables package (apt-get install nftables / dnf install nftables)"

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent", "rendered", "gathered"]),
    mode=dict(type="str", default="permit", choices=["permit", "enforce", "audit"]),
    hook=dict(type="str", default="output", choices=["output", "forward"]),
    source_networks=dict(type="list", elements="str", default=[]),
    destinations=dict(type="dict", default={}),
    rules=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        protocol=dict(type="str", required=True, choices=["tcp", "udp"]),
        ports=dict(type="list", elements="raw", required=True),
        destinations=dict(type="list", elements="str", required=True),
    )),
    unresolved=dict(type="str", default="fail", choices=["fail", "skip"]),
    nameservers=dict(type="list", elements="str", default=[]),
    resolve_timeout=dict(type="float", default=5.0),
    resolved=dict(type="dict", default={}),
    permit_mark=dict(type="int", default=2097152),
    table=dict(type="str", default="dlegate_egress"),
    priority=dict(type="int", default=-10),
    rollback_timeout=dict(type="int", default=0),
    confirm=dict(type="bool", default=False),
)


# ---------------------------------------------------------------------------
# Reading the host
# ---------------------------------------------------------------------------

def run_nft(module, nft, args, data=None):
    """Run nft; fail with its own message when it refuses."""
    rc, out, err = module.run_command([nft] + args, data=data, binary_data=data is not None)
    if rc != 0:
        hint = " (nft needs root: run the task with become: true)" if "Operation not permitted" in err else ""
        module.fail_json(msg="nft %s failed (rc=%d): %s%s" % (" ".join(args), rc, err.strip(), hint),
                         rc=rc, stdout=out, stderr=err)
    return out


def read_ruleset(module, nft):
    out = run_nft(module, nft, ["-j", "list", "ruleset"])
    try:
        return json.loads(out)
    except ValueError as exc:
        module.fail_json(msg="nft -j list ruleset did not return JSON (is nft built with JSON support?): %s" % exc)


def resolve_names(module, policy):
    """Resolve the policy's DNS names on this host: (answers, errors), both keyed by name."""
    names = domains_to_resolve(policy)
    if not names:
        return {}, {}
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib("dnspython"), exception=DNSPYTHON_IMPORT_ERROR)
    try:
        resolver = dns.resolver.Resolver(configure=not policy["nameservers"])
    except dns.exception.DNSException as exc:
        module.fail_json(msg="cannot read the host's resolver configuration: %s; set nameservers" % exc)
    if policy["nameservers"]:
        resolver.nameservers = policy["nameservers"]
    resolver.timeout = resolver.lifetime = policy["resolve_timeout"]
    answers, errors = {}, {}
    for name in names:
        answers[name], reasons = [], []
        for rdtype in ("A", "AAAA"):
            try:
                answers[name].extend(record.address for record in resolver.resolve(name, rdtype, search=False))
            except dns.resolver.NoAnswer:
                continue
            except dns.exception.DNSException as exc:
                reasons.append("%s: %s" % (rdtype, exc.__class__.__name__))
        if not answers[name]:
            errors[name] = "; ".join(reasons) or "no A or AAAA record"
    return answers, errors


# ---------------------------------------------------------------------------
# Commit-confirm rollback
# ---------------------------------------------------------------------------

def pending_rollbacks(table):
    pattern = os.path.join(glob.escape(RUN_DIR), glob.escape(rollback_file_prefix(table)) + "*.rollback")
    return sorted(glob.glob(pattern))


def marker_path(table):
    return os.path.join(RUN_DIR, rollback_marker_name(table))


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def remove(path):
    """Remove a file; False when it was already gone."""
    try:
        os.unlink(path)
        return True
    except (IOError, OSError):
        return False


def rollback_status(table):
    """(pending, deadline) of the table's rollback."""
    pending = pending_rollbacks(table)
    return bool(pending), rollback_deadline(read_text(pending[0])) if pending else None


def write_private(path, text):
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.rename(temporary, path)


def spawn_rollback(module, nft, path, seconds, marker):
    """Start the detached sleeper that restores the previous table unless ``path`` is removed in time."""
    rc, out, err = module.run_command(rollback_command("/bin/sh", nft, path, seconds, marker))
    if rc != 0:
        remove(path)
        module.fail_json(msg="cannot start the rollback timer, nothing was changed: %s" % (err or out).strip(), rc=rc)


def arm_rollback(module, nft, policy, live_exists):
    """Save the last confirmed table and start its restore timer; return (path, deadline, was_pending)."""
    table, seconds = policy["table"], policy["rollback_timeout"]
    deadline = int(time.time()) + seconds
    pending = pending_rollbacks(table)
    previous = read_text(pending[0]) if pending else None
    if previous is not None:
        script = rearm_rollback_script(previous, table, deadline)
    else:
        listing = run_nft(module, nft, ["list", "table", FAMILY, table]) if live_exists else None
        script = render_rollback_script(table, listing, deadline)
    if not os.path.isdir(RUN_DIR):
        os.makedirs(RUN_DIR, 0o700)
    path = os.path.join(RUN_DIR, "%s%s.rollback" % (rollback_file_prefix(table), uuid.uuid4().hex[:12]))
    write_private(path, script)
    for old in pending:
        remove(old)
    remove(marker_path(table))
    spawn_rollback(module, nft, path, seconds, marker_path(table))
    return path, deadline, bool(pending)


def confirm(module, policy):
    """Cancel the pending rollback, keeping the applied change."""
    table = policy["table"]
    pending = pending_rollbacks(table)
    result = dict(changed=False, confirmed=False, rollback_pending=False, rollback_deadline=None)
    if pending:
        if module.check_mode:
            module.exit_json(**dict(result, confirmed=True))
        removed = [remove(path) for path in pending]
        if any(removed):
            module.exit_json(**dict(result, confirmed=True))
    ran = read_text(marker_path(table))
    if ran is not None:
        module.fail_json(msg="the rollback of table %s %s already ran (%s): the change was reverted, nothing "
                             "is left to confirm" % (FAMILY, table, ran.strip()), **result)
    module.exit_json(msg="no rollback of table %s %s is pending" % (FAMILY, table), **result)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

def apply(module, nft, policy, decision, live):
    """Apply the one transaction, behind a rollback timer when asked; fail with nft's message when it refuses."""
    armed = None
    if policy["rollback_timeout"]:
        armed = arm_rollback(module, nft, policy, live is not None)
    rc, out, err = module.run_command([nft, "-f", "-"], data=decision["script"], binary_data=True)
    if rc != 0:
        if armed and not armed[2]:
            remove(armed[0])
        module.fail_json(msg="nft rejected the %s transaction for table %s %s, nothing was changed: %s"
                             % ("delete" if decision["desired"] is None else "apply", FAMILY, policy["table"],
                                err.strip()), rc=rc, stderr=err, script=decision["script"])
    if not armed:
        remove(marker_path(policy["table"]))


def result_of(module, policy, decision, ruleset):
    result = dict(changed=decision["changed"], ruleset=decision["ruleset"], added=decision["added"],
                  removed=decision["removed"], resolved=decision["resolved"],
                  skipped_domains=decision["skipped_domains"], counters=drop_counters(ruleset, policy["table"]),
                  confirmed=False, shadowing_chains=[])
    if "compliant" in decision:
        result["compliant"] = decision["compliant"]
    if module._diff:
        result["diff"] = dict(before=decision["before"], after=decision["after"],
                              before_header="table %s %s (live)" % (FAMILY, policy["table"]),
                              after_header="table %s %s (policy)" % (FAMILY, policy["table"]))
    if policy["state"] == "present":
        result["shadowing_chains"] = find_shadowing_chains(ruleset, policy["table"], policy["hook"],
                                                           policy["permit_mark"])
        for chain in result["shadowing_chains"]:
            module.warn(shadowing_warning(chain, policy["permit_mark"]))
    return result


def decide(module, policy, live, answers=None, errors=None):
    try:
        decision = plan(policy, live, answers, errors)
    except PolicyError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    for warning in decision["warnings"]:
        module.warn(warning)
    return decision


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        policy = normalize_policy(module.params)
    except PolicyError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    if policy["state"] == "rendered":
        decision = decide(module, policy, None)
        module.exit_json(changed=False, ruleset=decision["ruleset"], resolved=decision["resolved"],
                         skipped_domains=decision["skipped_domains"])

    nft = module.get_bin_path("nft")
    if not nft and policy["mode"] != "audit":
        module.fail_json(msg=NFT_MISSING)
    if policy["confirm"]:
        confirm(module, policy)

    if nft:
        ruleset = read_ruleset(module, nft)
    else:
        module.warn("%s; without it the table cannot exist, so the host is audited as having none" % NFT_MISSING)
        ruleset = {"nftables": []}
    try:
        live = parse_table(ruleset, policy["table"])
    except NftParseError as exc:
        module.fail_json(msg="cannot read nft's ruleset: %s" % exc)
    pending, deadline = rollback_status(policy["table"])

    if policy["state"] == "gathered":
        module.exit_json(changed=False, gathered=state_to_policy(live), unrecognised=unrecognised_items(live),
                         counters=drop_counters(ruleset, policy["table"]), confirmed=False,
                         rollback_pending=pending, rollback_deadline=deadline)

    answers, errors = resolve_names(module, policy)
    decision = decide(module, policy, live, answers, errors)
    result = result_of(module, policy, decision, ruleset)
    if decision["script"] and not module.check_mode:
        if pending and not policy["rollback_timeout"]:
            module.warn("a rollback of table %s %s is pending: it will undo this change at %s unless confirmed"
                        % (FAMILY, policy["table"], deadline))
        apply(module, nft, policy, decision, live)
        pending, deadline = rollback_status(policy["table"])
    module.exit_json(rollback_pending=pending, rollback_deadline=deadline, **result)


if __name__ == "__main__":
    main()
