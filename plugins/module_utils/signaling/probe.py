# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signalling check: TCP 443, TLS (and inspection), HTTPS and a secure WebSocket echo.

:func:`run_signaling_probe` walks the path a client takes to the signalling
service, directly or through an HTTP proxy with CONNECT, times every step and
turns every failure into a finding with a stable id. It never raises for a
network failure; bad arguments raise FieldError.

TLS is judged twice. *Validation*: does the chain validate for the host name
against the CA bundle? *Identity*: is the certificate the service's, by its
issuer (``expected_issuer``) or its SPKI pin (``spki_pins``)? A certificate
that is not the service's means TLS inspection (``tls_inspected``), whether
or not the inspecting CA is trusted; the service's certificate that does not
validate is ``tls_untrusted``. When validation fails, the handshake is done
again without validation to read the certificate.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common.dns import normalize_name
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.findings import make_finding, passed
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import client, der, http

MAX_TIMEOUT = 120.0
TIMINGS = ("dns_ms", "connect_ms", "proxy_ms", "tls_ms", "http_ms", "ws_ms")
PIN_FORMS = re.compile(r'^(?:pin-sha256="(?P<hpkp>[^"]*)"|sha256/(?P<prefixed>\S*)|(?P<bare>\S+))$')

# The requirements page's words, quoted where a remediation rests on them.
TCP_443 = "Check that your firewall allows outbound TCP 443 traffic."
SIGNALING = "Secure control and signaling needs HTTPS and secure WebSockets over the standard HTTPS port (TCP 443)."
ALLOWLIST = ("In corporate environments, allowlisting relevant domains or ranges may be required to ensure "
             "connectivity through firewall and proxy devices.")
PROXIES = "Proxies must support secure WebSockets and TLS inspection if enabled."

CATALOG = {
    "host_unresolved": (
        "The signalling host's name does not resolve",
        "Confirm that DNS resolution is working for relevant domains used by the communication service "
        "(run dlegate.rtc.dns_probe for the details)."),
    "tcp443_blocked": (
        "No TCP connection to the signalling service",
        TCP_443 + " " + SIGNALING + " " + ALLOWLIST),
    "proxy_unreachable": (
        "The proxy cannot be reached",
        "Check the proxy's address and port and that this host may reach it; " + ALLOWLIST),
    "proxy_refused": (
        "The proxy refused the tunnel to the signalling service",
        "The proxy must allow CONNECT to the service's domains on TCP 443. " + ALLOWLIST + " " + PROXIES),
    "tls_failed": (
        "The TLS handshake with the signalling service failed",
        SIGNALING + " A firewall, DPI device or proxy that resets or answers TLS itself on TCP 443 breaks it; "
        + ALLOWLIST),
    "tls_inspected": (
        "TLS to the signalling service is inspected: the certificate is not the service's",
        PROXIES + " TLS inspection breaks pinned secure WebSockets: exempt the service's domains from "
        "inspection (bypass) on the proxy or firewall."),
    "tls_untrusted": (
        "The signalling service's certificate does not validate",
        "The certificate chain does not validate for the host name against the CA bundle: give the CA bundle "
        "that holds the service's CA (ca_path), keep the host's CA store current, and check the name."),
    "http_failed": (
        "HTTPS requests to the signalling service fail",
        SIGNALING + " " + PROXIES + " " + ALLOWLIST),
    "wss_failed": (
        "The secure WebSocket to the signalling service fails",
        SIGNALING + " " + PROXIES + " Proxies and firewalls must pass the WebSocket upgrade (101 Switching "
        "Protocols) and the frames that follow."),
}


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def normalize_pin(pin, field):
    """An SPKI pin as base64 of 32 bytes; ``sha256/...`` and ``pin-sha256="..."`` forms are accepted."""
    match = PIN_FORMS.match(pin.strip()) if isinstance(pin, str) else None
    value = match and (match.group("hpkp") or match.group("prefixed") or match.group("bare"))
    try:
        digest = base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise FieldError(field, "must be the base64 SHA-256 of a SubjectPublicKeyInfo (44 characters), not %r" % (pin,))
    return base64.b64encode(digest).decode("ascii")


