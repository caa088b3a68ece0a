# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses, networks, DNS names and ports: parsing and canonical forms."""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.validation import MAX_TOKEN, short

PORT_SPEC = re.compile(r"\s*([0-9]{1,5})\s*(?:-\s*([0-9]{1,5})\s*)?")
DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
LOOKS_NUMERIC = re.compile(r"[0-9.]+")
PORT_HINT = "use an integer 1-65535 or a string 'LOW-HIGH'"


def network(text):
    """An IPv4/IPv6 address or CIDR, strict about host bits; ValueError otherwise."""
    return ipaddress.ip_network(text.strip(), strict=True)


def network_field(entry, field):
    if not isinstance(entry, str) or len(entry) > 2 * MAX_TOKEN:
        raise FieldError(field, "%s is not a valid IPv4/IPv6 address or CIDR" % short(entry))
    try:
        return network(entry)
    except ValueError as exc:
        raise FieldError(field, "%s is not a valid IPv4/IPv6 address or CIDR (%s)" % (short(entry), exc))


def networks_field(entries, field):
    return [network_field(entry, "%s[%d]" % (field, i)) for i, entry in enumerate(entries)]


def address_field(entry, field):
    try:
        return str(ipaddress.ip_address(str(entry).strip()))
    except ValueError:
        raise FieldError(field, "%s is not an IPv4/IPv6 address" % short(entry))


def is_dns_name(text):
    name = text.rstrip(".")
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(DNS_LABEL.fullmatch(label) for label in labels) \
        and not labels[-1].isdigit()


def destination(entry, field):
    """An address/CIDR entry as ('network', ip_network) or a DNS name as ('name', name)."""
    if not isinstance(entry, str) or not entry.strip() or len(entry) > 255:
        raise FieldError(field, "%s is not an IPv4/IPv6 address, a CIDR or a DNS name" % short(entry))
    text = entry.strip().lower()
    if "/" in text or ":" in text or LOOKS_NUMERIC.fullmatch(text):
        return ("network", network_field(text, field))
    if "*" in text:
        raise FieldError(field, "%s: wildcard names cannot be resolved; list the names or their networks" % short(entry))
    if not is_dns_name(text):
        raise FieldError(field, "%s is neither an IPv4/IPv6 address, a CIDR nor a valid DNS name" % short(entry))
    return ("name", text.rstrip("."))


def merge_intervals(intervals):
    """Sorted (lo, hi) integer intervals with overlapping and adjacent ones joined."""
    merged = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return merged


def address_text(net):
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def interval(net):
    return (int(net.network_address), int(net.broadcast_address))


def canonical_elements(intervals, version):
    """The canonical element list of an interval set: merged, as the fewest CIDRs."""
    address = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    elements = []
    for lo, hi in merge_intervals(intervals):
        elements.extend(address_text(n) for n in ipaddress.summarize_address_range(address(lo), address(hi)))
    return elements


def networks_to_elements(networks, version):
    """Collapse networks of one IP version into canonical set elements."""
    return canonical_elements([interval(n) for n in networks if n.version == version], version)


def canonical_ports(ranges):
    """Merged [lo, hi] port ranges, sorted."""
    return merge_intervals(ranges)


def port_specs(ranges):
    """Port ranges back in argument form: 443 or '49152-65535'."""
    return [lo if lo == hi else "%d-%d" % (lo, hi) for lo, hi in ranges]


def parse_port(value, field):
    """One port spec (443, "3478", "49152-65535") as a (lo, hi) tuple."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(field, "%s is not a port; %s" % (short(value), PORT_HINT))
    text = str(value) if isinstance(value, str) else "%d" % value if -10 ** 6 < value < 10 ** 6 else ""
    match = PORT_SPEC.fullmatch(text) if len(text) <= 32 else None
    if not match:
        raise FieldError(field, "%s is not a port; %s" % (short(value), PORT_HINT))
    lo = int(match.group(1))
    hi = int(match.group(2)) if match.group(2) is not None else lo
    for port in (lo, hi):
        if not 1 <= port <= 65535:
            raise FieldError(field, "%s: port %d is out of range; ports are 1-65535" % (short(value), port))
    if lo > hi:
        raise FieldError(field, "%s is an inverted range; LOW must not exceed HIGH" % short(value))
    return (lo, hi)


def port_list(value, field):
    """A non-empty list of port specs as canonical ranges."""
    if not isinstance(value, list) or not value:
        raise FieldError(field, "must be a non-empty list of ports (443) or ranges ('49152-65535')")
    return canonical_ports([parse_port(port, "%s[%d]" % (field, i)) for i, port in enumerate(value)])
