#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: readiness
short_description: Judge whether the DLEGATE service will work from the managed host, with PASS, DEGRADED or FAIL
version_added: 0.1.0
description:
  - Runs the host's readiness checks B(concurrently), one thread each, in one invocation, B(from the managed
    host), with the collection's own probes (the code of M(dlegate.rtc.dns_probe),
    M(dlegate.rtc.signaling_probe), M(dlegate.rtc.stun_probe) and M(dlegate.rtc.turn_probe)). The suite takes
    about as long as its slowest check.
  - 'The checks: V(dns) resolves the service names and every name another check reaches; V(signaling) TCP 443,
    TLS (and inspection), HTTPS and a secure WebSocket echo; V(stun) a STUN Binding over UDP; V(turn_udp),
    V(turn_tcp) and V(turn_tls) a TURN allocation over each transport, with media-like packets through the relay;
    V(ephemeral) a UDP echo on ports sampled from the media servers'' ephemeral range; V(quality) a train of STUN
    Bindings over UDP (20 ms apart, like RTP) for loss, jitter and round-trip time.'
  - 'The verdict: V(PASS) when every check passed and the quality is within O(thresholds). V(DEGRADED) when the
    service works only on a fallback (UDP blocked while TURN over TCP/TLS relays media; the ephemeral range
    blocked while UDP 3478 answers) or a quality measure is at or above its threshold. V(FAIL) otherwise: a
    name that does not resolve, TCP 443 or TLS broken, TLS inspection, TURN credentials refused, no media path.'
  - Each finding has a stable C(id), a C(severity) (V(error) fails, V(warning) degrades, V(info) informs), a
    C(summary), the C(evidence), the C(remediation) from the service's network requirements, and the C(checks)
    it comes from. A name that does not resolve is reported as the DNS finding alone, not as the failures of
    the checks that reach it; when UDP is blocked, the UDP checks' timeouts are one C(udp_blocked) finding.
  - The module only reads; it changes nothing and runs the same in check mode, so audits measure. Credentials
    are C(no_log) and never returned. The STUN, TURN and WebSocket code ships with the collection; only the
    V(dns) check needs dnspython on the managed host, and without it the check reports C(dns_no_resolver).
  - The module fails only on bad arguments, naming the argument in C(field) (for example C(turn.password)),
    before any check runs.
author:
  - DLEGATE network engineering (@dlegate)
requirements:
  - dnspython on the managed host for the V(dns) check
