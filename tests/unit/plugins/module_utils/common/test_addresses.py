# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of addresses, networks, DNS names and ports."""

from __future__ import annotations

import ipaddress
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common import addresses
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError


def refused(function, *args):
    with pytest.raises(FieldError) as error:
        function(*args)
    return error.value


# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (443, (443, 443)), ("3478", (3478, 3478)), ("49152-65535", (49152, 65535)), (" 440 - 442 ", (440, 442)),
    (1, (1, 1)), (65535, (65535, 65535)), ("1-65535", (1, 65535)), ("00443", (443, 443)),
])
def test_port_specs_that_are_allowed(value, expected):
    assert addresses.parse_port(value, "config.rules[0].ports[0]") == expected


@pytest.mark.parametrize("value, words", [
    (0, "port 0 is out of range; ports are 1-65535"),
    (65536, "port 65536 is out of range"),
    ("0-10", "port 0 is out of range"),
    ("3478-70000", "port 70000 is out of range"),
    ("5000-4000", "'5000-4000' is an inverted range; LOW must not exceed HIGH"),
    ("http", "is not a port; use an integer 1-65535 or a string 'LOW-HIGH'"),
    ("443,444", "is not a port"),
    ("-443", "is not a port"),
    ("443-", "is not a port"),
    ("", "is not a port"),
    ("123456", "is not a port"),
    (-1, "is not a port"),
    (True, "is not a port"),
    (4.5, "is not a port"),
    (None, "is not a port"),
    ([443], "is not a port"),
])
def test_port_specs_that_are_refused_name_the_field(value, words):
    error = refused(addresses.parse_port, value, "config.rules[0].ports[0]")
    assert error.field == "config.rules[0].ports[0]"
    assert words in error.message


@pytest.mark.parametrize("value", ["9" * 5000, "1" * 5000 + "-2", "443-" + "7" * 5000, 10 ** 5000, -10 ** 5000],
                         ids=["digits", "low-digits", "high-digits", "integer", "negative-integer"])
def test_a_huge_port_is_refused_at_once_with_a_short_message(value):
    started = time.monotonic()
    error = refused(addresses.parse_port, value, "config.rules[0].ports[0]")
    assert time.monotonic() - started < 0.5
    assert error.field == "config.rules[0].ports[0]" and "is not a port" in error.message
    assert len(error.message) < 200


def test_port_list_merges_and_names_each_entry():
    assert addresses.port_list(["49152-65535", 3479, "3478", " 440 - 442 ", 443, 444], "ports") == \
        [[440, 444], [3478, 3479], [49152, 65535]]
    assert refused(addresses.port_list, [443, "3478", 0], "config.rules[1].ports").field == "config.rules[1].ports[2]"
    for value in ([], None, 443, "443"):
        error = refused(addresses.port_list, value, "config.rules[1].ports")
        assert error.field == "config.rules[1].ports" and "non-empty list" in error.message


def test_port_specs_back_in_argument_form():
    assert addresses.port_specs([[443, 443], [3478, 3479]]) == [443, "3478-3479"]
    assert addresses.canonical_ports([(5, 9), (1, 3), (4, 4), (20, 30)]) == [[1, 9], [20, 30]]


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.integers(), st.text(max_size=14), st.text(alphabet="0123456789- ", max_size=14)))
def test_any_port_value_is_a_valid_range_or_a_field_error(value):
    try:
        lo, hi = addresses.parse_port(value, "ports[0]")
    except FieldError as error:
        assert error.field == "ports[0]"
    else:
        assert 1 <= lo <= hi <= 65535


# ---------------------------------------------------------------------------
# Networks and addresses
# ---------------------------------------------------------------------------

def test_network_is_strict_about_host_bits():
    assert addresses.network(" 10.0.0.0/8 ") == ipaddress.ip_network("10.0.0.0/8")
    assert addresses.network("2001:db8::1") == ipaddress.ip_network("2001:db8::1/128")
    with pytest.raises(ValueError):
        addresses.network("10.0.0.1/8")


@pytest.mark.parametrize("entry, words", [
    ("10.0.0.0/33", "not a valid IPv4/IPv6 address or CIDR"),
    ("10.0.0.1/24", "has host bits set"),
    ("300.1.2.3", "not a valid"),
    ("2001:db8::g", "not a valid"),
    ("10.0.0.0/8\n/8", "not a valid"),
    (None, "not a valid"),
    ("1" * 500, "not a valid"),
])
def test_a_malformed_cidr_names_its_field(entry, words):
    error = refused(addresses.networks_field, ["192.0.2.0/24", entry], "config.source_networks")
    assert error.field == "config.source_networks[1]"
    assert words in error.message and len(error.message) < 300


