# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The findings of the STUN and TURN probes, in the collection's shared finding shape.

:func:`binding_findings` and :func:`allocate_findings` turn a probe result
into findings with stable ids; quality numbers (loss, RTT, jitter) are data
for the readiness verdict to judge against its thresholds, not findings here.
"""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.findings import make_finding, passed
from ansible_collections.dlegate.rtc.plugins.module_utils.stun import transport as net

# The requirements page's words, quoted where a remediation rests on them.
UDP_PORTS = ("Verify that UDP ports (such as 3478 and ephemeral UDP range) are permitted: firewalls that block "
             "outbound UDP traffic can prevent media transport.")
TCP_FALLBACK = ("Check that your firewall allows outbound TCP 443 traffic: when direct UDP media transport is "
                "blocked, encrypted transport over TCP (TLS) should be permitted.")
ALLOWLIST = ("In corporate environments, allowlisting relevant domains or ranges may be required to ensure "
             "connectivity through firewall and proxy devices.")
DNS = ("Confirm that DNS resolution is working for relevant domains used by the communication service "
       "(run dlegate.rtc.dns_probe for the details).")

BLOCKED_ERRORS = (net.TIMEOUT, net.CONNECTION_REFUSED, net.UNREACHABLE, net.CONNECTION_CLOSED, net.NETWORK_ERROR)
AUTH_CODES = (401, 441)
QUOTA_CODES = (486, 508)


def _catalog_for(kind, name):
    """The findings of reaching a STUN (kind ``stun``) or TURN (``turn``) server, one per cause."""
    return {
        kind + "_unresolved": ("The %s server's name does not resolve" % name, DNS),
        kind + "_udp_blocked": ("No %s answer over UDP" % name, UDP_PORTS + " " + ALLOWLIST),
        kind + "_tcp_blocked": ("No %s answer over TCP" % name, TCP_FALLBACK + " " + ALLOWLIST),
        kind + "_tls_blocked": ("No %s answer over TLS" % name, TCP_FALLBACK + " " + ALLOWLIST),
        kind + "_tls_failed": (
            "The TLS handshake with the %s server failed" % name,
            "A firewall, DPI device or proxy that resets or answers TLS itself breaks it. " + TCP_FALLBACK),
        kind + "_tls_untrusted": (
            "The %s server's certificate does not validate" % name,
            "A TLS-inspecting proxy presents its own certificate: exempt the service's domains from inspection. "
            "Otherwise give the CA bundle that holds the service's CA (ca_path) and check the server name."),
        kind + "_malformed": (
            "The answers to %s are not valid STUN" % name,
            "Something other than the %s server answers on its address and port: a proxy, DPI device or "
            "captive portal. Allow the traffic to the service unchanged. " % name + ALLOWLIST),
    }


CATALOG = dict(_catalog_for("stun", "STUN"), **_catalog_for("turn", "TURN"))
CATALOG.update({
    "stun_error_response": (
        "The STUN server refused the Binding request",
        "The server answered with a STUN error: check that the address and port are the service's STUN server."),
    "turn_auth_failed": (
        "The TURN server refused the credentials",
        "STUN working while TURN does not is almost always credentials or realm: check the user name and "
        "password, or the REST secret and the host's clock (REST user names carry an expiry time)."),
    "turn_quota": (
        "The TURN server has no allocation to give",
        "The server's allocation quota or capacity is exhausted (486/508): ask the service operator, and "
        "check for clients that do not free their allocations."),
    "turn_refused": (
        "The TURN server refused the allocation",
        "The server answered the Allocate request with an error: check the address, port and transport "
        "against the service's TURN configuration."),
    "turn_relay_failed": (
        "Media through the TURN relay does not come back",
        "The relay path loses every packet or the server refuses the permission: " + UDP_PORTS
        + " The relay range of the TURN server (its ephemeral UDP ports) must be reachable."),
    "turn_not_freed": (
        "The TURN allocation could not be freed",
        "The allocation expires by itself after its lifetime; nothing to do unless this repeats."),
})


def _where(result):
    address = result.get("server_address") or result["server"]
    return "%s %s:%d (%s)" % (result["transport"], address, result["port"], result["server"])


def reach_findings(kind, result):
    """The finding of a failure to get valid answers from the server, or none."""
    error = result["error"]
    evidence = "%s: %s" % (_where(result), result.get("error_detail"))
    finding_id = {
        net.RESOLVE_FAILED: "_unresolved", net.CERTIFICATE_INVALID: "_tls_untrusted",
        net.TLS_FAILED: "_tls_failed", net.MALFORMED_RESPONSE: "_malformed",
    }.get(error)
    if finding_id is None and error in BLOCKED_ERRORS:
        finding_id = "_%s_blocked" % result["transport"]
    if finding_id is None:
        return []
    return [make_finding(CATALOG, kind + finding_id, "error", evidence, server=result["server"],
                         transport=result["transport"])]


def error_response_finding(finding_id, result):
    evidence = "%s answered %s %s" % (_where(result), result["error_code"], result["error_reason"])
    return make_finding(CATALOG, finding_id, "error", evidence, server=result["server"],
                        transport=result["transport"], error_code=result["error_code"])


def binding_findings(result):
    """Findings of a Binding or a quality train."""
    if result["error"] == "binding_failed":
        return [error_response_finding("stun_error_response", result)]
    return reach_findings("stun", result)


def allocate_findings(result):
    """Findings of a TURN allocation, its relay test and its freeing."""
    if result["error"] == "allocate_failed":
        code = result["error_code"]
        finding_id = "turn_auth_failed" if code in AUTH_CODES else "turn_quota" if code in QUOTA_CODES \
            else "turn_refused"
        return [error_response_finding(finding_id, result)]
    findings = reach_findings("turn", result)
    if result["allocated"] and not result["freed"]:
        findings.append(make_finding(CATALOG, "turn_not_freed", "warning",
                                     "%s: the Refresh with LIFETIME 0 was not confirmed" % _where(result),
                                     server=result["server"], transport=result["transport"]))
    relay = result.get("relay")
    if relay and (relay["error"] or not relay["received"]):
        detail = relay["error_detail"] or "%d packets sent to %s:%d through the relay, none came back" % (
            relay["sent"], relay["peer_address"], relay["peer_port"])
        findings.append(make_finding(CATALOG, "turn_relay_failed", "error", "%s: %s" % (_where(result), detail),
                                     server=result["server"], transport=result["transport"]))
    return findings


def with_findings(result, findings):
    """The result with its ``findings`` and ``passed`` (no finding of severity error)."""
    result["findings"] = findings
    result["passed"] = passed(findings)
    return result
