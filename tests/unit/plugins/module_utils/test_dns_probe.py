# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the dns_probe core, against DNS servers started on 127.0.0.1 by the tests."""

from __future__ import annotations

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils import dns_probe as core
from ansible_collections.dlegate.rtc.plugins.module_utils.common import dns as dns_core
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import DnsServer

SITE_ZONE = {
    "signal.dlegate.test": {"CNAME": "edge.dlegate.test"},
    "edge.dlegate.test": {"A": ["198.18.11.10"]},
    "turn.dlegate.test": {"A": ["198.18.11.20"], "AAAA": "drop"},
    "media.dlegate.test": {"A": ["10.66.0.1"]},
    "api.dlegate.test": {"rcode": "SERVFAIL"},
    # dnsmasq's address=/name/IPv4 (the lab's resolver) answers AAAA with NXDOMAIN
    "lab.dlegate.test": {"A": ["198.18.11.30"], "AAAA": "NXDOMAIN"},
    "flaky.dlegate.test": {"A": ["198.18.11.31"], "AAAA": "SERVFAIL"},
}
FILTERED_ZONE = {
    "signal.dlegate.test": {"A": ["0.0.0.0"]},
    "turn.dlegate.test": {"A": ["198.18.11.20", "127.0.0.1"]},
}


@pytest.fixture(scope="module")
def servers():
    with DnsServer(SITE_ZONE) as site, DnsServer(FILTERED_ZONE) as filtered:
        yield site, filtered


def by_id(findings):
    return dict(((finding["id"], finding["name"], finding["resolver"]), finding) for finding in findings)


def test_every_name_through_every_resolver(servers):
    site, filtered = servers
    probe = core.run_dns_probe(["signal.dlegate.test", "turn.dlegate.test"], resolvers=[site.nameserver,
                               filtered.nameserver], system_resolver=False, timeout=0.3)
    assert list(probe["results"]) == [site.nameserver, filtered.nameserver]
    signal = probe["results"][site.nameserver]["signal.dlegate.test"]
    assert signal["addresses"] == signal["usable"] == ["198.18.11.10"]
    assert signal["cname_chain"] == ["edge.dlegate.test"]
    assert signal["rejected"] == []

    findings = by_id(probe["findings"])
    # no AAAA record next to an A answer is no finding
    assert set(findings) == {
        ("dns_timeout", "turn.dlegate.test", site.nameserver),
        ("dns_sinkhole", "signal.dlegate.test", filtered.nameserver),
        ("dns_sinkhole", "turn.dlegate.test", filtered.nameserver),
    }
    # AAAA timing out while A answers only warns
    timeout = findings[("dns_timeout", "turn.dlegate.test", site.nameserver)]
    assert timeout["severity"] == "warning"
    assert timeout["evidence"] == "resolver %s: AAAA: timed out, while 198.18.11.20 answered" % site.nameserver
    # a name whose only answer is a sinkhole is an error; one with a usable answer too only warns
    sinkholed = findings[("dns_sinkhole", "signal.dlegate.test", filtered.nameserver)]
    assert sinkholed["severity"] == "error"
    assert sinkholed["evidence"] == "resolver %s answered 0.0.0.0 (unspecified)" % filtered.nameserver
    partly = findings[("dns_sinkhole", "turn.dlegate.test", filtered.nameserver)]
    assert partly["severity"] == "warning"
    assert partly["evidence"] == ("resolver %s answered 127.0.0.1 (loopback); usable: 198.18.11.20"
                                  % filtered.nameserver)
    assert probe["passed"] is False


def test_failures_become_findings_with_the_troubleshooting_tip(servers):
    site = servers[0]
    probe = core.run_dns_probe(["missing.dlegate.test", "api.dlegate.test", "media.dlegate.test"],
                               resolvers=[site.nameserver], system_resolver=False, rdtypes=["A"],
                               sinkhole_networks=["10.66.0.0/16"])
    findings = probe["findings"]
    assert [(finding["id"], finding["name"], finding["severity"]) for finding in findings] == [
        ("dns_nxdomain", "missing.dlegate.test", "error"),
        ("dns_servfail", "api.dlegate.test", "error"),
        ("dns_sinkhole", "media.dlegate.test", "error"),
    ]
    for finding in findings:
        assert finding["remediation"].startswith(core.CHECK_DNS)
        assert finding["summary"] == core.CATALOG[finding["id"]][0]
        assert finding["resolver"] == site.nameserver
    assert findings[0]["evidence"] == "resolver %s: A: NXDOMAIN" % site.nameserver
    assert findings[2]["evidence"] == "resolver %s answered 10.66.0.1 (sinkhole range 10.66.0.0/16)" % site.nameserver
    assert probe["passed"] is False