def normalize_target(host, field="host"):
    """A host to reach: an IP address as is, a DNS name normalised."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return normalize_name(host, field)


def normalize_signaling(host, port=443, address=None, path="/", websocket_path="/ws", websocket=True,
                        ca_path=None, expected_issuer=None, spki_pins=(), proxy=None, proxy_username=None,
                        proxy_password=None, timeout=10.0):
    """Validate the probe's arguments (FieldError) and return them normalised."""
    if not isinstance(host, str) or not host.strip():
        raise FieldError("host", "must be the signalling service's DNS name")
    probe = {"host": normalize_target(host.strip()), "port": port, "path": http.validate_path(path, "path"),
             "websocket_path": http.validate_path(websocket_path, "websocket_path"), "websocket": bool(websocket),
             "ca_path": ca_path or None, "expected_issuer": (expected_issuer or "").strip() or None,
             "spki_pins": [normalize_pin(pin, "spki_pins[%d]" % index) for index, pin in enumerate(spki_pins or ())],
             "proxy": None, "authorization": None, "timeout": float(timeout), "address": None}
    if not 0 < port < 65536:
        raise FieldError("port", "must be 1-65535")
    if address:
        try:
            probe["address"] = str(ipaddress.ip_address(address))
        except ValueError:
            raise FieldError("address", "must be an IP address, not %r" % address)
    if ca_path and not os.path.exists(ca_path):
        raise FieldError("ca_path", "%s does not exist" % ca_path)
    if proxy:
        probe["proxy"] = http.parse_proxy_url(proxy, "proxy")
        if proxy_username:
            probe["authorization"] = http.basic_credentials(proxy_username, proxy_password)
    if proxy_password and not proxy_username:
        raise FieldError("proxy_password", "needs proxy_username")
    if (proxy_username or proxy_password) and not proxy:
        raise FieldError("proxy_username", "needs proxy")
    if not 0 < probe["timeout"] <= MAX_TIMEOUT:
        raise FieldError("timeout", "must be more than 0 and at most %d seconds" % MAX_TIMEOUT)
    return probe


# ---------------------------------------------------------------------------
# Judging the certificate
# ---------------------------------------------------------------------------

def issuer_matches(certificate, expected_issuer):
    """``expected_issuer`` is the issuer's CN or a part of its RFC 4514 name, in any case."""
    expected = expected_issuer.lower()
    return expected == (certificate.get("issuer_cn") or "").lower() or expected in certificate["issuer"].lower()


def identity_check(certificate, expected_issuer=None, spki_pins=()):
    """``matched``, ``mismatched`` (every given check must pass) or ``unchecked`` (nothing to check against)."""
    if not expected_issuer and not spki_pins:
        return "unchecked"
    if certificate is None:
        return "mismatched"
    if expected_issuer and not issuer_matches(certificate, expected_issuer):
        return "mismatched"
    if spki_pins and certificate["spki_sha256"] not in spki_pins:
        return "mismatched"
    return "matched"


def tls_verdict(validated, identity):
    """The finding id TLS earns, or None: inspection first, then an untrusted chain."""
    if identity == "mismatched":
        return "tls_inspected"
    if not validated:
        return "tls_untrusted"
    return None


def describe_certificate(certificate):
    if certificate is None:
        return "an unreadable certificate"
    return "the certificate of %s issued by %s (SPKI sha256/%s)" % (
        certificate["subject"] or "an empty subject", certificate["issuer"] or "an empty issuer",
        certificate["spki_sha256"])


