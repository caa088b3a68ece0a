# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the shared DNS core.

Resolution runs against a DNS server the tests start on 127.0.0.1 (dns_server.py),
through dnspython's real resolver, or against fake resolver objects; never
against the machine's own resolver.
"""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.message
import dns.name
import dns.resolver
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common import dns as core
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import DnsServer

ZONE = {
    "signal.test": {"A": ["198.18.11.10"], "AAAA": ["2001:db8::10"]},
    "alias.test": {"CNAME": "edge.test"},
    "edge.test": {"CNAME": "signal.test"},
    "loop-a.test": {"CNAME": "loop-b.test"},
    "loop-b.test": {"CNAME": "loop-a.test"},
    "broken.test": {"rcode": "SERVFAIL"},
    "closed.test": {"rcode": "REFUSED"},
    "slow.test": {"drop": True},
    "half.test": {"A": ["198.18.11.11"], "AAAA": "drop"},
    "v4only.test": {"A": ["198.18.11.12"]},
    "nothing.test": {},
    "sink.test": {"A": ["0.0.0.0", "10.66.1.5", "198.18.11.13"], "AAAA": ["::"]},
}


@pytest.fixture(scope="module")
def server():
    with DnsServer(ZONE) as running:
        yield running


def resolve(server, *names, **kwargs):
    kwargs.setdefault("timeout", 2.0)
    return core.resolve_names(list(names), [server.nameserver], **kwargs)


# ---------------------------------------------------------------------------
# special_use_reason / judge_answers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("febf:ffff::1", "link-local"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::fb", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("198.18.11.10", None),
    ("203.0.113.7", None),
    ("2001:db8::10", None),
    ("fec0::1", None),
    ("223.255.255.255", None),
    ("240.0.0.1", None),
    ("1.0.0.0", None),
])
def test_special_use_reason(address, reason):
    assert core.special_use_reason(address) == reason


def test_sinkhole_networks_give_their_range():
    assert core.special_use_reason("10.66.1.5", ["10.66.0.0/16"]) == "sinkhole range 10.66.0.0/16"
    assert core.special_use_reason("10.67.1.5", ["10.66.0.0/16"]) is None
    assert core.special_use_reason("2001:db8:66::1", ["10.66.0.0/16", "2001:db8:66::/48"]) == \
        "sinkhole range 2001:db8:66::/48"
    # host bits are dropped, and the built-in reason wins for special-use space
    assert core.special_use_reason("10.66.1.5", ["10.66.3.4/16"]) == "sinkhole range 10.66.0.0/16"
    assert core.special_use_reason("127.0.0.1", ["127.0.0.0/8"]) == "loopback"


def test_special_use_reason_rejects_what_is_not_an_address():
    with pytest.raises(ParseError):
        core.special_use_reason("signal.test")


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_special_use_reason_agrees_with_ipaddress(ip):
    """ipaddress's own predicates are the oracle, checked independently of the table in the core."""
    plain = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip
    if plain.is_loopback:
        expected = "loopback"
    elif plain.is_unspecified or (plain.version == 4 and int(plain) >> 24 == 0):
        expected = "unspecified"
    elif plain.is_link_local:
        expected = "link-local"
    elif plain.is_multicast:
        expected = "multicast"
    else:
        expected = None
    assert core.special_use_reason(str(ip)) == expected


def test_judge_answers_splits_usable_and_rejected():
    resolution = {"sink.test": {"addresses": ["0.0.0.0", "10.66.1.5", "198.18.11.13", "::"]},
                  "signal.test": {"addresses": ["198.18.11.10"]},
                  "gone.test": {"addresses": []}}
    judged = core.judge_answers(resolution, ["10.66.0.0/16"])
    assert judged["sink.test"] == {"usable": ["198.18.11.13"], "rejected": [
        {"address": "0.0.0.0", "reason": "unspecified"},
        {"address": "10.66.1.5", "reason": "sinkhole range 10.66.0.0/16"},
        {"address": "::", "reason": "unspecified"}]}
    assert judged["signal.test"] == {"usable": ["198.18.11.10"], "rejected": []}
    assert judged["gone.test"] == {"usable": [], "rejected": []}