def test_one_record_type_failing_beside_an_answer(servers):
    site = servers[0]
    probe = core.run_dns_probe(["lab.dlegate.test", "flaky.dlegate.test"], resolvers=[site.nameserver],
                               system_resolver=False)
    results = probe["results"][site.nameserver]
    assert results["lab.dlegate.test"]["usable"] == ["198.18.11.30"]
    assert results["lab.dlegate.test"]["queries"]["AAAA"]["error"] == "nxdomain"
    # NXDOMAIN for AAAA only says there is no IPv6 address; SERVFAIL makes clients wait: a warning
    assert [(f["id"], f["severity"], f["name"]) for f in probe["findings"]] == [
        ("dns_servfail", "warning", "flaky.dlegate.test")]
    assert probe["passed"] is True


def test_a_clean_probe_passes(servers):
    site = servers[0]
    probe = core.run_dns_probe(["signal.dlegate.test", "SIGNAL.dlegate.test."], resolvers=[site.nameserver],
                               system_resolver=False, rdtypes=["A"])
    assert probe == {"results": {site.nameserver: {"signal.dlegate.test": probe["results"][site.nameserver][
        "signal.dlegate.test"]}}, "findings": [], "passed": True}
    assert probe["results"][site.nameserver]["signal.dlegate.test"]["usable"] == ["198.18.11.10"]


def test_the_system_resolver_is_asked_with_no_nameservers(servers, monkeypatch):
    site = servers[0]
    asked = []

    def factory(nameservers, timeout):
        asked.append(list(nameservers))
        return dns_core.make_resolver(nameservers or [site.nameserver], timeout)

    probe = core.run_dns_probe(["edge.dlegate.test"], resolvers=[site.nameserver], resolver_factory=factory)
    assert asked == [[], [site.nameserver]]
    assert list(probe["results"]) == ["system", site.nameserver]
    assert probe["results"]["system"]["edge.dlegate.test"]["usable"] == ["198.18.11.10"]
    assert probe["findings"] == []


def test_a_host_without_resolver_is_a_finding(servers):
    site = servers[0]

    def factory(nameservers, timeout):
        if not nameservers:
            raise dns_core.ResolverUnavailable("cannot read the host's resolver configuration: no nameservers")
        return dns_core.make_resolver(nameservers, timeout)

    probe = core.run_dns_probe(["edge.dlegate.test"], resolvers=[site.nameserver], rdtypes=["A"],
                               resolver_factory=factory)
    assert probe["results"]["system"] == {}
    assert probe["results"][site.nameserver]["edge.dlegate.test"]["usable"] == ["198.18.11.10"]
    assert [(f["id"], f["severity"], f["resolver"], f["evidence"]) for f in probe["findings"]] == [
        ("dns_no_resolver", "error", "system", "cannot read the host's resolver configuration: no nameservers")]


def test_allow_special_use(servers):
    filtered = servers[1]
    probe = core.run_dns_probe(["turn.dlegate.test"], resolvers=[filtered.nameserver], system_resolver=False,
                               rdtypes=["A"], allow_special_use=True)
    assert probe["findings"] == []
    assert sorted(probe["results"][filtered.nameserver]["turn.dlegate.test"]["usable"]) == ["127.0.0.1",
                                                                                            "198.18.11.20"]


@pytest.mark.parametrize("kwargs, field", [
    (dict(names=[]), "names"),
    (dict(names=["signal.test", "198.18.11.10"]), "names[1]"),
    (dict(names=["signal.test"], resolvers=["127.0.0.1", "resolver.test"]), "resolvers[1]"),
    (dict(names=["signal.test"], system_resolver=False), "resolvers"),
    (dict(names=["signal.test"], rdtypes=["MX"]), "record_types"),
    (dict(names=["signal.test"], rdtypes=[]), "record_types"),
    (dict(names=["signal.test"], timeout=0), "timeout"),
    (dict(names=["signal.test"], timeout=61), "timeout"),
    (dict(names=["signal.test"], sinkhole_networks=["10.66.0.0/99"]), "sinkhole_networks[0]"),
])
def test_bad_arguments_name_their_field(kwargs, field):
    def never(nameservers, timeout):
        raise AssertionError("nothing may be resolved for bad arguments")

    with pytest.raises(FieldError) as caught:
        core.run_dns_probe(resolver_factory=never, **kwargs)
    assert caught.value.field == field


def test_normalize_probe_removes_duplicates():
    probe = core.normalize_probe(["A.test", "a.test.", "b.test"], ["127.0.0.1", "127.0.0.1"], rdtypes=["A", "A"])
    assert probe["names"] == ["a.test", "b.test"]
    assert probe["resolvers"] == ["127.0.0.1"]
    assert probe["rdtypes"] == ["A"]


@pytest.mark.parametrize("kind, finding_id", sorted(core.FINDING_OF_ERROR.items()))
def test_every_error_kind_has_a_finding(kind, finding_id):
    result = {"addresses": [], "usable": [], "rejected": [], "error": kind, "error_text": "A: %s" % kind,
              "queries": {}}
    findings = core.name_findings("system", "signal.test", result)
    assert [(f["id"], f["severity"], f["evidence"]) for f in findings] == [
        (finding_id, "error", "system resolver: A: %s" % kind)]
    assert set(core.FINDING_OF_ERROR) == set(dns_core.ERROR_KINDS)
