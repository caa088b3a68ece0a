# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the dlegate.rtc.turn_probe module: main() against a fake TURN server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.plugins.modules import turn_probe
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.stun.fake_server import FakeServer

PASSWORD = "pw-5c8e1b"


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
            turn_probe.main()
    return outcome.value


@pytest.mark.parametrize("check", [False, True])
def test_allocate_relay_and_free_in_check_mode_too(check):
    with FakeServer(users={"alice": PASSWORD}) as server:
        outcome = run({"server": "127.0.0.1", "port": server.udp_port, "username": "alice", "password": PASSWORD,
                       "relay_count": 10, "relay_interval_ms": 5, "relay_mode": "channel", "timeout": 3},
                      check=check)
    assert not isinstance(outcome, Failed), outcome.result
    result = outcome.result
    assert result["changed"] is False and result["allocated"] and result["freed"]
    assert (result["relay"]["sent"], result["relay"]["received"]) == (10, 10)
    assert PASSWORD not in json.dumps(result)


def test_rest_secret_derives_the_credentials():
    secret = "rest-secret-1234"
    seen = {}

    class RestServer(FakeServer):
        """Accepts any expiry:probe user whose password is coturn's HMAC of it."""

        def _authenticate(self, message):
            from ansible_collections.dlegate.rtc.plugins.module_utils.stun import codec
            username = message.get(codec.USERNAME)
            if username is not None:
                name = username.decode()
                seen["username"] = name
                self.users = {name: codec.rest_credentials(secret, "probe", int(name.split(":")[0]))[1]}
            return FakeServer._authenticate(self, message)

    with RestServer() as server:
        result = run({"server": "127.0.0.1", "port": server.tcp_port, "transport": "tcp", "secret": secret,
                      "username": "probe", "rest_ttl": 600, "timeout": 3}).result
    assert result["allocated"] and result["freed"]
    assert seen["username"].endswith(":probe")
    assert secret not in json.dumps(result)


def test_wrong_credentials_are_a_result_with_the_error_code():
    with FakeServer(users={"alice": PASSWORD}, reject_code=441) as server:
        outcome = run({"server": "127.0.0.1", "port": server.udp_port, "username": "alice",
                       "password": "not-it", "timeout": 3})
    assert not isinstance(outcome, Failed)
    assert (outcome.result["allocated"], outcome.result["error_code"]) == (False, 441)
    assert "not-it" not in json.dumps(outcome.result)


@pytest.mark.parametrize("args, field", [
    ({"username": "alice", "password": PASSWORD, "port": 99999}, "port"),
    ({"username": "alice", "password": PASSWORD, "relay_count": 600, "timeout": 10}, "timeout"),
    ({"secret": "s", "rest_ttl": 5}, "rest_ttl"),
    ({"username": "", "password": PASSWORD}, "username"),
])
def test_bad_arguments_fail_naming_the_field(args, field):
    outcome = run(dict({"server": "127.0.0.1"}, **args))
    assert isinstance(outcome, Failed)
    assert outcome.result["field"] == field
    assert PASSWORD not in outcome.result["msg"]


@pytest.mark.parametrize("args", [
    {"username": "alice"},
    {"username": "alice", "password": PASSWORD, "secret": "s"},
    {"password": PASSWORD},
])
def test_credentials_are_required_once(args):
    outcome = run(dict({"server": "127.0.0.1"}, **args))
    assert isinstance(outcome, Failed)


def test_argument_spec_matches_the_documentation_and_hides_secrets():
    import yaml
    options = yaml.safe_load(turn_probe.DOCUMENTATION)["options"]
    assert set(options) == set(turn_probe.ARGUMENT_SPEC)
    for name, spec in turn_probe.ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("default") == spec.get("default"), name
    assert turn_probe.ARGUMENT_SPEC["password"]["no_log"] and turn_probe.ARGUMENT_SPEC["secret"]["no_log"]
