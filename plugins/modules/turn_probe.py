#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: turn_probe
short_description: Allocate a TURN relay from the managed host, optionally measure the relay path, and free it
version_added: 0.1.0
description:
  - Sends a TURN Allocate request (RFC 8656) for a UDP relay over UDP, TCP or TLS B(from the managed host),
    with the long-term credential mechanism. It answers the server's 401 challenge (REALM and NONCE) and a
    438 stale nonce by repeating the request with fresh credentials.
  - Credentials are either a long-term O(username) and O(password), or coturn's REST API shared O(secret)
    (C(use-auth-secret)), from which the module derives the user name C(expiry:username) and the password
    base64(HMAC-SHA1(secret, user name)).
  - With O(relay_count) it sends media-like packets (172 bytes, like a 20 ms G.711 RTP packet) to its own
    relayed address through the server and back, after a CreatePermission, as Send indications or, with
    O(relay_mode=channel), as ChannelData after a ChannelBind, and measures the relay path's loss, round-trip
    time and jitter.
  - The allocation is always freed at the end (Refresh with LIFETIME 0); the last second of O(timeout) is
    kept for that.
  - 'Network failures and refusals are results, not module failures: RV(allocated=false) with RV(error)
    and, when the server answered with an error, RV(error_code) and RV(error_reason) (401 unauthorized,
    441 wrong credentials, 486 allocation quota reached...). The module fails only on bad arguments (the
    failure names the argument in C(field)).'
  - The probe changes nothing on the host and runs the same in check mode. The credentials are never
    returned or logged. The TURN code ships with the collection; the managed host needs no extra Python
    package.
author:
  - DLEGATE network engineering (@dlegate)
options:
  server:
    description:
      - Host name or IP address of the TURN server, resolved on the managed host.
    type: str
    required: true
  port:
    description:
      - Server port. Defaults to 3478 for V(udp) and V(tcp), 5349 for V(tls).
    type: int
  transport:
    description:
      - Transport between the host and the server. The relay itself is always UDP.
    type: str
    choices: [udp, tcp, tls]
    default: udp
  timeout:
    description:
      - Overall deadline of the probe in seconds, connection, relay train and freeing included.
      - With a relay train it must exceed O(relay_count) * O(relay_interval_ms) plus one second.
    type: float
    default: 10.0
  username:
    description:
      - The long-term user name. With O(secret), the user part of the REST user name (C(expiry:username));
        it may then be omitted.
    type: str
  password:
    description:
      - The long-term password.
    type: str
  secret:
    description:
      - coturn's REST API shared secret (C(static-auth-secret)), instead of O(password).
    type: str
  rest_ttl:
    description:
      - Seconds from now at which the REST credentials derived from O(secret) expire.
    type: int
    default: 3600
  relay_count:
    description:
      - Packets to send through the relay and back; V(0) only allocates and frees.
    type: int
    default: 0
  relay_interval_ms:
    description:
      - Milliseconds between the relay packets.
    type: int
    default: 20
  relay_mode:
    description:
      - V(send) wraps each packet in a Send indication; V(channel) binds a channel and sends ChannelData,
        as browsers do once a call runs.
    type: str
    choices: [send, channel]
    default: send
  wait_ms:
    description:
      - After the last relay packet, how long to wait for late ones (within O(timeout)).
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
      - Verify the server's certificate and name over V(tls).
    type: bool
    default: true
notes:
  - "RV(error) codes: V(allocate_failed) (an error response, see RV(error_code)), V(resolve_failed),
    V(connection_refused), V(unreachable), V(timeout), V(certificate_invalid), V(tls_handshake_failed),
    V(connection_closed), V(malformed_response) and V(network_error). RV(relay.error) adds
    V(relay_setup_failed) when CreatePermission or ChannelBind is refused."
  - A server that forbids relaying to its own relay addresses gives RV(relay.error=relay_setup_failed) (403)
    or a 100% loss, while the allocation itself works.
seealso:
  - module: dlegate.rtc.stun_probe
attributes:
  check_mode:
    description: Runs in check mode and returns the same probe results; a probe changes nothing.
    support: full
  diff_mode:
    description: A probe has nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Can the site allocate a relay over TLS on 443 (the fallback when UDP is blocked)?
  dlegate.rtc.turn_probe:
    server: turn.example.com
    port: 443
    transport: tls
    username: probe
    password: "{{ vault_turn_password }}"
  register: turn_tls

- name: Relay quality over UDP with coturn's REST secret, 5 s of 20 ms packets through channel data
  dlegate.rtc.turn_probe:
    server: turn.example.com
    secret: "{{ vault_turn_secret }}"
    username: site-probe
    relay_count: 250
    relay_mode: channel
    timeout: 10
  register: turn_udp

- name: The relay path is fit for media
  ansible.builtin.assert:
    that:
      - turn_udp.allocated
      - turn_udp.relay.loss_pct < 1
      - turn_udp.relay.jitter_ms < 30
"""

RETURN = r"""
reachable:
  description: Whether the server gave any valid STUN answer (an error response included).
  returned: always
  type: bool
  sample: true
allocated:
  description: Whether the server granted the allocation.
  returned: always
  type: bool
  sample: true
freed:
  description: Whether the allocation was freed (the Refresh with LIFETIME 0 was confirmed).
  returned: always
  type: bool
  sample: true