def test_judge_answers_allow_special_keeps_the_sinkholes():
    resolution = {"lab.test": {"addresses": ["127.0.0.1", "10.66.0.1"]}}
    judged = core.judge_answers(resolution, ["10.66.0.0/16"], allow_special=True)
    assert judged["lab.test"] == {"usable": ["127.0.0.1"],
                                  "rejected": [{"address": "10.66.0.1", "reason": "sinkhole range 10.66.0.0/16"}]}


def test_bad_sinkhole_network_names_its_index():
    with pytest.raises(FieldError) as caught:
        core.judge_answers({}, ["10.0.0.0/8", "10.66.0.0/33"])
    assert caught.value.field == "sinkhole_networks[1]"
    assert core.parse_networks([ipaddress.ip_network("10.0.0.0/8")]) == [ipaddress.ip_network("10.0.0.0/8")]


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("198.18.11.53", ("198.18.11.53", 53)),
    ("198.18.11.53:5353", ("198.18.11.53", 5353)),
    ("2001:db8::53", ("2001:db8::53", 53)),
    ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
    (" 127.0.0.1 ", ("127.0.0.1", 53)),
])
def test_parse_nameserver(text, expected):
    assert core.parse_nameserver(text, "resolvers[0]") == expected


@pytest.mark.parametrize("text", ["dns.test", "198.18.11.53:0", "198.18.11.53:70000", "[2001:db8::53]", "1.2.3",
                                  "[dns.test]:53", 53])
def test_parse_nameserver_rejects(text):
    with pytest.raises(FieldError) as caught:
        core.parse_nameserver(text, "resolvers[3]")
    assert caught.value.field == "resolvers[3]"


@pytest.mark.parametrize("name, expected", [
    ("Signal.DLEGATE.test.", "signal.dlegate.test"),
    ("_sip._tcp.dlegate.test", "_sip._tcp.dlegate.test"),
    ("bücher.test", "xn--bcher-kva.test"),
    ("x" * 63 + ".test", "x" * 63 + ".test"),
])
def test_normalize_name(name, expected):
    assert core.normalize_name(name, "names[0]") == expected


@pytest.mark.parametrize("name", ["", "  ", "198.18.11.10", "2001:db8::1", "a..b", "-a.test", "a-.test",
                                  "x" * 64 + ".test", ".".join(["abcdefgh"] * 30), "sp ace.test", None])
def test_normalize_name_rejects(name):
    with pytest.raises(FieldError) as caught:
        core.normalize_name(name, "names[2]")
    assert caught.value.field == "names[2]"


# ---------------------------------------------------------------------------
# Resolution against the local server
# ---------------------------------------------------------------------------

def test_resolves_a_and_aaaa(server):
    result = resolve(server, "signal.test")["signal.test"]
    assert result["addresses"] == ["198.18.11.10", "2001:db8::10"]
    assert result["error"] is None and result["error_text"] is None
    assert result["cname_chain"] == []
    assert set(result["queries"]) == {"A", "AAAA"}
    assert result["queries"]["A"]["addresses"] == ["198.18.11.10"]
    assert result["queries"]["AAAA"]["addresses"] == ["2001:db8::10"]
    assert result["latency_ms"] == max(query["latency_ms"] for query in result["queries"].values())
    assert 0 <= result["latency_ms"] < 2000


def test_follows_the_cname_chain(server):
    result = resolve(server, "alias.test")["alias.test"]
    assert result["cname_chain"] == ["edge.test", "signal.test"]
    assert result["addresses"] == ["198.18.11.10", "2001:db8::10"]


def test_only_asks_the_name_as_given(server):
    """search=False: a relative name is asked once, as is, for each record type."""
    before = len(server.queries)
    result = resolve(server, "signal")["signal"]
    assert server.queries[before:] == [("signal.", "A"), ("signal.", "AAAA")]
    assert result["error"] == core.NXDOMAIN


