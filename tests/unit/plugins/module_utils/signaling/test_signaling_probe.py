# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signalling probe end to end, against TLS/WebSocket servers and a CONNECT proxy on 127.0.0.1.

The service's certificate comes from a throwaway CA; a second CA plays the
TLS-inspecting proxy. Hostile servers send garbage, stay silent, drip their
answer, or break the WebSocket handshake.
"""

from __future__ import annotations

import socket
import time

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import client, probe
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.signaling.servers import (
    SERVICE_NAME,
    ConnectProxy,
    SignalServer,
    closed_tcp_port,
    make_pki,
)

SERVICE_ISSUER = "DLEGATE Test Root CA"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def service(pki):
    with SignalServer(pki.service_cert, pki.service_key) as server:
        yield server


@pytest.fixture(scope="module")
def inspected(pki):
    with SignalServer(pki.inspected_cert, pki.inspected_key) as server:
        yield server


def direct(server, pki, **kwargs):
    kwargs.setdefault("ca_path", pki.service_ca)
    kwargs.setdefault("timeout", 3)
    return probe.run_signaling_probe(SERVICE_NAME, port=server.port, address="127.0.0.1", **kwargs)


def ids(report):
    return [finding["id"] for finding in report["findings"]]


def test_a_healthy_path(service, pki):
    before = len(service.requests)
    report = direct(service, pki, expected_issuer=SERVICE_ISSUER, spki_pins=[pki.service_pin])
    assert report["findings"] == [] and report["passed"] is True
    assert report["address"] == "127.0.0.1"
    timings = report["timings"]
    assert timings["dns_ms"] is None and timings["proxy_ms"] is None       # address given, no proxy
    assert all(timings[name] is not None and 0 <= timings[name] < 3000
               for name in ("connect_ms", "tls_ms", "http_ms", "ws_ms"))
    assert report["tls"]["validated"] is True and report["tls"]["identity"] == "matched"
    assert report["tls"]["version"].startswith("TLSv1.")
    assert report["certificate"]["issuer_cn"] == SERVICE_ISSUER
    assert report["certificate"]["spki_sha256"] == pki.service_pin
    assert report["http"] == {"status": 200, "status_line": "HTTP/1.1 200 OK"}
    assert report["websocket"] == {"status_line": "HTTP/1.1 101 Switching Protocols", "echoed": True}
    requests = service.requests[before:]
    assert [(method, target) for method, target, headers in requests] == [("GET", "/"), ("GET", "/ws")]
    assert requests[0][2]["host"] == "%s:%d" % (SERVICE_NAME, service.port)


def test_the_client_masks_and_closes(service, pki):
    before = len(service.client_frames)
    direct(service, pki)
    deadline = time.monotonic() + 2
    while len(service.client_frames) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    text, close = service.client_frames[before:before + 2]
    assert text[:2] == (0x1, True) and text[2].startswith(b"dlegate-rtc probe ")
    assert close == (0x8, True, b"\x03\xe8")


def test_names_are_resolved_and_timed(service, pki, monkeypatch):
    real = socket.getaddrinfo
    asked = []

    def getaddrinfo(host, port, *args):
        asked.append(host)
        assert host == SERVICE_NAME
        return real("127.0.0.1", port, *args)

    monkeypatch.setattr(client.socket, "getaddrinfo", getaddrinfo)
    report = probe.run_signaling_probe(SERVICE_NAME, port=service.port, ca_path=pki.service_ca, timeout=3)
    assert report["passed"] is True
    assert report["timings"]["dns_ms"] is not None
    assert set(asked) == {SERVICE_NAME}


def test_websocket_can_be_skipped(service, pki):
    report = direct(service, pki, websocket=False)
    assert report["passed"] is True
    assert report["websocket"] is None and report["timings"]["ws_ms"] is None


def test_host_unresolved(pki, monkeypatch):
    def getaddrinfo(*args):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(client.socket, "getaddrinfo", getaddrinfo)
    report = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, timeout=2)
    assert ids(report) == ["host_unresolved"]
    assert report["tls"] is None and report["passed"] is False


def test_tcp443_blocked(pki):
    port = closed_tcp_port()
    report = probe.run_signaling_probe(SERVICE_NAME, port=port, address="127.0.0.1", ca_path=pki.service_ca,
                                       timeout=2)
    assert ids(report) == ["tcp443_blocked"]
    finding = report["findings"][0]
    assert finding["evidence"] == "127.0.0.1: connect to port %d failed (127.0.0.1: Connection refused)" % port
    assert finding["remediation"].startswith("Check that your firewall allows outbound TCP 443 traffic.")
    assert report["timings"]["connect_ms"] is None


# ---------------------------------------------------------------------------
# TLS: inspection versus an untrusted chain
# ---------------------------------------------------------------------------

def test_inspection_with_a_trusted_inspecting_ca(inspected, pki):
    """The enterprise case: the inspecting CA is in the trust store, so the chain validates; the issuer gives it away."""
    report = direct(inspected, pki, ca_path=pki.both_cas, expected_issuer=SERVICE_ISSUER)
    assert ids(report) == ["tls_inspected"]
    assert report["tls"]["validated"] is True and report["tls"]["identity"] == "mismatched"
    evidence = report["findings"][0]["evidence"]
    assert "issued by CN=Corp TLS Inspection CA,O=Corp,C=DE" in evidence
    assert "expected an issuer matching 'DLEGATE Test Root CA'" in evidence
    assert evidence.endswith("it validates against the CA bundle")
    # HTTPS and the WebSocket were still tried through the inspecting path
    assert report["http"]["status"] == 200 and report["websocket"]["echoed"] is True


def test_inspection_with_an_untrusted_inspecting_ca(inspected, pki):
    report = direct(inspected, pki, expected_issuer=SERVICE_ISSUER)
    assert ids(report) == ["tls_inspected"]
    assert report["tls"]["validated"] is False
    assert report["tls"]["verify_error"] == "unable to get local issuer certificate"
    assert report["certificate"]["issuer_cn"] == "Corp TLS Inspection CA"
    assert "it does not validate either (unable to get local issuer certificate)" in report["findings"][0]["evidence"]


def test_inspection_caught_by_the_spki_pin(inspected, pki):
    report = direct(inspected, pki, ca_path=pki.both_cas, spki_pins=["sha256/" + pki.service_pin])
    assert ids(report) == ["tls_inspected"]
    assert "one of the SPKI pins %s" % pki.service_pin in report["findings"][0]["evidence"]
    assert report["certificate"]["spki_sha256"] == pki.inspected_pin


def test_every_identity_check_must_pass(inspected, pki):
    """A forged issuer name is not enough when a pin is given too."""
    report = direct(inspected, pki, ca_path=pki.both_cas, expected_issuer="Corp", spki_pins=[pki.service_pin])
    assert ids(report) == ["tls_inspected"]
    report = direct(inspected, pki, ca_path=pki.both_cas, expected_issuer="Corp", spki_pins=[pki.inspected_pin])
    assert report["findings"] == [] and report["tls"]["identity"] == "matched"


def test_the_service_certificate_not_validating_is_untrusted(service, pki):
    report = direct(service, pki, ca_path=pki.inspect_ca, expected_issuer=SERVICE_ISSUER)
    assert ids(report) == ["tls_untrusted"]
    assert report["tls"]["identity"] == "matched"
    evidence = report["findings"][0]["evidence"]
    assert evidence.endswith("which does not validate against %s: unable to get local issuer certificate"
                             % pki.inspect_ca)


def test_without_identity_a_failed_validation_is_untrusted(inspected, pki):
    report = direct(inspected, pki)
    assert ids(report) == ["tls_untrusted"]
    assert report["tls"]["identity"] == "unchecked"


def test_a_name_the_certificate_does_not_cover(service, pki):
    report = probe.run_signaling_probe("other.dlegate.test", port=service.port, address="127.0.0.1",
                                       ca_path=pki.service_ca, timeout=3)
    assert ids(report) == ["tls_untrusted"]
    assert "Hostname mismatch" in report["tls"]["verify_error"]


# ---------------------------------------------------------------------------
# Hostile servers: every failure is a finding, every step ends on time
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("behaviour, finding_id, evidence", [
    ("garbage", "tls_failed", "the TLS handshake failed"),
    ("silent", "tls_failed", "the TLS handshake timed out after 0.6 s"),
    ("slow_http", "http_failed", "GET /: no answer within 0.6 s"),
    ("http_garbage", "http_failed", "GET /: not an HTTP status line: 'SSH-2.0-OpenSSH_9.2'"),
    ("forbidden", "http_failed", "GET / answered HTTP/1.1 403 Forbidden"),
    ("wrong_accept", "wss_failed", "WebSocket /ws: wrong Sec-WebSocket-Accept"),
    ("no_upgrade", "wss_failed", "answered HTTP/1.1 426 Upgrade Required instead of 101"),
    ("ws_close", "wss_failed", "the server closed the WebSocket (code 1011, overloaded)"),
    ("ws_masked", "wss_failed", "a masked frame where unmasked ones are expected"),
    ("ws_wrong_echo", "wss_failed", "the echo differs"),
])
def test_hostile_servers(pki, behaviour, finding_id, evidence):
    with SignalServer(pki.service_cert, pki.service_key, behaviour=behaviour) as server:
        start = time.monotonic()
        report = direct(server, pki, timeout=0.6)
        elapsed = time.monotonic() - start
    assert ids(report) == [finding_id]
    assert evidence in report["findings"][0]["evidence"]
    # at most a few steps, each bounded by its own 0.6 s deadline
    assert elapsed < 4 * 0.6 + 1


@pytest.mark.parametrize("behaviour", ["ws_ping", "ws_fragmented"])
def test_servers_that_ping_or_fragment_are_fine(pki, behaviour):
    with SignalServer(pki.service_cert, pki.service_key, behaviour=behaviour) as server:
        report = direct(server, pki)
    assert report["findings"] == [] and report["websocket"]["echoed"] is True


# ---------------------------------------------------------------------------
# Through a CONNECT proxy
# ---------------------------------------------------------------------------

def test_through_a_proxy(service, pki):
    with ConnectProxy({SERVICE_NAME + ":443": ("127.0.0.1", service.port)}) as proxy:
        report = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=proxy.url, timeout=3)
    assert report["passed"] is True, report["findings"]
    assert report["proxy"] == proxy.url
    assert report["proxy_status"] == "HTTP/1.1 200 Connection established"
    assert all(report["timings"][name] is not None for name in ("dns_ms", "connect_ms", "proxy_ms", "tls_ms",
                                                                "http_ms", "ws_ms"))
    # the proxy was asked for the name, once per connection: HTTPS and the WebSocket
    assert proxy.requests == [("CONNECT", SERVICE_NAME + ":443", None)] * 2


def test_the_proxy_refuses(service, pki):
    with ConnectProxy({}) as proxy:
        report = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=proxy.url, timeout=3)
    assert ids(report) == ["proxy_refused"]
    assert report["proxy_status"] == "HTTP/1.1 403 Forbidden"
    assert report["findings"][0]["evidence"] == "proxy %s answered CONNECT %s:443: HTTP/1.1 403 Forbidden" % (
        proxy.url, SERVICE_NAME)


def test_proxy_credentials(service, pki):
    routes = {SERVICE_NAME + ":443": ("127.0.0.1", service.port)}
    with ConnectProxy(routes, credentials="Basic YWxpY2U6czNjcmV0") as proxy:
        refused = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=proxy.url, timeout=3)
        allowed = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=proxy.url, timeout=3,
                                            proxy_username="alice", proxy_password="s3cret")
    assert ids(refused) == ["proxy_refused"]
    assert refused["proxy_status"] == "HTTP/1.1 407 Proxy Authentication Required"
    assert allowed["passed"] is True
    assert proxy.requests[-1] == ("CONNECT", SERVICE_NAME + ":443", "Basic YWxpY2U6czNjcmV0")


def test_a_proxy_that_is_not_http(pki):
    with ConnectProxy({}, behaviour="garbage") as proxy:
        report = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=proxy.url, timeout=2)
    assert ids(report) == ["proxy_refused"]
    assert "the proxy's answer to CONNECT is not HTTP" in report["proxy_status"]


def test_the_proxy_is_unreachable(pki):
    url = "http://127.0.0.1:%d" % closed_tcp_port()
    report = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=url, timeout=2)
    assert ids(report) == ["proxy_unreachable"]
    assert "Connection refused" in report["findings"][0]["evidence"]


def test_inspection_behind_a_proxy(inspected, pki):
    with ConnectProxy({SERVICE_NAME + ":443": ("127.0.0.1", inspected.port)}) as proxy:
        report = probe.run_signaling_probe(SERVICE_NAME, ca_path=pki.service_ca, proxy=proxy.url, timeout=3,
                                           expected_issuer=SERVICE_ISSUER)
    assert ids(report) == ["tls_inspected"]
    # the first handshake failed validation; a second tunnel read the certificate; then HTTPS and the WebSocket
    assert len(proxy.requests) == 3


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    (dict(host=""), "host"),
    (dict(host="bad host"), "host"),
    (dict(port=0), "port"),
    (dict(address="signal"), "address"),
    (dict(path="ws"), "path"),
    (dict(websocket_path="/ws\r\nX: y"), "websocket_path"),
    (dict(ca_path="/nonexistent/ca.pem"), "ca_path"),
    (dict(spki_pins=["sha256/short"]), "spki_pins[0]"),
    (dict(proxy="socks5://proxy:1080"), "proxy"),
    (dict(proxy_username="alice"), "proxy_username"),
    (dict(proxy="http://proxy.test:3128", proxy_password="x"), "proxy_password"),
    (dict(timeout=0), "timeout"),
    (dict(timeout=121), "timeout"),
])
def test_bad_arguments(kwargs, field, monkeypatch):
    monkeypatch.setattr(client, "open_connection", lambda *args: pytest.fail("no connection for bad arguments"))
    kwargs.setdefault("host", SERVICE_NAME)
    with pytest.raises(FieldError) as caught:
        probe.run_signaling_probe(**kwargs)
    assert caught.value.field == field


def test_a_file_that_holds_no_certificate_is_a_bad_ca_path(tmp_path):
    bundle = tmp_path / "empty.pem"
    bundle.write_text("not a certificate\n")
    with pytest.raises(FieldError) as caught:
        probe.run_signaling_probe(SERVICE_NAME, ca_path=str(bundle))
    assert caught.value.field == "ca_path"


@pytest.mark.parametrize("pin", [
    "VPK0I1AuUE6P3HCLdHOFJDubTTo/PJvgcQJXeYRG08g=",
    "sha256/VPK0I1AuUE6P3HCLdHOFJDubTTo/PJvgcQJXeYRG08g=",
    'pin-sha256="VPK0I1AuUE6P3HCLdHOFJDubTTo/PJvgcQJXeYRG08g="',
])
def test_pin_forms(pin):
    assert probe.normalize_pin(pin, "spki_pins[0]") == "VPK0I1AuUE6P3HCLdHOFJDubTTo/PJvgcQJXeYRG08g="


# ---------------------------------------------------------------------------
# The verdict, pure
# ---------------------------------------------------------------------------

CERT = {"issuer": "CN=DLEGATE Test Root CA,O=DLEGATE,C=DE", "issuer_cn": "DLEGATE Test Root CA",
        "spki_sha256": "pin-a"}


@pytest.mark.parametrize("issuer, pins, identity", [
    (None, [], "unchecked"),
    ("dlegate test root ca", [], "matched"),
    ("O=DLEGATE", [], "matched"),
    ("Corp", [], "mismatched"),
    (None, ["pin-a", "pin-b"], "matched"),
    (None, ["pin-b"], "mismatched"),
    ("DLEGATE", ["pin-b"], "mismatched"),
])
def test_identity_check(issuer, pins, identity):
    assert probe.identity_check(CERT, issuer, pins) == identity


def test_an_unreadable_certificate_fails_any_identity_check():
    assert probe.identity_check(None, "DLEGATE", []) == "mismatched"
    assert probe.identity_check(None) == "unchecked"


@pytest.mark.parametrize("validated, identity, verdict", [
    (True, "matched", None), (True, "unchecked", None), (True, "mismatched", "tls_inspected"),
    (False, "mismatched", "tls_inspected"), (False, "matched", "tls_untrusted"), (False, "unchecked", "tls_untrusted"),
])
def test_tls_verdict(validated, identity, verdict):
    assert probe.tls_verdict(validated, identity) == verdict


def test_every_finding_quotes_the_requirements():
    for finding_id, (summary, remediation) in probe.CATALOG.items():
        assert summary and remediation.endswith(".")
    assert set(probe.CATALOG) >= {"tcp443_blocked", "tls_inspected", "tls_untrusted", "http_failed", "wss_failed",
                                  "proxy_refused"}
