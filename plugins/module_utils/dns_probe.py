# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core of the dlegate.rtc.dns_probe module: every service name through every resolver, judged.

:func:`run_dns_probe` resolves the names through the host's resolver and
through each given resolver alone, judges the answers (special-use and
sinkhole addresses) and turns every failure into a finding with a stable id.
The readiness verdict calls it the same way the module does.
"""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.dns import (
    ADDRESS_TYPES,
    INVALID_NAME,
    NO_ANSWER,
    NXDOMAIN,
    OTHER_ERROR,
    REFUSED,
    SERVFAIL,
    TIMEOUT,
    UNREACHABLE,
    ResolverUnavailable,
    judge_answers,
    normalize_name,
    parse_nameserver,
    parse_networks,
    resolve_names,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.findings import make_finding, passed

SYSTEM_RESOLVER = "system"
MAX_TIMEOUT = 60.0

# The requirements page's troubleshooting tip, and its rule for domains.
CHECK_DNS = "Confirm that DNS resolution is working for relevant domains used by the communication service."
DOMAINS_UNRESTRICTED = ("Domains used by the communication backend must be reachable without restrictions in DNS "
                        "and firewall settings.")

CATALOG = {
    "dns_nxdomain": (
        "The resolver says the service domain does not exist",
        CHECK_DNS + " The resolver answered NXDOMAIN: check the name, an internal zone that shadows the public one "
        "(split DNS), and DNS filtering that answers NXDOMAIN for blocked domains. " + DOMAINS_UNRESTRICTED),
    "dns_servfail": (
        "The resolver failed to resolve the service domain",
        CHECK_DNS + " SERVFAIL means the resolver got no usable answer upstream: check its forwarders, its reach "
        "to the internet's name servers, and DNSSEC validation failures."),
    "dns_timeout": (
        "The resolver did not answer in time",
        CHECK_DNS + " Check that the resolver is reachable from this host (UDP and TCP port 53 through every "
        "firewall on the path) and that it reaches its upstream servers."),
    "dns_refused": (
        "The resolver refused the query",
        CHECK_DNS + " The resolver does not serve this host or this name: allow the host's network in the "
        "resolver's recursion ACL, or use the site's resolver."),
    "dns_no_address": (
        "The service domain has no address record",
        CHECK_DNS + " The name exists but has no A or AAAA record: check the zone, and filters that strip address "
        "records."),
    "dns_sinkhole": (
        "The resolver answers with an address that cannot be the service",
        CHECK_DNS + " The answer is a special-use or sinkhole address, the kind a DNS security or content filter "
        "returns for blocked domains. " + DOMAINS_UNRESTRICTED + " Allowlist the service's domains in the filter."),
    "dns_error": (
        "The service domain could not be resolved",
        CHECK_DNS + " The resolver could not be asked (network unreachable, malformed answer): check the host's "
        "route to the resolver and the resolver itself."),
    "dns_no_resolver": (
        "The host has no usable resolver",
        CHECK_DNS + " The host has no usable resolver configuration (/etc/resolv.conf on Linux): configure the "
        "site's resolver."),
}

FINDING_OF_ERROR = {
    NXDOMAIN: "dns_nxdomain",
    SERVFAIL: "dns_servfail",
    TIMEOUT: "dns_timeout",
    REFUSED: "dns_refused",
    NO_ANSWER: "dns_no_address",
    UNREACHABLE: "dns_error",
    INVALID_NAME: "dns_error",
    OTHER_ERROR: "dns_error",
}


def normalize_probe(names, resolvers=(), system_resolver=True, rdtypes=ADDRESS_TYPES, timeout=5.0,
                    sinkhole_networks=()):
    """Validate the probe's arguments (FieldError on bad input) and return them normalised."""
    if not names:
        raise FieldError("names", "give at least one service domain")
    plain_names = []
    for index, name in enumerate(names):
        plain = normalize_name(name, "names[%d]" % index)
        if plain not in plain_names:
            plain_names.append(plain)
    for index, resolver in enumerate(resolvers):
        parse_nameserver(resolver, "resolvers[%d]" % index)
    if not system_resolver and not resolvers:
        raise FieldError("resolvers", "no resolver to ask: give resolvers or enable system_resolver")
    if not rdtypes or any(rdtype not in ADDRESS_TYPES for rdtype in rdtypes):
        raise FieldError("record_types", "must be a non-empty list of %s" % " and ".join(ADDRESS_TYPES))
    if not 0 < timeout <= MAX_TIMEOUT:
        raise FieldError("timeout", "must be more than 0 and at most %d seconds" % MAX_TIMEOUT)
    return {"names": plain_names, "resolvers": _unique(resolvers), "system_resolver": system_resolver,
            "rdtypes": _unique(rdtypes), "timeout": float(timeout),
            "sinkhole_networks": parse_networks(sinkhole_networks)}


