#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dns_probe
short_description: Check that the DLEGATE service's domains resolve to usable addresses
version_added: 0.1.0
description:
  - Resolves every service domain B(on the managed host), through the host's own resolver and through each
    resolver given in O(resolvers) on its own, and reports per resolver and per name the answers, the CNAME
    chain and the latency.
  - Detects the failures the requirements page's troubleshooting tip is about (I(Confirm that DNS resolution is
    working for relevant domains used by the communication service)) and reports each one as a finding with a
    stable id, a severity, the evidence and a remediation. The module itself does not fail on them; C(passed)
    says whether any finding is an error.
  - 'Finding ids: C(dns_nxdomain) (the name does not exist), C(dns_servfail), C(dns_timeout), C(dns_refused),
    C(dns_no_address) (no A or AAAA record), C(dns_sinkhole) (an answer is a special-use address - loopback,
    unspecified, link-local, multicast - or lies in O(sinkhole_networks)), C(dns_error) (any other failure) and
    C(dns_no_resolver) (the host has no usable resolver configuration).'
  - A record type the resolver fails on while another one answers (for example AAAA times out, A answers) is a
    finding of severity C(warning); so is a sinkhole answer next to usable ones. No record, or NXDOMAIN, for one
    type next to an answer for the other is no finding.
  - Names are asked as given, never through the resolver's search list. The probe changes nothing.
author:
  - DLEGATE network engineering (@dlegate)
requirements:
  - dnspython on the managed host
options:
  names:
    description:
      - The service domains to resolve (DNS names, not addresses). Duplicates are asked once.
    type: list
    elements: str
    required: true
  resolvers:
    description:
      - Resolvers to ask besides the host's own, each on its own, as C(ADDRESS), C(IPV4:PORT) or C([IPV6]:PORT).
        Their results are reported under the resolver as written here.
    type: list
    elements: str
    default: []
  system_resolver:
    description:
      - Whether to ask the host's own resolver (its C(/etc/resolv.conf)). Its results are reported under
        C(system).
    type: bool
    default: true
  record_types:
    description:
      - The address record types to ask for.
    type: list
    elements: str
    choices: [A, AAAA]
    default: [A, AAAA]
  timeout:
    description:
      - Seconds one query (one name, one record type, one resolver) may take, retries included; at most 60.
    type: float
    default: 5.0
  sinkhole_networks:
    description:
      - Networks (CIDR) that a DNS filter answers with for blocked domains on this site; answers in them are
        reported as C(dns_sinkhole).
    type: list
    elements: str
    default: []
  allow_special_use:
    description:
      - Accept loopback, unspecified, link-local and multicast answers as usable (for test setups that serve the
        service on such addresses). O(sinkhole_networks) are rejected all the same.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - The probe runs the same in check mode; it only sends DNS queries.
  - The latency of a name is that of its slowest record type.
seealso:
  - module: dlegate.rtc.signaling_probe
"""

EXAMPLES = r"""
- name: Check the service's domains through the host's resolver and the site's two resolvers
  dlegate.rtc.dns_probe:
    names: [signal.dlegate.example, turn.dlegate.example]
    resolvers: [10.20.0.53, 10.20.1.53]
    sinkhole_networks: [10.66.0.0/16]
  register: dns

- name: Fail on DNS errors, listing them
  ansible.builtin.assert:
    that: dns.passed
    fail_msg: "{{ dns.findings | selectattr('severity', 'equalto', 'error') | map(attribute='evidence') | list }}"

- name: Ask only a lab resolver on another port, for A records
  dlegate.rtc.dns_probe:
    names: [signal.dlegate.test]
    system_resolver: false
    resolvers: ["198.18.11.53:5353"]
    record_types: [A]
    timeout: 2
"""

RETURN = r"""
results:
  description:
    - Per resolver (C(system) or the resolver as given in O(resolvers)), per name, what the resolver answered.
    - C(addresses) are all the answers (A first, then AAAA); C(usable) and C(rejected) split them, each rejected
      address with the reason. C(error) is set only when no address came back, one of C(nxdomain),
      C(servfail), C(refused), C(timeout), C(unreachable), C(invalid_name), C(error) or C(no_answer);
      C(error_text) also names failures of single record types. C(queries) has the same keys per record type.
    - Empty for a resolver that could not be used (see the C(dns_no_resolver) finding).
  returned: always
  type: dict
  sample:
    system:
      signal.dlegate.example:
        addresses: ["203.0.113.10"]
        usable: ["203.0.113.10"]
        rejected: []
        cname_chain: ["edge.dlegate.example"]
        latency_ms: 2.4
        error: null
        error_text: "AAAA: no record"
        queries:
          A: {addresses: ["203.0.113.10"], cname_chain: ["edge.dlegate.example"], latency_ms: 2.4, error: null,
              error_text: null}
          AAAA: {addresses: [], cname_chain: [], latency_ms: 1.9, error: no_answer, error_text: "no record"}
findings:
  description:
    - The problems seen, each with a stable C(id), C(severity) (C(error) or C(warning)), a C(summary), the
      C(evidence), the C(remediation), and the C(name) and C(resolver) it concerns (no C(name) for
      C(dns_no_resolver)).
  returned: always
  type: list
  elements: dict
  sample:
    - id: dns_sinkhole
      severity: error
      summary: The resolver answers with an address that cannot be the service
      evidence: "resolver 10.20.0.53 answered 0.0.0.0 (unspecified)"
      remediation: "Confirm that DNS resolution is working for relevant domains used by the communication service. ..."
      name: turn.dlegate.example
      resolver: 10.20.0.53
passed:
  description: Whether no finding has severity C(error).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dlegate.rtc.plugins.module_utils.common.dns import DNSPYTHON_IMPORT_ERROR, HAS_DNSPYTHON
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.dns_probe import run_dns_probe

ARGUMENT_SPEC = dict(
    names=dict(type="list", elements="str", required=True),
    resolvers=dict(type="list", elements="str", default=[]),
    system_resolver=dict(type="bool", default=True),
    record_types=dict(type="list", elements="str", choices=["A", "AAAA"], default=["A", "AAAA"]),
    timeout=dict(type="float", default=5.0),
    sinkhole_networks=dict(type="list", elements="str", default=[]),
    allow_special_use=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib("dnspython"), exception=DNSPYTHON_IMPORT_ERROR)
    params = module.params
    try:
        probe = run_dns_probe(params["names"], resolvers=params["resolvers"],
                              system_resolver=params["system_resolver"], rdtypes=params["record_types"],
                              timeout=params["timeout"], sinkhole_networks=params["sinkhole_networks"],
                              allow_special_use=params["allow_special_use"])
    except FieldError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    module.exit_json(changed=False, **probe)


if __name__ == "__main__":
    main()
