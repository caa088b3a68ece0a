#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: signaling_probe
short_description: Check the DLEGATE signalling path - TCP 443, TLS, HTTPS and a secure WebSocket echo
version_added: 0.1.0
description:
  - Walks, B(from the managed host), the path a DLEGATE client takes to the signalling service, directly or
    through an HTTP proxy with C(CONNECT), and times every step; RV(timings).
  - 1. A TCP connection to O(host) on O(port) (the name resolved by the host, or O(address)).
  - 2. A TLS handshake with SNI, validated for O(host) against O(ca_path). It reads the certificate (subject,
    issuer, validity, subjectAltName, and the SHA-256 of its SubjectPublicKeyInfo as in HPKP pins) and checks that
    it is the service's, by O(expected_issuer) and O(spki_pins). When validation fails the handshake is done
    again without validation, only to read the certificate.
  - 3. An HTTPS C(GET) of O(path).
  - 4. On a second connection, a WebSocket upgrade (RFC 6455) to O(websocket_path), a masked text message, and
    its echo.
  - Every failure is a finding with a stable id, a severity, the evidence and a remediation from the
    requirements page, not a module failure; RV(passed) says whether any finding is an error. Finding ids
    C(host_unresolved), C(tcp443_blocked), C(proxy_unreachable), C(proxy_refused) (the proxy's status line is in
    RV(proxy_status)), C(tls_failed) (no handshake), C(tls_inspected) (the certificate is not the service's,
    whether or not its CA is trusted), C(tls_untrusted) (the service's certificate does not validate; also when
    nothing identifies the service's certificate), C(http_failed) (no answer, not HTTP, or a status of 400 or
    more) and C(wss_failed).
  - TLS inspection is told from an untrusted chain only with O(expected_issuer) or O(spki_pins).
  - Every step has its own deadline, O(timeout); a peer that answers slowly cannot stretch it.
  - The probe needs no third-party Python package on the managed host and changes nothing.
author:
  - DLEGATE network engineering (@dlegate)