def _unique(items):
    unique = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique


def resolver_targets(system_resolver, resolvers):
    """[(label, nameservers)]: the host's resolver, then each given resolver alone."""
    targets = [(SYSTEM_RESOLVER, [])] if system_resolver else []
    return targets + [(resolver, [resolver]) for resolver in resolvers]


def run_dns_probe(names, resolvers=(), system_resolver=True, rdtypes=ADDRESS_TYPES, timeout=5.0,
                  sinkhole_networks=(), allow_special_use=False, resolver_factory=None):
    """Resolve every name through every resolver and judge the answers.

    Returns ``{"results": {resolver: {name: result}}, "findings": [...], "passed": bool}``;
    ``resolver`` is ``"system"`` or the resolver as given. A result is
    :func:`~common.dns.resolve_names`'s, plus ``usable`` and ``rejected`` from
    :func:`~common.dns.judge_answers`. Raises FieldError on bad arguments.
    """
    probe = normalize_probe(names, resolvers, system_resolver, rdtypes, timeout, sinkhole_networks)
    results, findings = {}, []
    for label, nameservers in resolver_targets(probe["system_resolver"], probe["resolvers"]):
        try:
            resolution = resolve_names(probe["names"], nameservers, probe["timeout"], probe["rdtypes"],
                                       resolver_factory)
        except ResolverUnavailable as exc:
            results[label] = {}
            findings.append(make_finding(CATALOG, "dns_no_resolver", "error", str(exc), resolver=label))
            continue
        judged = judge_answers(resolution, probe["sinkhole_networks"], allow_special_use)
        results[label] = {}
        for name in probe["names"]:
            results[label][name] = dict(resolution[name], **judged[name])
            findings.extend(name_findings(label, name, results[label][name]))
    return {"results": results, "findings": findings, "passed": passed(findings)}


def name_findings(resolver, name, result):
    """The findings of one name at one resolver; ``result`` carries ``usable`` and ``rejected``."""
    where = "%s resolver" % resolver if resolver == SYSTEM_RESOLVER else "resolver %s" % resolver
    if result["error"]:
        evidence = "%s: %s" % (where, result["error_text"])
        return [make_finding(CATALOG, FINDING_OF_ERROR[result["error"]], "error", evidence, name=name, resolver=resolver)]
    findings = _partial_failures(where, resolver, name, result)
    if result["rejected"]:
        rejected = ", ".join("%s (%s)" % (entry["address"], entry["reason"]) for entry in result["rejected"])
        evidence = "%s answered %s" % (where, rejected)
        if result["usable"]:
            evidence += "; usable: %s" % ", ".join(result["usable"])
        severity = "warning" if result["usable"] else "error"
        findings.append(make_finding(CATALOG, "dns_sinkhole", severity, evidence, name=name, resolver=resolver))
    return findings


def _partial_failures(where, resolver, name, result):
    """A record type the resolver failed on while another answered: a warning (clients wait for it).

    NXDOMAIN or no record for one type next to an answer for another is no
    finding: it only says the name has no address of that family (dnsmasq's
    ``address=/name/IPv4`` answers AAAA with NXDOMAIN, for one).
    """
    findings = []
    for rdtype, query in result["queries"].items():
        if query["error"] not in (None, NO_ANSWER, NXDOMAIN):
            evidence = "%s: %s: %s, while %s answered" % (
                where, rdtype, query["error_text"], ", ".join(result["addresses"]))
            findings.append(make_finding(CATALOG, FINDING_OF_ERROR[query["error"]], "warning", evidence,
                                         name=name, resolver=resolver))
    return findings
