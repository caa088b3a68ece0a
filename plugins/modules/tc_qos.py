#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tc_qos
short_description: Shape an interface with an HTB tree that protects the DLEGATE service's real-time traffic
version_added: 0.1.0
description:
  - Manages the egress queueing of one interface with C(tc) as an HTB tree of three classes below a root at
    O(config.link_kbps), set a little below the rate of the link behind it so that the queue forms here, where
    real-time traffic can jump it.
  - C(1:10) B(real time) carries the reservation (O(config.realtime.rate_kbps)) at top priority, and borrows
    nothing unless O(config.realtime.ceil_kbps) says so. C(1:20) B(signalling) has its own rate and may borrow up
    to the link rate. C(1:30) B(best effort) gets the rest of the link, may borrow up to the link rate, and takes
    everything no filter selects.
  - Packets are put in a class by their DSCP with C(u32) filters, for IPv4 and IPv6; mark them first, for example
    with M(dlegate.rtc.nft_dscp). The defaults are EF (46), AF41 (34) and AF21 (18) for real time and CS3 (24) for
    signalling.
  - Each class holds a leaf qdisc. O(config.leaf_qdisc=auto) picks C(fq_codel) where the kernel offers it and
    C(pfifo) otherwise, from the kernel's config (C(/proc/config.gz), C(/boot/config-RELEASE)) and module list;
    the choice is returned in RV(leaf_qdisc).
  - Idempotence compares the tree parsed from C(tc -j qdisc/class/filter show) with the desired one, as data. A
    change replaces the whole tree in one C(tc -batch) run; when tc rejects it half way, the previous tree is put
    back at once. Ingress and clsact qdiscs are never touched.
  - Bad input (a missing or non-positive rate, reservations that leave nothing for best effort, an interface the
    host does not have, a leaf qdisc the kernel does not offer) fails naming the field before any tc command
    runs, so the interface keeps its qdisc.
  - B(Audits are check mode.) With C(--check), an interface that differs reports C(changed) with the diff,
    RV(compliant=false) and RV(differences).
author:
  - DLEGATE network engineering (@dlegate)
requirements:
  - iproute2 (the C(tc) command, with JSON output) on the managed host
  - a kernel with HTB and the C(u32) classifier
