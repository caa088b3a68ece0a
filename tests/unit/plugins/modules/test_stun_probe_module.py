# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the dlegate.rtc.stun_probe module: main() against a fake STUN server on 127.0.0.1."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.plugins.modules import stun_probe
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.stun.fake_server import FakeServer


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exited):
    pass


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    def exit_json(module, **result):
        raise Exited(result)

    def fail_json(module, msg, **result):
        raise Failed(dict(result, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run(args, check=False):
    with patch_module_args(dict(args, _ansible_check_mode=check)):
        with pytest.raises(Exited) as outcome:
            stun_probe.main()
    return outcome.value


@pytest.mark.parametrize("check", [False, True])
def test_single_binding_reports_the_mapped_address_unchanged(check):
    with FakeServer() as server:
        outcome = run({"server": "127.0.0.1", "port": server.udp_port, "timeout": 2}, check=check)
    assert not isinstance(outcome, Failed)
    result = outcome.result
    assert result["changed"] is False and result["reachable"] is True
    assert result["mapped_address"] == "127.0.0.1" and result["transmissions"] == 1
    assert set(result["rtt_ms"]) == {"min", "avg", "max", "p95"}
    assert "sent" not in result


def test_count_makes_a_quality_train_over_tcp():
    with FakeServer() as server:
        result = run({"server": "127.0.0.1", "port": server.tcp_port, "transport": "tcp", "count": 10,
                      "interval_ms": 5, "timeout": 3}).result
    assert (result["sent"], result["received"], result["loss_pct"]) == (10, 10, 0.0)
    assert result["jitter_ms"] is not None and result["changed"] is False


def test_a_silent_server_is_a_result_not_a_failure():
    with FakeServer(hostile="silent") as server:
        outcome = run({"server": "127.0.0.1", "port": server.udp_port, "timeout": 0.5})
    assert not isinstance(outcome, Failed)
    assert (outcome.result["reachable"], outcome.result["error"]) == (False, "timeout")


@pytest.mark.parametrize("args, field", [
    ({"port": 0}, "port"),
    ({"timeout": -1}, "timeout"),
    ({"count": 300, "interval_ms": 20, "timeout": 5}, "timeout"),
    ({"count": 5, "wait_ms": 999999}, "wait_ms"),
    ({"server": "two words"}, "server"),
    ({"transport": "tls", "ca_path": "/nonexistent/bundle.pem"}, "ca_path"),
])
def test_bad_arguments_fail_naming_the_field(args, field):
    outcome = run(dict({"server": "127.0.0.1"}, **args))
    assert isinstance(outcome, Failed)
    assert outcome.result["field"] == field and field in outcome.result["msg"]


def test_argument_spec_matches_the_documentation():
    import yaml
    options = yaml.safe_load(stun_probe.DOCUMENTATION)["options"]
    assert set(options) == set(stun_probe.ARGUMENT_SPEC)
    for name, spec in stun_probe.ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("default") == spec.get("default"), name
        assert options[name].get("choices") == spec.get("choices"), name
