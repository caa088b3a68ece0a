#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nft_dscp
short_description: Mark the DLEGATE service's traffic with DSCP in a dedicated nftables table
version_added: 0.1.0
description:
  - Manages one nftables table owned by the collection (family C(inet), default C(dlegate_qos)) whose base chain
    C(marking), at the postrouting hook with priority mangle (-150), sets the DSCP of the service's traffic, so that
    the host's and the network's queues can give it priority (see M(dlegate.rtc.tc_qos)). Other tables are never
    touched, and no packet is ever dropped.
  - Each class sets one DSCP value on what it matches; a later class wins over an earlier one. The usual values
    are audio EF (46), video AF41 (34), screen sharing AF21 (18) and signalling CS3 (24).
  - On a gateway, O(config.clear_untrusted) first sets the DSCP of everything from O(config.source_networks) to 0,
    so that endpoints cannot claim priority for other traffic, then the classes mark the service's flows again.
  - Destination groups, their sets and the resolution of DNS names on the host work as in
    M(dlegate.rtc.nft_egress); idempotence compares the parsed live table with the desired one as data.
  - B(Audits are check mode.) With C(--check), a host that differs reports C(changed) with the diff,
    RV(compliant=false) and RV(differences).
author:
  - DLEGATE network engineering (@dlegate)
requirements:
  - nftables (the C(nft) command, with JSON support) on the managed host
  - dnspython on the managed host when O(config.destinations) holds DNS names
options:
  state:
    description:
      - V(present) creates or replaces the table; V(absent) deletes it.
      - V(rendered) returns the table as nft text in RV(rendered) without touching the host.
      - V(gathered) returns the live table as O(config) in RV(gathered).
      - V(parsed) reads the C(nft -j) document in O(running_config) and returns it as O(config) in RV(parsed);
        with classes in O(config) it also judges it in RV(compliant) and RV(differences).
    type: str
    choices: [present, absent, rendered, gathered, parsed]
    default: present
  config:
    description:
      - The marking policy. RV(gathered) and RV(parsed) return this shape.
    type: dict
    default: {}
    suboptions:
      table:
        description: Name of the collection's table (family C(inet)).
        type: str
        default: dlegate_qos
      priority:
        description: Priority of the C(marking) chain at the postrouting hook; the default is C(mangle).
        type: int
        default: -150
      source_networks:
        description:
          - Only traffic from these networks is marked (gateways); empty marks the host's own traffic and all it
            forwards.
        type: list
        elements: str
        default: []
      clear_untrusted:
        description:
          - Set the DSCP of all traffic from O(config.source_networks) to 0 before the classes mark it.
        type: bool
        default: false
      destinations:
        description:
          - Destination groups, as in M(dlegate.rtc.nft_egress) (addresses, CIDRs or DNS names).
        type: dict
        default: {}
      classes:
        description:
          - The traffic classes, in order; a later class wins over an earlier one.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Class name, written as the rule comment.
            type: str
            required: true
          dscp:
            description: DSCP value, 0-63, or a name such as V(ef), V(af41), V(af21), V(cs3).
            type: raw
            required: true
          protocol:
            description: Transport protocol; required with O(config.classes[].ports) or O(config.classes[].source_ports).
            type: str
            choices: [tcp, udp]
          ports:
            description: Destination ports or V("LOW-HIGH") ranges.
            type: list
            elements: raw
          source_ports:
            description: Client source ports or ranges, for clients that use fixed ranges per media type.
            type: list
            elements: raw
          destinations:
            description: Names of groups of O(config.destinations) the class matches; empty matches any destination.
            type: list
            elements: str
  running_config:
    description: An C(nft -j) document, for O(state=parsed).
    type: str
  unresolved:
    description: What to do with a DNS name that does not resolve to a usable address (V(fail) or V(skip)).
    type: str
    choices: [fail, skip]
    default: fail
  nameservers:
    description: Resolver addresses to ask instead of the host's own.
    type: list
    elements: str
    default: []
  resolve_timeout:
    description: Seconds to wait for the DNS answers of one name and record type.
    type: float
    default: 5.0
  resolved:
    description: Addresses to use for DNS names instead of looking them up (name to a list of addresses).
    type: dict
    default: {}
  sinkhole_networks:
    description: Networks of the site resolver's sinkhole; answers in them are rejected.
    type: list
    elements: str
    default: []
  allow_special_answers:
    description: Use special-use answers instead of rejecting them; answers in O(sinkhole_networks) are always rejected.
    type: bool
    default: false
  rollback_timeout:
    description:
      - Commit-confirm, as in M(dlegate.rtc.nft_egress); confirm RV(rollback_token) with M(dlegate.rtc.commit_confirm).
        V(0) turns it off.
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
seealso:
  - module: dlegate.rtc.nft_egress
  - module: dlegate.rtc.tc_qos
  - name: RFC 8837, DSCP packet markings for WebRTC QoS
    description: The code points for audio, video and data flows.
    link: https://www.rfc-editor.org/rfc/rfc8837
