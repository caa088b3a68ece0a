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
    site. Special-use answers (loopback, 0.0.0.0/8, link-local, multicast) and answers in
    O(sinkhole_networks) are rejected and reported in RV(rejected_answers).
  - The whole table is created or replaced in B(one) atomic C(nft -f -) transaction; the host never sees a half
    applied policy, and nothing changes when nft rejects it.
  - Idempotence compares the parsed live table (C(nft -j list table)) with the desired table as data, never as
    text. Rules or objects in the table that this module did not write are reported and removed.
  - B(Audits are check mode.) With C(--check), a host that differs from the policy reports C(changed) with the
    diff (C(--diff)), RV(compliant=false) and the differences item by item in RV(differences).
  - 'Why a mark: nftables runs every table registered at a hook and a drop in any of them is final, so an accept
    in this table cannot overrule another table''s default drop. Every permitted packet therefore gets the bit
    O(config.permit_mark), and a site firewall honours the collection''s permits with one rule
    C(meta mark & 0x00200000 == 0x00200000 accept). Base chains of other tables at the same hook that drop by
    default (policy drop, or a final unconditional drop or reject) and do not accept the mark are reported in
    RV(shadowing_chains) with a warning.'
author:
  - DLEGATE network engineering (@dlegate)
requirements:
  - nftables (the C(nft) command, with JSON support) on the managed host
  - dnspython on the managed host when O(config.destinations) holds DNS names
options:
  state:
    description:
      - V(present) creates or replaces the table with the policy.
      - V(absent) deletes the table if it exists.
      - V(rendered) returns the policy's table as nft text in RV(rendered) without touching the host; nft is not
        needed. Names are not resolved; names missing from O(resolved) are left out with a warning.
      - V(gathered) returns the live table as O(config) in RV(gathered), touching nothing.
      - V(parsed) reads the C(nft -j) document in O(running_config) (collected evidence, on a machine with no root
        and no nft) and returns it as O(config) in RV(parsed). When O(config) holds a policy, it also judges the
        evidence against it in RV(compliant) and RV(differences).
    type: str
    choices: [present, absent, rendered, gathered, parsed]
    default: present
  config:
    description:
      - The policy. RV(gathered) and RV(parsed) return this shape, so they can be fed straight back.
    type: dict
    default: {}
    suboptions:
      table:
        description:
          - Name of the collection's table (family C(inet)). A letter followed by up to 63 letters, digits or
            underscores. Only this table is ever changed.
        type: str
        default: dlegate_egress
      hook:
        description:
          - V(output) filters the host's own traffic (endpoints).
          - V(forward) filters the traffic the host forwards (gateways).
        type: str
        choices: [output, forward]
        default: output
      priority:
        description:
          - Priority of the table's base chain. The default V(-10) is C(filter - 10), ahead of the host's own
            filter chains.
        type: int
        default: -10
      mode:
        description:
          - V(permit) accepts and marks the allowed flows, ahead of the host's own policy.
          - V(enforce) does the same, then drops and counts (one rule counter per destination set) all other
            traffic to any address of any destination group, whatever its source. RV(counters) reports the counts.
        type: str
        choices: [permit, enforce]
        default: permit
      permit_mark:
        description:
          - Bit(s) OR-ed into the packet mark of every permitted packet (C(meta mark set meta mark | 0x00200000)),
            so that another table's default-drop chain can accept them with
            C(meta mark & 0x00200000 == 0x00200000 accept).
          - V(0) sets no mark.
        type: int
        default: 2097152
      source_networks:
        description:
          - With O(config.hook=forward), only traffic from these networks (IPv4/IPv6 CIDRs) is permitted; they are
            kept in the sets C(sources_v4) and C(sources_v6). Empty means any source.
          - Not allowed with O(config.hook=output).
        type: list
        elements: str
        default: []
      destinations:
        description:
          - Destination groups. Each key is a group name (a lowercase letter followed by up to 30 lowercase letters,
            digits or underscores; C(sources) is reserved); each value is a list of IPv4/IPv6 addresses, CIDRs
            (without host bits) or DNS names.
          - DNS names are resolved on the managed host (A and AAAA). Rerun the module to follow changed answers.
          - In O(config.mode=enforce), traffic to any address of any group that no rule allows is dropped.
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
              - Rule name, written as the nft rule comment. A lowercase letter followed by up to 30 lowercase
                letters, digits or underscores; unique among the rules.
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
              - Names of groups of O(config.destinations) this rule opens.
            type: list
            elements: str
            required: true
  running_config:
    description:
      - An C(nft -j list ruleset) or C(nft -j list table inet <table>) document, for O(state=parsed).
    type: str
  unresolved:
    description:
      - What to do with a DNS name that does not resolve to a usable address on the host.
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
        (the shape of RV(resolved)). Needed to render names with O(state=rendered) or judge them with
        O(state=parsed). Given addresses are trusted as they are.
    type: dict
    default: {}
  sinkhole_networks:
    description:
      - Networks whose addresses a resolver returns for blocked names at this site (its sinkhole); answers in them
        are rejected like special-use ones.
    type: list
    elements: str
    default: []
  allow_special_answers:
    description:
      - Use answers in special-use ranges (loopback, 0.0.0.0/8, link-local, multicast) instead of rejecting them.
        For labs that serve the service on such addresses. Answers in O(sinkhole_networks) are always rejected.
    type: bool
    default: false
  rollback_timeout:
    description:
      - Commit-confirm for remote hosts. When above 0 and the run changes the table, the module first saves a
        script that restores the last confirmed table (or its absence) and starts a detached timer that runs it
        after this many seconds, unless the run's RV(rollback_token) is confirmed first with
        M(dlegate.rtc.commit_confirm).
      - The timer is proven to run before the change is applied. Reading, arming, applying, confirming and
        restoring all hold one lock per table, so overlapping runs cannot interleave.
      - V(0) turns it off. At most 86400.
    type: int
    default: 0
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
  - Needs root (C(become=true)) for O(state=present), O(state=absent) and O(state=gathered).
  - The table's base chain has policy accept; it never drops traffic outside the service's destinations.
  - Reply traffic is not matched; the host's firewall is expected to accept established connections.
  - The rollback timer runs in its own session; on hosts where systemd-logind kills user processes at logout
    (C(KillUserProcesses=yes)), connect as root or lower that setting. A rollback whose deadline passed without
    the timer running is reported as RV(rollback_overdue) with a warning.
  - Table names that are nft keywords are rejected by nft; the error is reported as is.