def tls_evidence(verdict, tls, certificate, probe):
    seen = "%s sent %s" % (tls["server_name"], describe_certificate(certificate))
    if verdict == "tls_inspected":
        expected = []
        if probe["expected_issuer"]:
            expected.append("an issuer matching %r" % probe["expected_issuer"])
        if probe["spki_pins"]:
            expected.append("one of the SPKI pins %s" % ", ".join(probe["spki_pins"]))
        trust = "it validates against the CA bundle" if tls["validated"] else "it does not validate either (%s)" \
            % tls["verify_error"]
        return "%s; expected %s; %s" % (seen, " and ".join(expected), trust)
    where = probe["ca_path"] or "the system's CA store"
    return "%s, which does not validate against %s: %s" % (seen, where, tls["verify_error"])


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

class Run:
    """One probe's state: the report under construction and the findings."""

    def __init__(self, probe):
        self.probe = probe
        proxy = "http://%s" % http.host_header(probe["proxy"][0], probe["proxy"][1], None) if probe["proxy"] else None
        self.report = {"host": probe["host"], "port": probe["port"], "proxy": proxy, "address": None,
                       "timings": dict((name, None) for name in TIMINGS), "proxy_status": None,
                       "certificate": None, "tls": None, "http": None, "websocket": None, "findings": []}

    def finding(self, finding_id, evidence, **context):
        self.report["findings"].append(make_finding(CATALOG, finding_id, "error", evidence, **context))

    def deadline(self):
        return client.Deadline(self.probe["timeout"])


def run_signaling_probe(host, port=443, address=None, path="/", websocket_path="/ws", websocket=True,
                        ca_path=None, expected_issuer=None, spki_pins=(), proxy=None, proxy_username=None,
                        proxy_password=None, timeout=10.0):
    """Probe the signalling path and return the report (see the module's RETURN for its shape)."""
    probe = normalize_signaling(host, port, address, path, websocket_path, websocket, ca_path, expected_issuer,
                                spki_pins, proxy, proxy_username, proxy_password, timeout)
    verified = client.tls_context(probe["ca_path"], verify=True)
    run = Run(probe)
    connection = open_path(run, timed=True)
    if connection is not None:
        connection, context = handshake(run, connection, verified)
    if connection is not None:
        https_check(run, connection)
        if probe["websocket"]:
            websocket_check(run, context)
    run.report["passed"] = passed(run.report["findings"])
    return run.report


def open_path(run, timed=False):
    """A connection that reaches host:port, directly or through the proxy's tunnel; None after a finding."""
    probe, report = run.probe, run.report
    if probe["proxy"]:
        return open_tunnel(run, timed)
    try:
        connection, dns_ms, connect_ms = client.open_connection(probe["host"], probe["port"], run.deadline(),
                                                                probe["address"])
    except client.ResolveError as exc:
        run.finding("host_unresolved", str(exc))
        return None
    except client.StepError as exc:
        run.finding("tcp443_blocked", "%s: %s" % (probe["address"] or probe["host"], exc))
        return None
    if timed:
        report["address"] = connection.address
        report["timings"].update(dns_ms=dns_ms, connect_ms=connect_ms)
    return connection


def open_tunnel(run, timed):
    probe, report = run.probe, run.report
    proxy_host, proxy_port = probe["proxy"]
    try:
        connection, dns_ms, connect_ms = client.open_connection(proxy_host, proxy_port, run.deadline())
    except client.StepError as exc:
        run.finding("proxy_unreachable", "proxy %s: %s" % (report["proxy"], exc))
        return None
    watch = client.Stopwatch()
    try:
        status = client.tunnel(connection, probe["address"] or probe["host"], probe["port"], run.deadline(),
                               probe["authorization"])
    except client.ProxyRefused as exc:
        connection.close()
        report["proxy_status"] = str(exc)
        run.finding("proxy_refused", "proxy %s answered CONNECT %s: %s" % (
            report["proxy"], http.host_header(probe["address"] or probe["host"], probe["port"], None), exc))
        return None
    except client.StepError as exc:
        connection.close()
        run.finding("proxy_refused", "proxy %s: %s" % (report["proxy"], exc))
        return None
    if timed:
        report["address"] = connection.address
        report["proxy_status"] = status
        report["timings"].update(dns_ms=dns_ms, connect_ms=connect_ms, proxy_ms=watch.ms())
    return connection