def test_address_field():
    assert addresses.address_field(" 192.0.2.53 ", "nameservers[0]") == "192.0.2.53"
    assert addresses.address_field("2001:DB8::53", "nameservers[0]") == "2001:db8::53"
    for entry in ("dns.example", "192.0.2.0/24", "", None):
        error = refused(addresses.address_field, entry, "nameservers[0]")
        assert error.field == "nameservers[0]" and "is not an IPv4/IPv6 address" in error.message


@pytest.mark.parametrize("name, valid", [
    ("turn.dlegate.example", True), ("turn.dlegate.example.", True), ("a-b.example", True), ("x1.example", True),
    ("localhost", False), ("turn_server.example", False), ("-a.example", False), ("a-.example", False),
    ("a..example", False), ("1.2.3.4", False), ("a.123", False), ("a." + "b" * 64 + ".example", False),
    (".".join(["abcdefgh"] * 30), False), ("turn.example\n", False), ("Turn.Example", False),
])
def test_is_dns_name(name, valid):
    assert addresses.is_dns_name(name) is valid


@pytest.mark.parametrize("entry, expected", [
    ("198.51.100.7", ("network", ipaddress.ip_network("198.51.100.7/32"))),
    (" 198.51.100.0/24 ", ("network", ipaddress.ip_network("198.51.100.0/24"))),
    ("2001:DB8::/32", ("network", ipaddress.ip_network("2001:db8::/32"))),
    ("TURN.dlegate.example.", ("name", "turn.dlegate.example")),
])
def test_destination_sorts_networks_from_names(entry, expected):
    assert addresses.destination(entry, "config.destinations.media[0]") == expected


@pytest.mark.parametrize("entry, words", [
    ("*.dlegate.example", "wildcard names cannot be resolved"),
    ("turn_server.example", "neither an IPv4/IPv6 address, a CIDR nor a valid DNS name"),
    ("localhost", "valid DNS name"),
    ("media\n", "valid DNS name"),
    ("300.1.2.3", "not a valid IPv4/IPv6 address or CIDR"),
    ("10.0.0.1/24", "host bits"),
    ("", "not an IPv4/IPv6 address, a CIDR or a DNS name"),
    ("   ", "not an IPv4/IPv6 address, a CIDR or a DNS name"),
    ("a" * 256, "not an IPv4/IPv6 address, a CIDR or a DNS name"),
    (42, "not an IPv4/IPv6 address, a CIDR or a DNS name"),
])
def test_destination_refusals_name_the_field(entry, words):
    error = refused(addresses.destination, entry, "config.destinations.media[3]")
    assert error.field == "config.destinations.media[3]" and words in error.message


# ---------------------------------------------------------------------------
# Canonical set elements
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("entries, elements", [
    (["10.0.0.0/25", "10.0.0.128/25"], ["10.0.0.0/24"]),
    (["10.0.0.0/24", "10.0.0.5"], ["10.0.0.0/24"]),
    (["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]),
    (["10.0.0.2", "10.0.0.3", "10.0.0.1"], ["10.0.0.1", "10.0.0.2/31"]),
    (["10.0.1.0/24", "10.0.0.0/24", "10.0.2.0/23"], ["10.0.0.0/22"]),
    (["0.0.0.0/0", "10.0.0.0/8"], ["0.0.0.0/0"]),
    ([], []),
])
def test_overlapping_and_adjacent_networks_are_merged(entries, elements):
    networks = [ipaddress.ip_network(entry) for entry in entries + ["2001:db8::1"]]
    assert addresses.networks_to_elements(networks, 4) == elements


def test_ipv6_networks_are_collapsed_and_kept_apart_from_ipv4():
    networks = [ipaddress.ip_network(n) for n in ("2001:db8::/33", "2001:db8:8000::/33", "2001:db8::1", "192.0.2.1")]
    assert addresses.networks_to_elements(networks, 6) == ["2001:db8::/32"]
    assert addresses.networks_to_elements(networks, 4) == ["192.0.2.1"]


def test_merge_intervals_joins_overlapping_and_adjacent():
    assert addresses.merge_intervals([(5, 6), (1, 2), (3, 4), (10, 12), (11, 20)]) == [[1, 6], [10, 20]]
    assert addresses.merge_intervals([]) == []


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(0, 32)), max_size=6))
def test_canonical_elements_cover_exactly_the_same_addresses(pairs):
    networks = [ipaddress.ip_network((address, length), strict=False) for address, length in pairs]
    elements = [ipaddress.ip_network(e) for e in addresses.networks_to_elements(networks, 4)]
    covered = addresses.merge_intervals(addresses.interval(n) for n in networks)
    assert addresses.merge_intervals(addresses.interval(e) for e in elements) == covered
    # canonical: no two elements overlap or could be merged into one CIDR
    assert list(ipaddress.collapse_addresses(elements)) == sorted(elements)