seealso:
  - module: dlegate.rtc.commit_confirm
  - name: nftables wiki
    description: Configuring chains, priorities and the evaluation of several tables at one hook.
    link: https://wiki.nftables.org/wiki-nftables/index.php/Configuring_chains
"""

EXAMPLES = r"""
- name: Endpoint - permit and mark the DLEGATE flows
  dlegate.rtc.nft_egress:
    config:
      hook: output
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
    config:
      hook: forward
      mode: enforce
      source_networks: [10.20.0.0/16, "2001:db8:20::/48"]
      destinations:
        signaling: [signal.dlegate.example]
        media: [turn.dlegate.example]
      rules:
        - {name: signaling, protocol: tcp, ports: [443], destinations: [signaling]}
        - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
    rollback_timeout: 60
  become: true
  register: egress

- name: Gateway - confirm over a new connection (if it cannot connect, the host rolls back by itself)
  when: egress.rollback_token
  block:
    - name: Drop the old connection
      ansible.builtin.meta: reset_connection

    - name: Confirm this run's change, and only it
      dlegate.rtc.commit_confirm:
        token: "{{ egress.rollback_token }}"
      become: true

- name: Audit - check mode reports drift as changed, with the differences as data
  dlegate.rtc.nft_egress:
    config:
      destinations:
        media: [turn.dlegate.example]
      rules:
        - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
  check_mode: true
  become: true
  register: audit

- name: Render the table for review, without touching the host
  dlegate.rtc.nft_egress:
    state: rendered
    config:
      mode: enforce
      destinations:
        media: [turn.dlegate.example]
      rules:
        - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
    resolved:
      turn.dlegate.example: [198.51.100.20, "2001:db8:51::20"]
  register: review

- name: Read the live table back as config
  dlegate.rtc.nft_egress:
    state: gathered
  become: true
  register: live

- name: Judge collected evidence offline, on a machine with no root
  dlegate.rtc.nft_egress:
    state: parsed
    running_config: "{{ lookup('ansible.builtin.file', 'evidence/gw1.nft.json') }}"
    config: "{{ live.gathered }}"
  delegate_to: localhost

- name: Remove the collection's table
  dlegate.rtc.nft_egress:
    state: absent
  become: true
"""

RETURN = r"""
compliant:
  description:
    - Whether the host (or the evidence, with O(state=parsed)) matched the policy when the run began.
  returned: when O(state) is V(present), V(absent), or V(parsed) with a policy in O(config)
  type: bool
  sample: false
differences:
  description:
    - What differs between the live table and the policy, item by item. Each item has C(item) (V(table ...),
      V(chain), V(set NAME), V(rule), V(rule order) or V(object)) and C(change) (V(add), V(remove) or V(update)),
      plus C(added) and C(removed) elements for a set, C(rule) (its nft text) for a rule, C(live) and C(policy)
      for a chain, and C(json) for an object the module did not write.
  returned: when O(state) is V(present), V(absent), or V(parsed) with a policy in O(config)
  type: list
  elements: dict
  sample: [{"item": "set media_v4", "change": "update", "added": ["198.51.100.21"], "removed": []}]