def test_record_types_can_be_restricted(server):
    before = len(server.queries)
    result = resolve(server, "signal.test", rdtypes=("AAAA",))["signal.test"]
    assert result["addresses"] == ["2001:db8::10"]
    assert server.queries[before:] == [("signal.test.", "AAAA")]
    with pytest.raises(FieldError):
        resolve(server, "signal.test", rdtypes=("MX",))


@pytest.mark.parametrize("name, kind, text", [
    ("missing.test", core.NXDOMAIN, "A: NXDOMAIN; AAAA: NXDOMAIN"),
    ("broken.test", core.SERVFAIL, "A: 127.0.0.1:{port} answered SERVFAIL; AAAA: 127.0.0.1:{port} answered SERVFAIL"),
    ("closed.test", core.REFUSED, "A: 127.0.0.1:{port} answered REFUSED; AAAA: 127.0.0.1:{port} answered REFUSED"),
    ("nothing.test", core.NO_ANSWER, "no A or AAAA record"),
])
def test_classifies_failures(server, name, kind, text):
    result = resolve(server, name)[name]
    assert result["addresses"] == []
    assert result["error"] == kind
    assert result["error_text"] == text.format(port=server.port)


def test_timeout_is_bounded_and_classified(server):
    result = resolve(server, "slow.test", timeout=0.3)["slow.test"]
    assert result["error"] == core.TIMEOUT
    assert result["error_text"] == "A: timed out; AAAA: timed out"
    # dnspython backs off a little between tries; the bound is the timeout, not seconds more
    assert 250 <= result["queries"]["A"]["latency_ms"] < 1500


def test_a_failing_record_type_next_to_an_answer(server):
    result = resolve(server, "half.test", timeout=0.3)["half.test"]
    assert result["addresses"] == ["198.18.11.11"]
    assert result["error"] is None
    assert result["error_text"] == "AAAA: timed out"
    assert result["queries"]["AAAA"]["error"] == core.TIMEOUT


def test_no_aaaa_is_not_an_error_when_a_answers(server):
    result = resolve(server, "v4only.test")["v4only.test"]
    assert result["addresses"] == ["198.18.11.12"]
    assert result["error"] is None
    assert result["error_text"] == "AAAA: no record"
    assert result["queries"]["AAAA"]["error"] == core.NO_ANSWER


def test_cname_loop_ends(server):
    result = resolve(server, "loop-a.test")["loop-a.test"]
    assert result["addresses"] == []
    assert result["error"] is not None


def test_answers_and_errors_is_the_egress_shape(server):
    resolution = resolve(server, "signal.test", "missing.test", "v4only.test")
    answers, errors = core.answers_and_errors(resolution)
    assert answers == {"signal.test": ["198.18.11.10", "2001:db8::10"], "missing.test": [],
                       "v4only.test": ["198.18.11.12"]}
    assert errors == {"missing.test": "A: NXDOMAIN; AAAA: NXDOMAIN"}


def test_sinkhole_answers_are_judged(server):
    resolution = resolve(server, "sink.test")
    judged = core.judge_answers(resolution, ["10.66.0.0/16"])["sink.test"]
    assert judged["usable"] == ["198.18.11.13"]
    # an rrset's records come in no particular order
    assert dict((entry["address"], entry["reason"]) for entry in judged["rejected"]) == {
        "0.0.0.0": "unspecified", "10.66.1.5": "sinkhole range 10.66.0.0/16", "::": "unspecified"}


# ---------------------------------------------------------------------------
# The resolver: built from the host's configuration or from nameservers; injectable
# ---------------------------------------------------------------------------

def test_make_resolver_uses_only_the_given_nameservers():
    resolver = core.make_resolver(["127.0.0.1:5353", "[::1]:53"], timeout=1.5)
    assert [str(ns) for ns in resolver.nameservers] in (["127.0.0.1", "::1"],
                                                        ["Do53:127.0.0.1@5353", "Do53:::1@53"])
    assert resolver.nameserver_ports == {"127.0.0.1": 5353, "::1": 53}
    assert resolver.timeout == resolver.lifetime == 1.5


