# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the dlegate.rtc.dns_probe module: main() against a DNS server the test starts on 127.0.0.1."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.plugins.module_utils.common import dns as dns_core
from ansible_collections.dlegate.rtc.plugins.modules import dns_probe
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import DnsServer

ZONE = {"signal.dlegate.test": {"A": ["198.18.11.10"]}, "turn.dlegate.test": {"A": ["10.66.0.9"]}}


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def module_exits(monkeypatch):
    def exit_json(module, **result):
        raise Exited(result)

    def fail_json(module, msg, **result):
        raise Failed(dict(result, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


@pytest.fixture(scope="module")
def server():
    with DnsServer(ZONE) as running:
        yield running


def run(args, outcome=Exited):
    with patch_module_args(args):
        with pytest.raises(outcome) as caught:
            dns_probe.main()
    return caught.value.result


def test_reports_results_and_findings(module_exits, server):
    result = run({"names": ["signal.dlegate.test", "turn.dlegate.test", "gone.dlegate.test"],
                  "system_resolver": False, "resolvers": [server.nameserver], "record_types": ["A"],
                  "sinkhole_networks": ["10.66.0.0/16"], "timeout": 2})
    assert result["changed"] is False
    answers = result["results"][server.nameserver]
    assert answers["signal.dlegate.test"]["usable"] == ["198.18.11.10"]
    assert [(f["id"], f["name"]) for f in result["findings"]] == [("dns_sinkhole", "turn.dlegate.test"),
                                                                  ("dns_nxdomain", "gone.dlegate.test")]
    assert result["passed"] is False


def test_check_mode_probes_the_same(module_exits, server):
    args = {"names": ["signal.dlegate.test"], "system_resolver": False, "resolvers": [server.nameserver],
            "record_types": ["A"]}
    before = len(server.queries)
    result = run(dict(args, _ansible_check_mode=True))
    assert result["passed"] is True and result["findings"] == []
    assert result["results"][server.nameserver]["signal.dlegate.test"]["addresses"] == ["198.18.11.10"]
    assert server.queries[before:] == [("signal.dlegate.test.", "A")]


def test_the_system_resolver_is_reported_as_system(module_exits, server, monkeypatch):
    """The host's resolver is stood in for by the test server: make_resolver() with no nameservers."""
    real = dns_core.make_resolver
    monkeypatch.setattr(dns_core, "make_resolver",
                        lambda nameservers, timeout: real(nameservers or [server.nameserver], timeout))
    result = run({"names": ["signal.dlegate.test"], "record_types": ["A"]})
    assert list(result["results"]) == ["system"]
    assert result["results"]["system"]["signal.dlegate.test"]["usable"] == ["198.18.11.10"]


def test_bad_argument_fails_with_its_field(module_exits):
    result = run({"names": ["signal.dlegate.test", "198.18.11.10"]}, Failed)
    assert result["field"] == "names[1]"
    assert "IP address" in result["msg"]


def test_missing_dnspython_is_reported(module_exits, monkeypatch):
    monkeypatch.setattr(dns_probe, "HAS_DNSPYTHON", False)
    result = run({"names": ["signal.dlegate.test"]}, Failed)
    assert "dnspython" in result["msg"]