options:
  state:
    description:
      - V(present) puts the tree on the interface, replacing whatever root qdisc it has.
      - V(absent) removes a tree this module wrote (an HTB root at handle C(1:)); any other root qdisc is left as
        it is, with a warning.
      - V(rendered) returns the C(tc -batch) script that builds the tree, in RV(rendered), without touching a host.
      - V(gathered) returns the interface's live tree as O(config) in RV(gathered).
      - V(parsed) reads the three C(tc) outputs in O(running_config) and returns them as O(config) in RV(parsed);
        with O(config.link_kbps) it also judges them in RV(compliant) and RV(differences).
    type: str
    choices: [present, absent, rendered, gathered, parsed]
    default: present
  config:
    description:
      - The tree. RV(gathered) and RV(parsed) return this shape.
      - Rates are whole kbit/s, and whole Mbit/s (multiples of 1000) from 1 Gbit/s on, which is what C(tc) prints
        back exactly.
    type: dict
    required: true
    suboptions:
      interface:
        description: The interface whose egress is shaped.
        type: str
        required: true
      link_kbps:
        description:
          - The rate of the root class, in kbit/s; required for O(state=present) and O(state=rendered).
          - Set it a little below the rate of the link behind the interface (95% is usual), so that the queue
            forms here.
        type: int
      realtime:
        description: The real-time class C(1:10), priority 0.
        type: dict
        suboptions:
          rate_kbps:
            description: The reservation, in kbit/s; required with O(config.link_kbps).
            type: int
          ceil_kbps:
            description: What the class may borrow up to; defaults to its rate, so that real time never starves the rest.
            type: int
          dscp:
            description: The DSCP values (0-63, or names such as V(ef), V(af41), V(af21)) that select the class.
            type: list
            elements: raw
      signaling:
        description: The signalling class C(1:20), priority 1.
        type: dict
        suboptions:
          rate_kbps:
            description: Its guaranteed rate, in kbit/s; required with O(config.link_kbps).
            type: int
          ceil_kbps:
            description: What the class may borrow up to; defaults to the link rate.
            type: int
          dscp:
            description: The DSCP values that select the class (default CS3, 24); may be empty.
            type: list
            elements: raw
      best_effort:
        description:
          - The best-effort class C(1:30), priority 2, the default class. Its rate is what the link has left after
            the reservations.
        type: dict
        suboptions:
          ceil_kbps:
            description: What it may borrow up to; defaults to the link rate.
            type: int
      leaf_qdisc:
        description:
          - The qdisc in each class. V(auto) picks C(fq_codel) where the kernel offers it, C(pfifo) otherwise.
          - With O(state=parsed), V(auto) accepts the one of the two that the evidence holds.
        type: str
        choices: [auto, fq_codel, pfifo]
        default: auto
  running_config:
    description: For O(state=parsed), what C(tc) printed for the interface.
    type: dict
    suboptions:
      qdiscs:
        description: The output of C(tc -j qdisc show dev IF).
        type: str
        default: ""
      classes:
        description: The output of C(tc -j class show dev IF); iproute2 6.1 prints text there, which is read too.
        type: str
        default: ""
      filters:
        description: The output of C(tc -j filter show dev IF).
        type: str
        default: ""
  rollback_timeout:
    description:
      - Commit-confirm. Before a change, save a script that puts the current tree back and start a timer that runs
        it with C(tc -batch) after this many seconds, unless the run's RV(rollback_token) is confirmed with
        M(dlegate.rtc.commit_confirm) first. V(0) turns it off.
      - A tree that this module cannot write back (another kind of root qdisc, filters or qdiscs of its own) cannot
        be rolled back to; with a rollback asked for, the run then fails and changes nothing.
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
  - HTB shapes what leaves an interface. A gateway shapes the site's upstream on its WAN interface and the site's
    downstream on its LAN interface; an endpoint can shape its own upstream.
seealso:
  - module: dlegate.rtc.nft_dscp
  - module: dlegate.rtc.commit_confirm
  - name: tc-htb(8)
    description: The HTB queueing discipline.
    link: https://man7.org/linux/man-pages/man8/tc-htb.8.html
"""

EXAMPLES = r"""
- name: Gateway - shape the site's upstream below the ISP's 50 Mbit/s, reserving 6 Mbit/s for media
  dlegate.rtc.tc_qos:
    config:
      interface: wan0
      link_kbps: 47500
      realtime: {rate_kbps: 6000}
      signaling: {rate_kbps: 300}
    rollback_timeout: 60
  become: true
  register: shaping

- name: Keep the change once a new connection works
  dlegate.rtc.commit_confirm:
    token: "{{ shaping.rollback_token }}"
  become: true
  when: shaping.rollback_token

- name: Audit in check mode
  dlegate.rtc.tc_qos:
    config:
      interface: wan0
      link_kbps: 47500
      realtime: {rate_kbps: 6000, dscp: [ef, af41, af21]}
      signaling: {rate_kbps: 300, dscp: [cs3]}
  check_mode: true
  become: true
  register: audit

- name: Remove the tree
  dlegate.rtc.tc_qos:
    state: absent
    config:
      interface: wan0
  become: true

- name: Judge tc output collected elsewhere
  dlegate.rtc.tc_qos:
    state: parsed
    config:
      interface: wan0
      link_kbps: 47500
      realtime: {rate_kbps: 6000}
      signaling: {rate_kbps: 300}
    running_config:
      qdiscs: "{{ lookup('file', 'wan0.qdisc.json') }}"
      classes: "{{ lookup('file', 'wan0.class.txt') }}"
      filters: "{{ lookup('file', 'wan0.filter.json') }}"
