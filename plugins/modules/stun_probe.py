#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: stun_probe
short_description: Send STUN Binding requests from the managed host and measure the answers
version_added: 0.1.0
description:
  - Sends a STUN Binding request (RFC 8489) over UDP, TCP or TLS to a STUN or TURN server B(from the managed
    host) and returns the address and port the server saw (the host's server-reflexive address behind NAT) and
    the round-trip time.
  - With O(count) greater than 1 it sends a quality train instead, one request every O(interval_ms) like the
    packets of an RTP stream, and returns loss, round-trip time statistics and the RFC 3550 interarrival jitter
    of the round trip.
  - Over UDP a single request is retransmitted with an RTO starting at 500 ms and doubling (RFC 8489); train
    requests are never retransmitted, a missing answer is a lost packet.
  - Every socket operation is bounded by the overall deadline O(timeout).
  - 'Network failures are results, not module failures: an unreachable or silent server gives
    RV(reachable=false) and an RV(error) code, so a later task can judge them. The module fails only on bad
    arguments (the failure names the argument in C(field)).'
  - The probe changes nothing on the host and runs the same in check mode. The STUN code ships with the
    collection; the managed host needs no extra Python package.
author:
  - DLEGATE network engineering (@dlegate)
options:
  server:
    description:
      - Host name or IP address of the STUN or TURN server, resolved on the managed host.
    type: str
    required: true
  port:
    description:
      - Server port. Defaults to 3478 for V(udp) and V(tcp), 5349 for V(tls).
    type: int
  transport:
    description:
      - V(udp) sends datagrams; V(tcp) and V(tls) frame the messages on one connection (RFC 8489 section 6.2).
    type: str
    choices: [udp, tcp, tls]
    default: udp
  timeout:
    description:
      - Overall deadline of the probe in seconds, connection and TLS handshake included.
      - With a train it must exceed O(count) * O(interval_ms).
    type: float
    default: 5.0
  count:
    description:
      - Number of Binding requests. V(1) is a single reachability probe; more make a quality train.
    type: int
    default: 1
  interval_ms:
    description:
      - Milliseconds between the requests of a train; 20 ms is the packet interval of most voice codecs.
    type: int
    default: 20
  wait_ms:
    description:
      - After the last request of a train, how long to wait for late answers (within O(timeout)). Answers
        later than that count as lost.
    type: int
    default: 1000
  server_name:
    description:
      - Name to send as TLS SNI and to check the certificate against. Defaults to O(server).
    type: str
  ca_path:
    description:
      - CA bundle (PEM file) to verify the server's certificate with, for V(tls). Defaults to the system's.
    type: path
  validate_certs:
    description:
      - Verify the server's certificate and name over V(tls). Turn it off only to probe a server whose
        certificate you cannot verify; a TLS-inspecting proxy then goes unnoticed.
    type: bool
    default: true
notes:
  - "RV(error) codes: V(resolve_failed), V(connection_refused) (TCP reset, or ICMP port unreachable over UDP),
    V(unreachable), V(timeout), V(certificate_invalid), V(tls_handshake_failed), V(connection_closed),
    V(malformed_response) (answers came, none was a valid STUN response to the request),
    V(binding_failed) (the server answered with an error response, see RV(error_code)) and
    V(network_error)."
seealso:
  - module: dlegate.rtc.turn_probe
attributes:
  check_mode:
    description: Runs in check mode and returns the same probe results; a probe changes nothing.
    support: full
  diff_mode:
    description: A probe has nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Is STUN reachable, and what is the site's public address?
  dlegate.rtc.stun_probe:
    server: stun.example.com
  register: stun

- name: A 5 s media-like train to the TURN server, as an RTP stream would send
  dlegate.rtc.stun_probe:
    server: turn.example.com
    count: 250
    interval_ms: 20
    timeout: 8
  register: train

- name: Media quality must be good enough for a call
  ansible.builtin.assert:
    that:
      - train.reachable
      - train.loss_pct < 1
      - train.rtt_ms.p95 < 100
      - train.jitter_ms < 30

- name: STUN over TLS on 443 with the site's CA bundle
  dlegate.rtc.stun_probe:
    server: turn.example.com
    port: 443
    transport: tls
    ca_path: /etc/ssl/certs/corporate-ca.pem
"""

RETURN = r"""
reachable:
  description: Whether a valid STUN response came back from the server.
  returned: always
  type: bool
  sample: true
server:
  description: The server as given.
  returned: always
  type: str
  sample: stun.example.com
server_address:
  description: The address the server name resolved to; null when it did not resolve.
  returned: always
  type: str
  sample: 203.0.113.20
port:
  description: The server port probed.
  returned: always
  type: int
  sample: 3478
transport:
  description: The transport used.
  returned: always
  type: str
  sample: udp
mapped_address:
  description: The host's address as the server saw it (XOR-MAPPED-ADDRESS); null without an answer.
  returned: always
  type: str
  sample: 198.51.100.7
mapped_port:
  description: The host's port as the server saw it.
  returned: always
  type: int
  sample: 40312
rtt_ms:
  description:
    - Round-trip times in milliseconds. A single probe has one sample, so all four are equal (over UDP it
      is measured from the last retransmission). Values are null when nothing came back.
  returned: always
  type: dict
  contains:
    min:
      description: Shortest round trip.
      type: float
    avg:
      description: Mean round trip.
      type: float
    max:
      description: Longest round trip.
      type: float
    p95:
      description: 95th percentile (nearest rank).
      type: float
  sample: {"min": 11.2, "avg": 12.9, "max": 31.4, "p95": 18.0}
transmissions:
  description: How many times the single request was sent (retransmissions over UDP included).
  returned: when O(count=1)
  type: int
  sample: 1
sent:
  description: Requests sent by the train.
  returned: when O(count) > 1
  type: int
  sample: 250
received:
  description: Answers received in time.
  returned: when O(count) > 1
  type: int
  sample: 249
loss_pct:
  description: Percentage of requests without an answer in time.
  returned: when O(count) > 1
  type: float
  sample: 0.4
jitter_ms:
  description:
    - RFC 3550 interarrival jitter of the round-trip times in milliseconds, in the order the answers
      arrived; null when nothing came back.
  returned: when O(count) > 1
  type: float
  sample: 1.73
findings:
  description:
    - The problems seen, each with a stable C(id), C(severity), C(summary), C(evidence) and C(remediation),
      plus C(server) and C(transport). The ids are C(stun_unresolved), C(stun_udp_blocked), C(stun_tcp_blocked), C(stun_tls_blocked),
        C(stun_tls_failed), C(stun_tls_untrusted), C(stun_malformed) and C(stun_error_response).
    - Loss, round-trip time and jitter are data for a verdict to judge, never findings here.
  returned: always
  type: list
  elements: dict
  sample:
    - id: stun_udp_blocked
      severity: error
      summary: No STUN answer over UDP
      evidence: "udp 203.0.113.20:3478 (stun.example.com): no answer to the Binding request within 5.0 s"
      remediation: "Verify that UDP ports (such as 3478 and ephemeral UDP range) are permitted: ..."
      server: stun.example.com
      transport: udp
passed:
  description: Whether no finding has severity C(error).
  returned: always
  type: bool
  sample: false
error:
  description: Why the probe failed (see the notes for the codes); null on success.
  returned: always
  type: str
  sample: timeout
error_detail:
  description: A sentence on the failure; null on success.
  returned: always
  type: str
  sample: no answer to the Binding request within 5.0 s
error_code:
  description: The STUN error code when the server answered with an error response, else null.
  returned: always
  type: int
  sample: 400
error_reason:
  description: The reason phrase of that error response, else null.
  returned: always
  type: str
  sample: Bad Request
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import probe_binding, probe_binding_train
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import Target

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True),
    port=dict(type="int"),
    transport=dict(type="str", default="udp", choices=["udp", "tcp", "tls"]),
    timeout=dict(type="float", default=5.0),
    count=dict(type="int", default=1),
    interval_ms=dict(type="int", default=20),
    wait_ms=dict(type="int", default=1000),
    server_name=dict(type="str"),
    ca_path=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
)


def target_of(params):
    return Target(params["server"], params["port"], params["transport"], params["server_name"],
                  params["ca_path"], params["validate_certs"])


def probe(params):
    target = target_of(params)
    if params["count"] == 1:
        return probe_binding(target, params["timeout"])
    return probe_binding_train(target, params["count"], params["interval_ms"], params["timeout"],
                               params["wait_ms"])


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = probe(module.params)
    except FieldError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
