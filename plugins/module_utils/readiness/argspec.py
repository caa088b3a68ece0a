# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of dlegate.rtc.readiness: the one source of its defaults, for the module and the core."""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.validation import dict_with_keys

CHECKS = ["dns", "signaling", "stun", "turn_udp", "turn_tcp", "turn_tls", "ephemeral", "quality"]
# TURN over TCP 3478 is no requirement of the service (its TCP fallback is TLS on 443): asked for, not default.
DEFAULT_CHECKS = ["dns", "signaling", "stun", "turn_udp", "turn_tls", "ephemeral", "quality"]

DNS_SPEC = dict(
    names=dict(type="list", elements="str", default=[]),
    resolvers=dict(type="list", elements="str", default=[]),
    system_resolver=dict(type="bool", default=True),
    sinkhole_networks=dict(type="list", elements="str", default=[]),
    allow_special_use=dict(type="bool", default=False),
    timeout=dict(type="float", default=5.0),
)

SIGNALING_SPEC = dict(
    host=dict(type="str"),
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

STUN_SPEC = dict(
    server=dict(type="str"),
    port=dict(type="int", default=3478),
    timeout=dict(type="float", default=5.0),
)

TURN_SPEC = dict(
    server=dict(type="str"),
    udp_port=dict(type="int", default=3478),
    tcp_port=dict(type="int", default=3478),
    tls_port=dict(type="int", default=443),
    server_name=dict(type="str"),
    ca_path=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    secret=dict(type="str", no_log=True),
    rest_ttl=dict(type="int", default=3600),
    relay_count=dict(type="int", default=50),
    relay_interval_ms=dict(type="int", default=20),
    timeout=dict(type="float", default=10.0),
)

EPHEMERAL_SPEC = dict(
    servers=dict(type="list", elements="str", default=[]),
    port_range=dict(type="str", default="49152-65535"),
    sample_range=dict(type="str"),
    samples=dict(type="int", default=10),
    attempts=dict(type="int", default=3),
    timeout=dict(type="float", default=3.0),
)

QUALITY_SPEC = dict(
    server=dict(type="str"),
    port=dict(type="int", default=3478),
    count=dict(type="int", default=250),
    interval_ms=dict(type="int", default=20),
    wait_ms=dict(type="int", default=1000),
    timeout=dict(type="float", default=10.0),
)

THRESHOLDS_SPEC = dict(
    rtt_ms=dict(type="float", default=100.0),
    jitter_ms=dict(type="float", default=30.0),
    loss_pct=dict(type="float", default=1.0),
)

SECTIONS = dict(
    dns=DNS_SPEC,
    signaling=SIGNALING_SPEC,
    stun=STUN_SPEC,
    turn=TURN_SPEC,
    ephemeral=EPHEMERAL_SPEC,
    quality=QUALITY_SPEC,
    thresholds=THRESHOLDS_SPEC,
)

ARGUMENT_SPEC = dict(
    checks=dict(type="list", elements="str", choices=CHECKS, default=DEFAULT_CHECKS),
    **dict((name, dict(type="dict", default={}, options=spec)) for name, spec in SECTIONS.items())
)


def with_defaults(params):
    """``params`` with the spec's defaults wherever a value is missing or None, as AnsibleModule fills them.

    FieldError for an option the spec does not know."""
    filled = {"checks": list(DEFAULT_CHECKS) if params.get("checks") is None else list(params["checks"])}
    for name, spec in SECTIONS.items():
        given = dict_with_keys(params.get(name) or {}, name, sorted(spec))
        filled[name] = dict((option, _default(spec[option]) if given.get(option) is None else given[option])
                            for option in spec)
    return filled


def _default(option):
    value = option.get("default")
    return list(value) if isinstance(value, list) else value
