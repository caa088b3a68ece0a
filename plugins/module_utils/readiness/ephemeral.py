# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reachability of the media servers' ephemeral UDP range, sampled with a UDP echo.

Media flows to the media servers on UDP 3478 *and higher ephemeral ports*, so a
firewall that opens 3478 alone still breaks direct media. :func:`probe_ephemeral`
sends a datagram to each of N ports spread over the range, on every server, and
waits for it to come back from a UDP echo listening there. Each datagram carries
a random token, its port and its transmission number, so an answer is matched to
the very transmission it echoes (a round-trip time without retransmission
ambiguity). Unanswered ports are retransmitted on the STUN schedule (RFC 8489:
0, RTO, 3 RTO...) up to ``attempts`` times, all within one deadline.

Like the STUN probes, a network failure is a result with findings, never an
exception; only bad arguments raise FieldError (:func:`normalize_ephemeral`).
"""

from __future__ import annotations

import os
import selectors
import socket
import struct
import time

from ansible_collections.dlegate.rtc.plugins.module_utils.common.addresses import parse_port
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.findings import make_finding, passed
from ansible_collections.dlegate.rtc.plugins.module_utils.common.quality import rtt_stats
from ansible_collections.dlegate.rtc.plugins.module_utils.common.validation import integer, short
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import (
    MAX_TRANSMISSIONS,
    RTO,
    transmission_schedule,
    validate_timeout,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import (
    Deadline,
    ProbeError,
    Target,
    network_error,
    resolve,
)

MAGIC = b"DLEP"
TOKEN_LENGTH = 8
PROBE = struct.Struct("!4s8sHB")  # magic, token, port, transmission number
MAX_SAMPLES = 64
MAX_ANSWER = 2048

UDP_PORTS = "Verify that UDP ports (such as 3478 and ephemeral UDP range) are permitted."
CATALOG = {
    "ephemeral_udp_blocked": (
        "Sampled ports of the media servers' ephemeral UDP range do not answer",
        UDP_PORTS + " Media transport uses UDP 3478 and higher ephemeral UDP ports: allow outbound UDP to the "
        "media servers' whole ephemeral range (not only 3478) in every firewall on the path. Until then media "
        "can only be relayed through the TURN server."),
    "ephemeral_unresolved": (
        "A media server's name does not resolve",
        "Confirm that DNS resolution is working for relevant domains used by the communication service "
        "(run dlegate.rtc.dns_probe for the details)."),
}


def sample_ports(low, high, count):
    """``count`` ports spread evenly over ``low``-``high``, both ends included (all of them when fewer)."""
    size = high - low + 1
    count = min(count, size)
    if count == 1:
        return [low]
    return [low + index * (size - 1) // (count - 1) for index in range(count)]


def normalize_ephemeral(servers, port_range, sample_range=None, samples=10, timeout=3.0, attempts=3, prefix=""):
    """Validate the check's arguments (FieldError, field names after ``prefix``); return them normalised.

    ``port_range`` is the media servers' ephemeral range; ``sample_range``, the
    part of it where an echo listens (the whole range when not given)."""
    if not isinstance(servers, list) or not servers:
        raise FieldError(prefix + "servers", "give at least one media server (a host name or an IP address)")
    for index, server in enumerate(servers):
        if not isinstance(server, str) or not server.strip() or any(c.isspace() for c in server.strip()):
            raise FieldError("%sservers[%d]" % (prefix, index), "%s is not a host name or an IP address" % short(server))
    media = parse_port(port_range, prefix + "port_range")
    sampled = parse_port(sample_range or port_range, prefix + "sample_range")
    if not media[0] <= sampled[0] <= sampled[1] <= media[1]:
        raise FieldError(prefix + "sample_range", "%d-%d must lie inside the port range %d-%d"
                         % (sampled + media))
    integer(samples, prefix + "samples", 1, MAX_SAMPLES)
    integer(attempts, prefix + "attempts", 1, MAX_TRANSMISSIONS)
    validate_timeout(timeout, prefix + "timeout")
    unique = []
    for server in servers:
        if server.strip() not in unique:
            unique.append(server.strip())
    return {"servers": unique, "port_range": list(media), "sample_range": list(sampled),
            "ports": sample_ports(sampled[0], sampled[1], samples), "timeout": float(timeout), "attempts": attempts}


class PortProbe(object):
    """One sampled port of one server: its connected socket and what came back."""

    def __init__(self, port, sock, token):
        self.port = port
        self.sock = sock
        self.token = token
        self.sent_at = []
        self.rtt_ms = None
        self.refused = False
        self.error = None

    @property
    def done(self):
        return self.rtt_ms is not None or self.refused or self.error is not None

    def send(self):
        payload = PROBE.pack(MAGIC, self.token, self.port, len(self.sent_at))
        self.sent_at.append(time.monotonic())
        try:
            self.sock.send(payload)
        except ConnectionRefusedError:  # the ICMP port unreachable of an earlier transmission
            self.refused = True
        except OSError as exc:
            self.error = network_error(exc, "sending to port %d" % self.port).detail

    def receive(self):
        try:
            data = self.sock.recv(MAX_ANSWER)
        except ConnectionRefusedError:
            self.refused = True
            return
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.error = network_error(exc, "receiving from port %d" % self.port).detail
            return
        transmission = self.transmission_echoed(data)
        if transmission is not None:
            self.rtt_ms = (time.monotonic() - self.sent_at[transmission]) * 1000.0

    def transmission_echoed(self, data):
        """The number of the transmission ``data`` echoes, or None for anything else."""
        if len(data) != PROBE.size:
            return None
        magic, token, port, transmission = PROBE.unpack(data)
        if magic != MAGIC or token != self.token or port != self.port or transmission >= len(self.sent_at):
            return None
        return transmission

    def close(self):
        self.sock.close()


def open_probes(server, ports, token):
    """(address, [PortProbe]) for one server: one connected, non-blocking UDP socket per port.

    The server's name is resolved once; ProbeError when it does not resolve."""
    family, sockaddr = resolve(Target(server, ports[0], "udp"))
    probes = []
    for port in ports:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)
        probe = PortProbe(port, sock, token)
        try:
            sock.connect((sockaddr[0], port) + tuple(sockaddr[2:]))
        except OSError as exc:
            probe.error = network_error(exc, "connecting to port %d" % port).detail
        probes.append(probe)
    return sockaddr[0], probes