def test_make_resolver_reports_a_host_without_configuration(monkeypatch):
    def no_configuration(configure=True):
        assert configure
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(dns.resolver, "Resolver", no_configuration)
    with pytest.raises(core.ResolverUnavailable, match="cannot read the host's resolver configuration"):
        core.resolve_names(["signal.test"])


def test_bad_nameserver_is_a_field_error():
    with pytest.raises(FieldError) as caught:
        core.resolve_names(["signal.test"], ["127.0.0.1", "dns.test"])
    assert caught.value.field == "nameservers[1]"


def no_nameservers(*errors):
    return dns.resolver.NoNameservers(request=dns.message.make_query("signal.test", "A"), errors=list(errors))


class RaisingResolver:
    def __init__(self, exc):
        self.exc = exc
        self.calls = []

    def resolve(self, name, rdtype, search=None):
        self.calls.append((name, rdtype, search))
        raise self.exc


@pytest.mark.parametrize("exc, kind", [
    (dns.resolver.YXDOMAIN(), core.OTHER_ERROR),
    (dns.exception.Timeout(), core.TIMEOUT),
    (dns.resolver.LifetimeTimeout(timeout=1.0, errors=[]), core.TIMEOUT),
    (dns.name.EmptyLabel(), core.INVALID_NAME),
    (no_nameservers(("198.18.11.53", False, 53, OSError(101, "Network is unreachable"), None)), core.UNREACHABLE),
    (no_nameservers(("198.18.11.53", False, 53, "SERVFAIL", None), ("198.18.11.54", False, 53, "REFUSED", None)),
     core.SERVFAIL),
    (no_nameservers(("198.18.11.53", False, 53, "REFUSED", None)), core.REFUSED),
    (no_nameservers(("198.18.11.53", False, 53, dns.exception.Timeout(), None)), core.TIMEOUT),
    (no_nameservers(("198.18.11.53", False, 53, dns.exception.FormError("bad"), None)), core.OTHER_ERROR),
    (no_nameservers(), core.OTHER_ERROR),
    (RuntimeError("boom"), core.OTHER_ERROR),
])
def test_injected_resolver_failures_are_classified(exc, kind):
    fake = RaisingResolver(exc)
    seen = []
    result = core.resolve_names(["signal.test"], ["198.18.11.53"], timeout=3.0,
                                resolver_factory=lambda servers, timeout: seen.append((servers, timeout)) or fake)
    assert seen == [(["198.18.11.53"], 3.0)]
    assert fake.calls == [("signal.test", "A", False), ("signal.test", "AAAA", False)]
    assert result["signal.test"]["error"] == kind
    assert result["signal.test"]["addresses"] == []


def test_server_errors_text():
    kind, text = core.classify_server_errors([
        ("Do53:198.18.11.53@53", False, 53, "SERVFAIL", None),
        ("Do53:2001:db8::53@5353", False, 5353, OSError(101, "Network is unreachable"), None)])
    assert kind == core.SERVFAIL
    assert text == ("198.18.11.53 answered SERVFAIL; "
                    "[2001:db8::53]:5353 answered OSError [Errno 101] Network is unreachable")


# ---------------------------------------------------------------------------
# cname_chain, pure
# ---------------------------------------------------------------------------

def test_cname_chain_is_case_and_dot_insensitive():
    targets = {"Alias.Test.": "edge.test.", "edge.test": "SIGNAL.test."}
    assert core.cname_chain("alias.test.", targets) == ["edge.test", "signal.test"]
    assert core.cname_chain("signal.test", targets) == []


names = st.sampled_from(["n%d.test" % index for index in range(24)])


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(names, names), names)
def test_cname_chain_follows_targets_and_always_ends(targets, start):
    chain = core.cname_chain(start, targets)
    assert len(chain) <= core.MAX_CNAME_CHAIN
    previous = start
    for name in chain:
        assert targets[previous] == name
        previous = name
    # it stops only at a name without alias, at a loop, or at the length limit
    assert (previous not in targets or previous in [start] + chain[:-1] or targets[previous] in [start] + chain
            or len(chain) == core.MAX_CNAME_CHAIN)