"""

RETURN = r"""
compliant:
  description: Whether the live tree (or the evidence) matched the arguments when the run began.
  returned: when O(state) is V(present), V(absent), or V(parsed) with O(config.link_kbps)
  type: bool
  sample: false
differences:
  description:
    - What differs, one item each; empty when in sync. C(item) names the root, a class (C(class 1:10)), a filter
      (C(filter ip dscp 46)) or something C(unmanaged); C(field) is the field that differs, or V(null) when the
      item exists on one side only.
  returned: when O(state) is V(present), V(absent), or V(parsed) with O(config.link_kbps)
  type: list
  elements: dict
  sample: [{"item": "class 1:10", "field": "rate_bit", "desired": 3000000, "live": 2000000}]
leaf_qdisc:
  description: The leaf qdisc of the tree; V(null) for O(state=absent).
  returned: when O(state) is V(present), V(absent) or V(rendered)
  type: str
  sample: pfifo
offered_qdiscs:
  description:
    - The qdisc kinds the kernel offers, as read from its config and modules; V(null) when they cannot be read, and
      for O(state=absent), which does not need them.
  returned: when O(state) is V(present) or V(absent)
  type: list
  elements: str
  sample: [fifo, htb, ingress, pfifo, tbf]
interface:
  description: The interface.
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: wan0
batch:
  description: The C(tc -batch) script the run applied, or would apply in check mode; empty when nothing differs.
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: "qdisc del dev wan0 root\nqdisc replace dev wan0 root handle 1: htb default 30\n..."
unmanaged:
  description: What the live tree holds that this module does not write, one line each; a replacement removes it.
  returned: when O(state) is V(present), V(absent), V(gathered) or V(parsed)
  type: list
  elements: str
  sample: ["filter parent 1: ip pref 5 u32 match 00110000/00ff0000 at 8 flowid 1:40"]
rendered:
  description: The C(tc -batch) script that builds the tree on an interface without a root qdisc of its own.
  returned: when O(state=rendered)
  type: str
  sample: "qdisc replace dev wan0 root handle 1: htb default 30\nclass add dev wan0 parent 1: classid 1:1 ...\n"
gathered:
  description: The live tree as O(config); V(null) when the interface has no tree that this module would write so.
  returned: when O(state=gathered)
  type: dict
  sample: {"interface": "wan0", "link_kbps": 47500, "realtime": {"rate_kbps": 6000, "ceil_kbps": 6000,
           "dscp": [18, 34, 46]}, "signaling": {"rate_kbps": 300, "ceil_kbps": 47500, "dscp": [24]},
           "best_effort": {"ceil_kbps": 47500}, "leaf_qdisc": "fq_codel"}
parsed:
  description: The tree in O(running_config) as O(config); V(null) when this module would not write it so.
  returned: when O(state=parsed)
  type: dict
  sample: null
tree:
  description: The live tree (or the evidence's), one line per qdisc, class and filter.
  returned: when O(state) is V(gathered) or V(parsed)
  type: list
  elements: str
  sample: ["qdisc htb 1: root default 1:30", "class 1:1 parent 1: rate 47500kbit ceil 47500kbit"]
rollback_token:
  description: The token of the rollback this run armed, for M(dlegate.rtc.commit_confirm); V(null) when none.
  returned: when O(state) is V(present) or V(absent)
  type: str
  sample: "tc-wan0:5f0c2b9e7d614a33"
rollback_pending:
  description: Whether a rollback of the interface's tree is armed and not yet confirmed.
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

from ansible_collections.dlegate.rtc.plugins.module_utils.tc import resource
from ansible_collections.dlegate.rtc.plugins.module_utils.tc.host import TreeResource

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=resource.STATES),
    config=dict(type="dict", required=True, options=resource.CONFIG_SPEC),
    running_config=dict(type="dict", options=resource.RUNNING_CONFIG_SPEC),
    rollback_timeout=dict(type="int", default=0),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=[("state", "parsed", ["running_config"])],
                           supports_check_mode=True)
    TreeResource(module).run()


if __name__ == "__main__":
    main()