ruleset:
  description:
    - The desired table as nft text (empty for O(state=absent)); the role writes it to the boot file after the
      change is confirmed.
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: "table inet dlegate_egress {\n\tset media_v4 {\n...\n}\n"
rendered:
  description: The policy's table as nft text.
  returned: when O(state=rendered)
  type: str
  sample: "table inet dlegate_egress {\n\tset media_v4 {\n...\n}\n"
gathered:
  description:
    - The live table as O(config); feeding it back renders the same table. V(null) when the table does not exist.
  returned: when O(state=gathered)
  type: dict
  sample: {"table": "dlegate_egress", "hook": "output", "priority": -10, "mode": "permit", "permit_mark": 2097152,
           "source_networks": [], "destinations": {"media": ["198.51.100.20"]},
           "rules": [{"name": "media", "protocol": "udp", "ports": [3478, "49152-65535"], "destinations": ["media"]}]}
parsed:
  description: The table found in O(running_config), as O(config); V(null) when it holds no such table.
  returned: when O(state=parsed)
  type: dict
  sample: {"table": "dlegate_egress", "hook": "forward", "priority": -10, "mode": "enforce"}
unrecognised:
  description: JSON of the rules and objects in the table that this module did not write.
  returned: when O(state) is V(gathered) or V(parsed)
  type: list
  elements: str
  sample: ['{"rule":{"chain":"egress","comment":"extra","expr":[{"accept":null}]}}']
resolved:
  description: The addresses each DNS name resolved to and that were used (or were given in O(resolved)).
  returned: when O(state) is V(present), V(rendered) or V(parsed)
  type: dict
  sample: {"turn.dlegate.example": ["198.51.100.20", "2001:db8:51::20"]}
skipped_domains:
  description: DNS names left out because they did not resolve to a usable address.
  returned: when O(state) is V(present), V(rendered) or V(parsed)
  type: list
  elements: str
  sample: ["media2.dlegate.example"]
rejected_answers:
  description: Per DNS name, the answers that were rejected as special-use or sinkhole addresses, with the reason.
  returned: when O(state=present)
  type: dict
  sample: {"signal.dlegate.example": [{"address": "127.0.0.1", "reason": "loopback"}]}
shadowing_chains:
  description:
    - Base chains of other tables at the same hook that drop by default (C(drops) says how) and do not accept
      O(config.permit_mark). They drop what this table permits; each also raises a warning.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{"family": "inet", "table": "filter", "chain": "forward", "hook": "forward", "priority": 0,
            "drops": "policy drop"}]
counters:
  description:
    - Packets and bytes counted by the live table's drop rules (O(config.mode=enforce)), read before any change
      this run makes (replacing the table resets them). C(by_set) splits them by destination set.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: dict
  sample: {"packets": 3, "bytes": 180, "by_set": {"media_v4": {"packets": 3, "bytes": 180}}}
rollback_token:
  description:
    - The token of the rollback this run armed; confirm it with M(dlegate.rtc.commit_confirm). V(null) when this
      run armed none.
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: "nft-inet-dlegate_egress:5f0c2b9e7d614a33"
rollback_pending:
  description: Whether a rollback of the table is armed and not yet confirmed.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: bool
  sample: true
rollback_deadline:
  description: When the pending rollback runs, in seconds since the epoch (UTC); V(null) when none is pending.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: int
  sample: 1767225600
rollback_overdue:
  description: A rollback is pending whose deadline passed without its timer running; the change is still live.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.egress import policy as egress
from ansible_collections.dlegate.rtc.plugins.module_utils.egress.argspec import ARGUMENT_SPEC, REQUIRED_IF
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.resource import TableFeature, TableResource
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.shadowing import find_shadowing_chains, shadowing_warning


class Egress(TableFeature):
    normalize = staticmethod(egress.normalize_policy)
    parse = staticmethod(egress.parse_live)
    plan = staticmethod(egress.plan)
    to_config = staticmethod(egress.state_to_config)

    @staticmethod
    def has_policy(policy):
        return bool(policy["rules"] or policy["destinations"])

    @staticmethod
    def gathered_extra(listing, table):
        return {"counters": egress.drop_counters(listing, table)}

    def extra_result(self, module, nft, policy, listing):
        return {"counters": egress.drop_counters(listing, policy["table"]),
                "shadowing_chains": shadowing(module, nft, policy) if policy["state"] == "present" else []}


def shadowing(module, nft, policy):
    """Other tables' chains that drop what the table permits, from a terse listing (no set elements)."""
    _rc, out, _err = nft.run("read_chains_terse")
    try:
        chains = find_shadowing_chains(out, policy["table"], policy["hook"], policy["permit_mark"])
    except ParseError as exc:
        module.warn("cannot read the other tables' chains: %s" % exc)
        return []
    for chain in chains:
        module.warn(shadowing_warning(chain, policy["permit_mark"]))
    return chains


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True)
    TableResource(module, Egress()).run()


if __name__ == "__main__":
    main()