options:
  checks:
    description:
      - The checks to run, all at once. V(turn_tcp) (TURN over TCP 3478) is no requirement of the service, whose
        TCP fallback is TLS on 443, so it runs only when asked for.
    type: list
    elements: str
    choices: [dns, signaling, stun, turn_udp, turn_tcp, turn_tls, ephemeral, quality]
    default: [dns, signaling, stun, turn_udp, turn_tls, ephemeral, quality]
  dns:
    description:
      - The V(dns) check (see M(dlegate.rtc.dns_probe)). Besides O(dns.names), it resolves every name the other
        checks reach, so that a failing name explains their failures.
    type: dict
    default: {}
    suboptions:
      names:
        description: Service domains to resolve besides the servers of the other checks.
        type: list
        elements: str
        default: []
      resolvers:
        description: Resolvers to ask as well, each alone (C(ADDRESS), C(IPV4:PORT) or C([IPV6]:PORT)).
        type: list
        elements: str
        default: []
      system_resolver:
        description: Ask the host's own resolver, the one the other checks use.
        type: bool
        default: true
      sinkhole_networks:
        description: Networks (CIDRs) a DNS filter answers blocked names with; such answers are C(dns_sinkhole).
        type: list
        elements: str
        default: []
      allow_special_use:
        description: Accept loopback, unspecified, link-local and multicast answers.
        type: bool
        default: false
      timeout:
        description: Seconds for each name, asked again within them when an answer is lost.
        type: float
        default: 5.0
  signaling:
    description:
      - The V(signaling) check (see M(dlegate.rtc.signaling_probe)). O(signaling.host) is required for it.
    type: dict
    default: {}
    suboptions:
      host:
        description: The signalling service's DNS name.
        type: str
      port:
        description: The signalling port.
        type: int
        default: 443
      address:
        description: Connect to this IP address instead of resolving O(signaling.host).
        type: str
      path:
        description: Path of the HTTPS request.
        type: str
        default: /
      websocket:
        description: Open a secure WebSocket and echo a frame.
        type: bool
        default: true
      websocket_path:
        description: Path of the WebSocket upgrade.
        type: str
        default: /ws
      ca_path:
        description: CA bundle to validate the certificate with; the system's when not given.
        type: path
      expected_issuer:
        description: The service certificate's issuer (CN, or part of its RFC 4514 name); another one is
          C(tls_inspected).
        type: str
      spki_pins:
        description: Base64 SHA-256 pins of the service's public keys; another key is C(tls_inspected).
        type: list
        elements: str
        default: []
      proxy:
        description: An HTTP proxy (C(http://host:port)) to tunnel through with CONNECT.
        type: str
      proxy_username:
        description: User name for the proxy's Basic authentication.
        type: str
      proxy_password:
        description: Password for the proxy's Basic authentication.
        type: str
      timeout:
        description: Seconds for each step.
        type: float
        default: 10.0
  stun:
    description:
      - The V(stun) check, one STUN Binding over UDP, retransmitted (see M(dlegate.rtc.stun_probe)).
    type: dict
    default: {}
    suboptions:
      server:
        description: The STUN server; defaults to O(turn.server).
        type: str
      port:
        description: The STUN port.
        type: int
        default: 3478
      timeout:
        description: Seconds to wait for an answer, retransmissions included.
        type: float
        default: 5.0
  turn:
    description:
      - 'The V(turn_udp), V(turn_tcp) and V(turn_tls) checks (see M(dlegate.rtc.turn_probe)): an allocation over
        each transport, O(turn.relay_count) media-like packets through the relay and back, and the allocation
        freed.'
      - Credentials are O(turn.username) and O(turn.password), or coturn's REST O(turn.secret).
    type: dict
    default: {}
    suboptions:
      server:
        description: The TURN server; required for the TURN checks.
        type: str
      udp_port:
        description: Port of TURN over UDP.
        type: int
        default: 3478
      tcp_port:
        description: Port of TURN over TCP.
        type: int
        default: 3478
      tls_port:
        description: Port of TURN over TLS, the fallback when UDP is blocked.
        type: int
        default: 443
      server_name:
        description: Name for TLS SNI and the certificate check; defaults to O(turn.server).
        type: str
      ca_path:
        description: CA bundle to validate the TLS certificate with; the system's when not given.
        type: path
      validate_certs:
        description: Validate the TURN server's certificate over TLS.
        type: bool
        default: true
      username:
        description: The long-term user name; with O(turn.secret), the user part of the REST user name.
        type: str
      password:
        description: The long-term password.
        type: str
      secret:
        description: coturn's REST API shared secret, instead of O(turn.password).
        type: str
      rest_ttl:
        description: Seconds from now at which REST credentials derived from O(turn.secret) expire.
        type: int
        default: 3600
      relay_count:
        description: Media-like packets through each relay and back; V(0) only allocates.
        type: int
        default: 50
      relay_interval_ms:
        description: Milliseconds between the relay packets.
        type: int
        default: 20
      timeout:
        description: Seconds for each allocation, relay train and freeing included.
        type: float
        default: 10.0
  ephemeral:
    description:
      - The V(ephemeral) check. O(ephemeral.samples) ports spread evenly over O(ephemeral.sample_range) get a
        datagram each, retransmitted up to O(ephemeral.attempts) times, and must echo it back. The media servers
        need a UDP echo on those ports.
    type: dict
    default: {}
    suboptions:
      servers:
        description: The media servers; defaults to the STUN server.
        type: list
        elements: str
        default: []
      port_range:
        description: The media servers' ephemeral UDP range, C(LOW-HIGH).
        type: str
        default: 49152-65535
      sample_range:
        description: The part of O(ephemeral.port_range) where the echo listens; the whole range when not given.
        type: str
      samples:
        description: Ports to sample per server (1 to 64).
        type: int
        default: 10
      attempts:
        description: Transmissions per port (1 to 7), on the STUN retransmission schedule.
        type: int
        default: 3
      timeout:
        description: Seconds for the whole check.
        type: float
        default: 3.0
  quality:
    description:
      - The V(quality) check, a train of STUN Bindings over UDP, none retransmitted, judged against O(thresholds).
    type: dict
    default: {}
    suboptions:
      server:
        description: The STUN server to measure against; defaults to the STUN server.
        type: str
      port:
        description: Its port.
        type: int
        default: 3478
      count:
        description: Requests in the train.
        type: int
        default: 250
      interval_ms:
        description: Milliseconds between requests.
        type: int
        default: 20
      wait_ms:
        description: How long to wait for late answers after the last request.
        type: int
        default: 1000
      timeout:
        description: Seconds for the whole train; must exceed O(quality.count) * O(quality.interval_ms).
        type: float
        default: 10.0
  thresholds:
    description:
      - Quality thresholds; a measure at or above one degrades the verdict. The defaults are the pass levels of
        the Microsoft 365 network connectivity test.
    type: dict
    default: {}
    suboptions:
      rtt_ms:
        description: Average round-trip time in milliseconds.
        type: float
        default: 100.0
      jitter_ms:
        description: RFC 3550 interarrival jitter in milliseconds.
        type: float
        default: 30.0
      loss_pct:
        description: Packet loss in percent.
        type: float
        default: 1.0
notes:
  - 'Finding ids: from the readiness judgment C(udp_blocked), C(tls_fallback_only), C(quality_loss),
    C(quality_jitter), C(quality_rtt), C(check_error); from the checks C(dns_nxdomain), C(dns_sinkhole),
    C(dns_servfail), C(dns_timeout)... (M(dlegate.rtc.dns_probe)), C(tcp443_blocked), C(tls_inspected),
    C(tls_untrusted), C(wss_failed)... (M(dlegate.rtc.signaling_probe)), C(stun_*) and C(turn_*) such as
    C(turn_auth_failed) (M(dlegate.rtc.stun_probe), M(dlegate.rtc.turn_probe)), C(ephemeral_udp_blocked) and
    C(ephemeral_unresolved).'
  - Quality is measured on the UDP path to the STUN server. When UDP is blocked it is not measured, and the
    C(udp_blocked) finding stands for it.
seealso:
  - module: dlegate.rtc.dns_probe
  - module: dlegate.rtc.signaling_probe
  - module: dlegate.rtc.stun_probe
  - module: dlegate.rtc.turn_probe
attributes:
  check_mode:
    description: Runs in check mode and returns the same results; the checks change nothing.
    support: full
  diff_mode:
    description: A probe has nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Will DLEGATE work from this endpoint?
  dlegate.rtc.readiness:
    signaling:
      host: signal.example.com
      expected_issuer: Example Issuing CA
    turn:
      server: turn.example.com
      username: probe
      password: "{{ vault_turn_password }}"
    ephemeral:
      servers: [media.example.com]
      sample_range: 50000-50099
  register: readiness

- name: Stop unless it works at full quality
  ansible.builtin.assert:
    that: readiness.verdict == 'PASS'
    fail_msg: "{{ readiness.findings | map(attribute='summary') | list }}"

- name: Only what a proxied site can use, with stricter quality
  dlegate.rtc.readiness:
    checks: [dns, signaling, turn_tls]
    signaling:
      host: signal.example.com
      proxy: http://proxy.corp.example:3128
    turn:
      server: turn.example.com
      secret: "{{ vault_turn_rest_secret }}"
      username: site-probe
    thresholds:
      rtt_ms: 60
      jitter_ms: 15
      loss_pct: 0.1
"""

RETURN = r"""
verdict:
  description: V(PASS), V(DEGRADED) or V(FAIL).
  returned: always
  type: str
  sample: DEGRADED
findings:
  description:
    - Why the verdict is not V(PASS), worst first, one per C(id). Each has C(id), C(severity), C(summary),
      C(evidence) (of every check that saw it), C(remediation) and C(checks), plus the context its checks share
      (C(name), C(server), C(value) and C(threshold) of a quality finding...).
  returned: always
  type: list
  elements: dict
  sample:
    - id: udp_blocked
      severity: warning
      summary: Outbound UDP to the media servers is blocked
      evidence: "stun: udp 203.0.113.20:3478 (turn.example.com): no answer to the Binding request within 5.0 s; ..."
      remediation: "Verify that UDP ports (such as 3478 and ephemeral UDP range) are permitted. ..."
      checks: [stun, turn_udp, ephemeral, quality]
    - id: tls_fallback_only
      severity: warning
      summary: Media works only through the TURN fallback over TCP (TLS)
      evidence: "TURN over TLS to turn.example.com:443 allocated the relay 203.0.113.20:50321 and relayed 50 of 50
        media packets"
      remediation: "When direct UDP media transport is blocked, encrypted transport over TCP (TLS) should be ..."
      checks: [turn_tls]
checks:
  description:
    - Every check that ran, by name. C(kind) is the section it reads, C(targets) the names it reaches,
      C(passed) whether its probe found no error, C(duration_ms) its run time, C(error) why it crashed (null
      normally) and C(result) its probe's result, in the shape the matching probe module returns; the sample
      shows the V(ephemeral) check's, which has no module of its own.
  returned: always
  type: dict
  sample:
    ephemeral:
      kind: ephemeral
      targets: [media.example.com]
      passed: true
      duration_ms: 3.2
      error: null
      result:
        port_range: 49152-65535
        sampled_ports: [50000, 50011, 50022]
        sampled: 3
        answered: 3
        servers:
          - {server: media.example.com, address: 203.0.113.20, answered: [50000, 50011, 50022], silent: [],
             refused: [], rtt_ms: {min: 1.1, avg: 1.2, max: 1.4, p95: 1.4}, error: null, error_detail: null}
        findings: []
        passed: true
thresholds:
  description: The thresholds the quality was judged against.
  returned: always
  type: dict
  sample: {"rtt_ms": 100, "jitter_ms": 30, "loss_pct": 1}
duration_ms:
  description: Wall time of all the checks together, in milliseconds.
  returned: always
  type: float
  sample: 5231.4
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.argspec import ARGUMENT_SPEC
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.runner import run_readiness


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        report = run_readiness(module.params)
    except FieldError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