server:
  description: The server as given.
  returned: always
  type: str
  sample: turn.example.com
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
  description: The transport used to reach the server.
  returned: always
  type: str
  sample: udp
realm:
  description: The REALM the server challenged with; null when it did not challenge.
  returned: always
  type: str
  sample: example.com
relayed_address:
  description: The relayed transport address's IP (XOR-RELAYED-ADDRESS); null without an allocation.
  returned: always
  type: str
  sample: 203.0.113.20
relayed_port:
  description: The relayed transport address's port.
  returned: always
  type: int
  sample: 50324
mapped_address:
  description: The host's address as the server saw it (XOR-MAPPED-ADDRESS of the Allocate success).
  returned: always
  type: str
  sample: 198.51.100.7
mapped_port:
  description: The host's port as the server saw it.
  returned: always
  type: int
  sample: 40312
lifetime:
  description: The allocation's lifetime in seconds granted by the server.
  returned: always
  type: int
  sample: 600
rtt_ms:
  description: Round-trip times of the TURN requests (challenge and retries included) in milliseconds.
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
  sample: {"min": 11.2, "avg": 12.0, "max": 13.1, "p95": 13.1}
relay:
  description: The relay path's quality; null without O(relay_count).
  returned: always
  type: dict
  contains:
    mode:
      description: O(relay_mode).
      type: str
    peer_address:
      description: The peer the packets were sent to (the own relayed address).
      type: str
    peer_port:
      description: The peer's port.
      type: int
    sent:
      description: Packets sent.
      type: int
    received:
      description: Packets back in time.
      type: int
    loss_pct:
      description: Percentage of packets that did not come back in time.
      type: float
    rtt_ms:
      description: min, avg, max and p95 of the round trips in milliseconds.
      type: dict
    jitter_ms:
      description: RFC 3550 interarrival jitter of the round trips in milliseconds.
      type: float
    error:
      description: Why the relay test failed; null when it ran.
      type: str
    error_detail:
      description: A sentence on that failure.
      type: str
    error_code:
      description: The error code of a refused CreatePermission or ChannelBind.
      type: int
    error_reason:
      description: Its reason phrase.
      type: str
  sample: {"mode": "send", "sent": 250, "received": 250, "loss_pct": 0.0, "jitter_ms": 0.4,
           "rtt_ms": {"min": 1.1, "avg": 1.4, "max": 3.0, "p95": 2.1}}
findings:
  description:
    - The problems seen, each with a stable C(id), C(severity), C(summary), C(evidence) and C(remediation),
      plus C(server) and C(transport). The ids are C(turn_unresolved), C(turn_udp_blocked), C(turn_tcp_blocked), C(turn_tls_blocked),
        C(turn_tls_failed), C(turn_tls_untrusted), C(turn_malformed), C(turn_auth_failed) (401, 441),
        C(turn_quota) (486, 508), C(turn_refused), C(turn_relay_failed) and the warning C(turn_not_freed).
    - Loss, round-trip time and jitter are data for a verdict to judge, never findings here.
  returned: always
  type: list
  elements: dict
  sample:
    - id: turn_auth_failed
      severity: error
      summary: The TURN server refused the credentials
      evidence: "udp 203.0.113.20:3478 (turn.example.com) answered 441 Wrong Credentials"
      remediation: "STUN working while TURN does not is almost always credentials or realm: ..."
      server: turn.example.com
      transport: udp
      error_code: 441
passed:
  description: Whether no finding has severity C(error).
  returned: always
  type: bool
  sample: false
error:
  description: Why the probe failed (see the notes for the codes); null on success.
  returned: always
  type: str
  sample: allocate_failed
error_detail:
  description: A sentence on the failure; null on success.
  returned: always
  type: str
  sample: the Allocate request was answered 441 Wrong Credentials
error_code:
  description: The TURN error code of a refused Allocate, else null.
  returned: always
  type: int
  sample: 441
error_reason:
  description: The reason phrase of that error response, else null.
  returned: always
  type: str
  sample: Wrong Credentials
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import Credentials, probe_allocate
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import Target

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True),
    port=dict(type="int"),
    transport=dict(type="str", default="udp", choices=["udp", "tcp", "tls"]),
    timeout=dict(type="float", default=10.0),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    secret=dict(type="str", no_log=True),
    rest_ttl=dict(type="int", default=3600),
    relay_count=dict(type="int", default=0),
    relay_interval_ms=dict(type="int", default=20),
    relay_mode=dict(type="str", default="send", choices=["send", "channel"]),
    wait_ms=dict(type="int", default=1000),
    server_name=dict(type="str"),
    ca_path=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
)


def credentials_of(params):
    if params["secret"] is None:
        return Credentials(params["username"], params["password"])
    if not 60 <= params["rest_ttl"] <= 31536000:
        raise FieldError("rest_ttl", "must be between 60 and 31536000 seconds, got %d" % params["rest_ttl"])
    return Credentials.from_rest_secret(params["secret"], params["username"] or "", params["rest_ttl"])


def probe(params):
    target = Target(params["server"], params["port"], params["transport"], params["server_name"],
                    params["ca_path"], params["validate_certs"])
    return probe_allocate(target, credentials_of(params), params["timeout"], params["relay_count"],
                          params["relay_interval_ms"], params["relay_mode"], params["wait_ms"])


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("password", "secret")],
                           required_one_of=[("password", "secret")],
                           required_by={"password": "username"})
    try:
        result = probe(module.params)
    except FieldError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
