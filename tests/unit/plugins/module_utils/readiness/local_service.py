# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole DLEGATE service on 127.0.0.1, for the readiness tests: DNS, signalling (HTTPS and a WebSocket
echo), STUN/TURN over UDP and TCP, TURN over TLS, and a UDP echo on a few "ephemeral" ports.

:meth:`LocalService.params` gives readiness parameters that reach all of it;
``udp_blocked=True`` points every UDP check at ports nothing listens on, as a
firewall that blocks UDP would leave them (the kernel refuses them at once).
"""

from __future__ import annotations

import contextlib

from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import DnsServer
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.readiness.echo_server import (
    EchoServer,
    closed_udp_port,
)
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.signaling.servers import (
    SERVICE_NAME,
    SignalServer,
)
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.signaling.servers import make_pki as signal_pki
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.stun.fake_server import FakeServer
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.stun.tls_certs import make_pki as turn_pki

USER = "alice"
PASSWORD = "pw-9f3c71d2"
ISSUER = "DLEGATE Test Root CA"
ZONE = {SERVICE_NAME: {"A": ["127.0.0.1"]}, "media.dlegate.test": {"A": ["127.0.0.1"]}}


class LocalService(object):
    def __init__(self, directory):
        signal_dir = directory / "signal"
        turn_dir = directory / "turn"
        signal_dir.mkdir()
        turn_dir.mkdir()
        self.signal_pki = signal_pki(signal_dir)
        self.turn_ca, tls_context = turn_pki(turn_dir)
        self.stack = contextlib.ExitStack()
        self.dns = DnsServer(ZONE)
        self.signal = SignalServer(self.signal_pki.service_cert, self.signal_pki.service_key)
        self.turn = FakeServer(users={USER: PASSWORD}, realm="dlegate.test")
        self.turn_tls = FakeServer(users={USER: PASSWORD}, realm="dlegate.test", tls=tls_context)
        self.echo = EchoServer(["echo"] * 4, consecutive=True)

    def __enter__(self):
        for server in (self.dns, self.signal, self.turn, self.turn_tls, self.echo):
            self.stack.enter_context(server)
        return self

    def __exit__(self, *exc_info):
        self.stack.close()

    def params(self, udp_blocked=False, **sections):
        """Readiness parameters for this service; ``sections`` replace options section by section."""
        udp_port = closed_udp_port() if udp_blocked else self.turn.udp_port
        echo = [closed_udp_port()] if udp_blocked else self.echo.ports
        params = {
            "checks": ["dns", "signaling", "stun", "turn_udp", "turn_tcp", "turn_tls", "ephemeral", "quality"],
            "dns": {"names": [SERVICE_NAME, "media.dlegate.test"], "resolvers": [self.dns.nameserver],
                    "system_resolver": False, "allow_special_use": True, "timeout": 2},
            "signaling": {"host": SERVICE_NAME, "address": "127.0.0.1", "port": self.signal.port,
                          "ca_path": self.signal_pki.service_ca, "expected_issuer": ISSUER, "timeout": 3},
            "stun": {"server": "127.0.0.1", "port": udp_port, "timeout": 1},
            "turn": {"server": "127.0.0.1", "udp_port": udp_port, "tcp_port": self.turn.tcp_port,
                     "tls_port": self.turn_tls.tcp_port, "ca_path": self.turn_ca, "username": USER,
                     "password": PASSWORD, "relay_count": 10, "relay_interval_ms": 5, "timeout": 3},
            "ephemeral": {"servers": ["127.0.0.1"], "port_range": "%d-%d" % (min(echo), max(echo)),
                          "samples": len(echo), "timeout": 1},
            "quality": {"port": udp_port, "count": 40, "interval_ms": 5, "wait_ms": 300, "timeout": 2},
        }
        for name, values in sections.items():
            params[name] = dict(params.get(name) or {}, **values) if isinstance(values, dict) else values
        return params