def exchange(probes, deadline, attempts, rto):
    """Send every unanswered probe on the retransmission schedule; read answers until all are done
    or the deadline passes."""
    selector = selectors.DefaultSelector()
    pending = [probe for probe in probes if not probe.done]
    for probe in pending:
        selector.register(probe.sock, selectors.EVENT_READ, probe)
    schedule = transmission_schedule(time.monotonic(), rto, deadline.at)[:attempts]
    transmissions = 0
    try:
        while pending and not deadline.expired():
            if transmissions < len(schedule) and time.monotonic() >= schedule[transmissions]:
                for probe in pending:
                    probe.send()
                transmissions += 1
            else:
                until = schedule[transmissions] if transmissions < len(schedule) else deadline.at
                for key, _events in selector.select(max(min(until, deadline.at) - time.monotonic(), 0.0)):
                    key.data.receive()
            for probe in [probe for probe in pending if probe.done]:
                selector.unregister(probe.sock)
                pending.remove(probe)
    finally:
        selector.close()


def probe_ephemeral(servers, ports, port_range, timeout=3.0, attempts=3, rto=RTO):
    """Sample ``ports`` on every server; ``port_range`` ([low, high]) is only reported.

    Returns ``{"port_range", "sampled_ports", "servers": [per server], "sampled",
    "answered", "findings", "passed"}``; per server: ``server``, ``address``,
    ``answered``, ``silent``, ``refused`` (ICMP port unreachable), ``rtt_ms``
    and ``error``/``error_detail`` when the server could not be probed at all."""
    deadline = Deadline(timeout)
    token = os.urandom(TOKEN_LENGTH)
    reports, probes = [], []
    for server in servers:
        report = {"server": server, "address": None, "answered": [], "silent": [], "refused": [],
                  "rtt_ms": rtt_stats([]), "error": None, "error_detail": None}
        try:
            report["address"], report["probes"] = open_probes(server, ports, token)
            probes.extend(report["probes"])
        except ProbeError as exc:
            report.update(error=exc.code, error_detail=exc.detail, probes=[])
        reports.append(report)
    try:
        exchange(probes, deadline, attempts, rto)
    finally:
        for probe in probes:
            probe.close()
    for report in reports:
        summarize_server(report, report.pop("probes"))
    findings = [finding for report in reports for finding in server_findings(report, port_range)]
    return {"port_range": "%d-%d" % tuple(port_range), "sampled_ports": list(ports), "servers": reports,
            "sampled": len(ports) * len(servers),
            "answered": sum(len(report["answered"]) for report in reports),
            "findings": findings, "passed": passed(findings)}


def summarize_server(report, probes):
    report["answered"] = [probe.port for probe in probes if probe.rtt_ms is not None]
    report["refused"] = [probe.port for probe in probes if probe.rtt_ms is None and probe.refused]
    report["silent"] = [probe.port for probe in probes if probe.rtt_ms is None and not probe.refused]
    report["rtt_ms"] = rtt_stats([probe.rtt_ms for probe in probes if probe.rtt_ms is not None])
    errors = [probe.error for probe in probes if probe.error and probe.rtt_ms is None]
    if errors and not report["error_detail"]:
        report["error_detail"] = errors[0]


def server_findings(report, port_range):
    """``ephemeral_unresolved``, or ``ephemeral_udp_blocked``: an error when no sampled port answered,
    a warning when only some did."""
    where = report["server"]
    if report["address"] and report["address"] != report["server"]:
        where += " (%s)" % report["address"]
    if report["error"]:
        return [make_finding(CATALOG, "ephemeral_unresolved", "error", "%s: %s" % (where, report["error_detail"]),
                             server=report["server"])]
    unanswered = sorted(report["silent"] + report["refused"])
    if not unanswered:
        return []
    total = len(report["answered"]) + len(unanswered)
    parts = ["%s: %d of %d sampled UDP ports of the media range %d-%d answered"
             % (where, len(report["answered"]), total, port_range[0], port_range[1])]
    if report["silent"]:
        parts.append("no answer from %s" % port_list(report["silent"]))
    if report["refused"]:
        parts.append("refused (ICMP port unreachable): %s" % port_list(report["refused"]))
    if report["error_detail"]:
        parts.append(report["error_detail"])
    evidence = "; ".join(parts)
    severity = "warning" if report["answered"] else "error"
    return [make_finding(CATALOG, "ephemeral_udp_blocked", severity, evidence, server=report["server"],
                         answered=len(report["answered"]), sampled=total)]


def port_list(ports, shown=8):
    if not ports:
        return "none"
    text = ", ".join(str(port) for port in ports[:shown])
    return text + (" and %d more" % (len(ports) - shown) if len(ports) > shown else "")