options:
  host:
    description:
      - The signalling service's DNS name, used for the connection (unless O(address) is given), SNI, the
        certificate's name check, the C(Host) header and the proxy's C(CONNECT).
    type: str
    required: true
  port:
    description: The service's TCP port.
    type: int
    default: 443
  address:
    description:
      - Connect to this IP address instead of resolving O(host) (to probe one server of several); through a
        proxy, the C(CONNECT) names this address.
    type: str
  path:
    description: The path of the HTTPS request.
    type: str
    default: /
  websocket:
    description: Whether to test the WebSocket upgrade and echo.
    type: bool
    default: true
  websocket_path:
    description:
      - The path of the WebSocket endpoint, which must echo text messages (C(/ws) on the lab's signal host).
    type: str
    default: /ws
  ca_path:
    description:
      - A PEM file of CA certificates, or a directory of hashed ones (C(openssl rehash)), to validate the
        service's certificate against. The host's default trust store when not given.
    type: path
  expected_issuer:
    description:
      - The service certificate's issuer, as its CN or any part of its RFC 4514 name, in any case
        (for example C(DLEGATE Issuing CA 1) or C(O=DLEGATE)). Another issuer means TLS inspection.
    type: str
  spki_pins:
    description:
      - Base64 SHA-256 pins of the service certificate's SubjectPublicKeyInfo (HPKP C(pin-sha256) values; the
        forms C(sha256/...) and C(pin-sha256="...") are accepted). A certificate matching none means TLS
        inspection. Only the leaf certificate is compared.
    type: list
    elements: str
    default: []
  proxy:
    description:
      - An HTTP proxy to go through, as C(http://HOST:PORT); every connection is a C(CONNECT) tunnel to
        O(host):O(port).
    type: str
  proxy_username:
    description: User name for the proxy's Basic authentication.
    type: str
  proxy_password:
    description: Password for the proxy's Basic authentication.
    type: str
  timeout:
    description:
      - Seconds each step may take (resolving and connecting, the proxy's answer, the TLS handshake, the HTTPS
        exchange, the WebSocket echo); at most 120.
    type: float
    default: 10.0
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
  - The probe runs the same in check mode; it only opens connections.
  - When the certificate does not validate, the HTTPS request and the WebSocket echo still run over the
    unvalidated connection, to show whether an inspecting device also breaks them. They carry no credentials.
  - Basic proxy authentication sends the password base64 encoded over the connection to the proxy.
seealso:
  - module: dlegate.rtc.dns_probe
  - name: RFC 6455, The WebSocket Protocol
    description: The opening handshake and the framing the probe uses.
    link: https://www.rfc-editor.org/rfc/rfc6455
  - name: RFC 7469, Public Key Pinning Extension for HTTP
    description: The SPKI pin format of O(spki_pins).
    link: https://www.rfc-editor.org/rfc/rfc7469
"""

EXAMPLES = r"""
- name: Check the signalling path from an endpoint, detecting TLS inspection by the service's issuer
  dlegate.rtc.signaling_probe:
    host: signal.dlegate.example
    expected_issuer: DLEGATE Issuing CA
  register: signaling

- name: Fail with the findings
  ansible.builtin.assert:
    that: signaling.passed
    fail_msg: "{{ signaling.findings | map(attribute='evidence') | list }}"

- name: Through the site's proxy, with a pinned key and the lab's CA
  dlegate.rtc.signaling_probe:
    host: signal.dlegate.test
    proxy: http://198.18.10.254:3128
    proxy_username: probe
    proxy_password: "{{ vault_proxy_password }}"
    ca_path: /etc/dlegate/lab-ca.pem
    spki_pins: ["VPK0I1AuUE6P3HCLdHOFJDubTTo/PJvgcQJXeYRG08g="]
    timeout: 5
"""

RETURN = r"""
host:
  description: The host probed (normalised O(host)).
  returned: always
  type: str
  sample: signal.dlegate.example
port:
  description: The port probed.
  returned: always
  type: int
  sample: 443
proxy:
  description: The proxy gone through, or V(null).
  returned: always
  type: str
  sample: http://198.18.10.254:3128
address:
  description: The address the first TCP connection went to (the proxy's, through a proxy); V(null) without one.
  returned: always
  type: str
  sample: 203.0.113.10
timings:
  description:
    - Milliseconds each step took; V(null) for a step that did not run or failed. C(dns_ms) resolving O(host)
      (or the proxy's name), C(connect_ms) the TCP connection, C(proxy_ms) the proxy's C(CONNECT) answer,
      C(tls_ms) the TLS handshake (both, when validation failed), C(http_ms) the HTTPS request and answer,
      C(ws_ms) the upgrade and the echo.
  returned: always
  type: dict
  sample: {"dns_ms": 1.2, "connect_ms": 11.8, "proxy_ms": null, "tls_ms": 24.5, "http_ms": 13.0, "ws_ms": 14.1}
proxy_status:
  description: The proxy's status line for C(CONNECT), or why it was not HTTP; V(null) without a proxy.
  returned: always
  type: str
  sample: HTTP/1.1 403 Forbidden
certificate:
  description:
    - The certificate the server sent, V(null) when none was read. C(subject) and C(issuer) are RFC 4514 names,
      C(spki_sha256) the base64 SHA-256 of its SubjectPublicKeyInfo.
  returned: always
  type: dict
  sample:
    subject: CN=signal.dlegate.example,O=DLEGATE
    subject_cn: signal.dlegate.example
    issuer: CN=Corp TLS Inspection CA,O=Corp
    issuer_cn: Corp TLS Inspection CA
    serial: 69359898696621d35a15cc1e1b66aedbfc3b5c4d
    not_before: "2026-01-01T00:00:00Z"
    not_after: "2026-04-01T00:00:00Z"
    dns_names: [signal.dlegate.example]
    ip_addresses: []
    spki_sha256: 691RNIC0mYd2qNRyJ/UMulCcQ8UKF92qEG88HKNVZ/E=
tls:
  description:
    - The handshake, V(null) when none was tried. C(validated) whether the chain validated for C(server_name),
      C(verify_error) why not, C(identity) V(matched), V(mismatched) or V(unchecked) (nothing to check against),
      C(certificate_error) when the certificate could not be read.
  returned: always
  type: dict
  sample: {"server_name": "signal.dlegate.example", "validated": true, "verify_error": null, "version": "TLSv1.3",
           "cipher": "TLS_AES_256_GCM_SHA384", "identity": "mismatched", "certificate_error": null}
http:
  description: The HTTPS answer, V(null) when there was none.
  returned: always
  type: dict
  sample: {"status": 200, "status_line": "HTTP/1.1 200 OK"}
websocket:
  description: The WebSocket upgrade's answer, when the upgrade and the echo worked; else V(null).
  returned: always
  type: dict
  sample: {"status_line": "HTTP/1.1 101 Switching Protocols", "echoed": true}
findings:
  description:
    - The problems seen, each with a stable C(id), C(severity), C(summary), C(evidence) and C(remediation).
  returned: always
  type: list
  elements: dict
  sample:
    - id: tls_inspected
      severity: error
      summary: "TLS to the signalling service is inspected: the certificate is not the service's"
      evidence: "signal.dlegate.example sent the certificate of CN=signal.dlegate.example,O=Corp issued by
        CN=Corp TLS Inspection CA,O=Corp (SPKI sha256/691RNIC0mYd2qNRyJ/UMulCcQ8UKF92qEG88HKNVZ/E=); expected an
        issuer matching 'DLEGATE Issuing CA'; it validates against the CA bundle"
      remediation: "Proxies must support secure WebSockets and TLS inspection if enabled. ..."
passed:
  description: Whether no finding has severity C(error).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling.probe import run_signaling_probe

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True),
    port=dict(type="int", default=443),
    address=dict(type="str"),
    path=dict(type="str", default="/"),
    websocket=dict(type="bool", default=True),
    websocket_path=dict(type="str", default="/ws"),
    ca_path=dict(type="path"),
    expected_issuer=dict(type="str"),
    spki_pins=dict(type="list", elements="str", default=[]),
    proxy=dict(type="str"),
    proxy_username=dict(type="str"),
    proxy_password=dict(type="str", no_log=True),
    timeout=dict(type="float", default=10.0),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        report = run_signaling_probe(**module.params)
    except FieldError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