def handshake(run, connection, verified):
    """TLS with validation; when validation fails, again without it to read the certificate.

    Returns (Connection, the context that worked), or (None, None) after a finding.
    """
    probe, report = run.probe, run.report
    server_name = probe["host"]
    tls = {"server_name": server_name, "validated": True, "verify_error": None, "version": None, "cipher": None,
           "identity": None, "certificate_error": None}
    report["tls"] = tls
    watch = client.Stopwatch()
    context = verified
    try:
        secure = client.start_tls(connection, verified, server_name, run.deadline())
    except client.CertificateRejected as exc:
        tls.update(validated=False, verify_error=exc.reason)
        secure, context = reopen_unverified(run)
    except client.StepError as exc:
        run.finding("tls_failed", "TLS with %s: %s" % (server_name, exc))
        return None, None
    if secure is None:
        return None, None
    report["timings"]["tls_ms"] = watch.ms()
    tls.update(version=secure.sock.version(), cipher=(secure.sock.cipher() or [None])[0])
    certificate = read_certificate(run, secure)
    tls["identity"] = identity_check(certificate, probe["expected_issuer"], probe["spki_pins"])
    verdict = tls_verdict(tls["validated"], tls["identity"])
    if verdict:
        run.finding(verdict, tls_evidence(verdict, tls, certificate, probe))
    return secure, context


def reopen_unverified(run):
    """A second connection whose handshake accepts any certificate, only to read it."""
    connection = open_path(run)
    if connection is None:
        return None, None
    context = client.tls_context(verify=False)
    try:
        return client.start_tls(connection, context, run.probe["host"], run.deadline()), context
    except client.StepError as exc:
        run.finding("tls_failed", "TLS with %s (certificate not validated): %s" % (run.probe["host"], exc))
        return None, None


def read_certificate(run, secure):
    try:
        certificate = der.parse_certificate(client.peer_certificate(secure) or b"")
    except ParseError as exc:
        run.report["tls"]["certificate_error"] = str(exc)
        return None
    run.report["certificate"] = certificate
    return certificate


def https_check(run, connection):
    probe = run.probe
    host = http.host_header(probe["host"], probe["port"])
    watch = client.Stopwatch()
    try:
        response = client.http_get(connection, probe["path"], host, run.deadline())
    except (client.StepError, ParseError) as exc:
        run.finding("http_failed", "GET %s: %s" % (probe["path"], exc))
        return
    finally:
        connection.close()
    run.report["timings"]["http_ms"] = watch.ms()
    run.report["http"] = {"status": response.status, "status_line": http.status_line(response)}
    if response.status >= 400:
        run.finding("http_failed", "GET %s answered %s" % (probe["path"], http.status_line(response)))


def websocket_check(run, context):
    """A new connection, the upgrade and an echo; only the upgrade and the echo are timed (ws_ms)."""
    probe = run.probe
    connection = open_path(run)
    if connection is None:
        return
    try:
        secure = client.start_tls(connection, context, probe["host"], run.deadline())
    except client.StepError as exc:
        run.finding("wss_failed", "TLS for the WebSocket: %s" % exc)
        return
    text = "dlegate-rtc probe %s" % binascii.hexlify(os.urandom(8)).decode("ascii")
    host = http.host_header(probe["host"], probe["port"])
    watch = client.Stopwatch()
    try:
        response = client.websocket_echo(secure, probe["websocket_path"], host, text, run.deadline())
    except (client.StepError, ParseError) as exc:
        run.finding("wss_failed", "WebSocket %s: %s" % (probe["websocket_path"], exc))
        return
    finally:
        secure.close()
    run.report["timings"]["ws_ms"] = watch.ms()
    run.report["websocket"] = {"status_line": http.status_line(response), "echoed": True}