"""

EXAMPLES = r"""
- name: Gateway - re-mark the site's traffic to the service; endpoints' own marks are not trusted
  dlegate.rtc.nft_dscp:
    config:
      source_networks: [10.20.0.0/16]
      clear_untrusted: true
      destinations:
        signaling: [signal.dlegate.example]
        media: [turn.dlegate.example]
      classes:
        - {name: signaling, dscp: cs3, protocol: tcp, ports: [443], destinations: [signaling]}
        - {name: video, dscp: af41, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
        - {name: audio, dscp: ef, protocol: udp, source_ports: ["50000-50019"], destinations: [media]}
        - {name: screen_share, dscp: af21, protocol: udp, source_ports: ["50040-50059"], destinations: [media]}
  become: true

- name: Audit the marking in check mode
  dlegate.rtc.nft_dscp:
    config: "{{ qos_marking_config }}"
  check_mode: true
  become: true
  register: marking
"""

RETURN = r"""
compliant:
  description: Whether the live table (or the evidence) matched the policy when the run began.
  returned: when O(state) is V(present), V(absent), or V(parsed) with classes
  type: bool
  sample: true
differences:
  description: What differs, item by item, as in M(dlegate.rtc.nft_egress).
  returned: when O(state) is V(present), V(absent), or V(parsed) with classes
  type: list
  elements: dict
  sample: [{"item": "rule", "change": "add", "rule": "ip daddr @media_v4 udp dport 3478 ip dscp set 34 comment \"video\""}]
ruleset:
  description: The desired table as nft text (empty for O(state=absent)).
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: "table inet dlegate_qos {\n...\n}\n"
rendered:
  description: The policy's table as nft text.
  returned: when O(state=rendered)
  type: str
  sample: "table inet dlegate_qos {\n...\n}\n"
gathered:
  description: The live table as O(config); V(null) when it does not exist.
  returned: when O(state=gathered)
  type: dict
  sample: {"table": "dlegate_qos", "classes": [{"name": "audio", "dscp": 46, "protocol": "udp",
           "source_ports": ["50000-50019"], "destinations": ["media"]}]}
parsed:
  description: The table found in O(running_config) as O(config).
  returned: when O(state=parsed)
  type: dict
  sample: {"table": "dlegate_qos", "classes": []}
unrecognised:
  description: JSON of the rules and objects in the table that this module did not write.
  returned: when O(state) is V(gathered) or V(parsed)
  type: list
  elements: str
  sample: []
resolved:
  description: The addresses each DNS name resolved to and that were used.
  returned: when O(state) is V(present), V(rendered) or V(parsed)
  type: dict
  sample: {"turn.dlegate.example": ["198.51.100.20"]}
skipped_domains:
  description: DNS names left out because they did not resolve to a usable address.
  returned: when O(state) is V(present), V(rendered) or V(parsed)
  type: list
  elements: str
  sample: []
rejected_answers:
  description: Per DNS name, the answers rejected as special-use or sinkhole addresses.
  returned: when O(state=present)
  type: dict
  sample: {}
rollback_token:
  description: The token of the rollback this run armed, for M(dlegate.rtc.commit_confirm); V(null) when none.
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: "nft-inet-dlegate_qos:5f0c2b9e7d614a33"
rollback_pending:
  description: Whether a rollback of the table is armed and not yet confirmed.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: bool
  sample: false
rollback_deadline:
  description: When the pending rollback runs (seconds since the epoch); V(null) when none is pending.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: int
  sample: null
rollback_overdue:
  description: A rollback is pending whose deadline passed without its timer running.
  returned: when O(state) is V(present), V(absent) or V(gathered)
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.destinations import RESOLUTION_SPEC
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.resource import TableFeature, TableResource
from ansible_collections.dlegate.rtc.plugins.module_utils.qos import marking

ARGUMENT_SPEC = dict(
    RESOLUTION_SPEC,
    state=dict(type="str", default="present", choices=marking.STATES),
    config=dict(type="dict", default={}, options=marking.CONFIG_SPEC),
    running_config=dict(type="str"),
    rollback_timeout=dict(type="int", default=0),
)


class Marking(TableFeature):
    normalize = staticmethod(marking.normalize_policy)
    parse = staticmethod(marking.parse_live)
    plan = staticmethod(marking.plan)
    to_config = staticmethod(marking.state_to_config)

    @staticmethod
    def has_policy(policy):
        return bool(policy["classes"])


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=[("state", "parsed", ["running_config"])],
                           supports_check_mode=True)
    TableResource(module, Marking()).run()


if __name__ == "__main__":
    main()
