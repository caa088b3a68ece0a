# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dlegate.rtc.readiness module through main(): the service on 127.0.0.1, in check mode too, its
verdicts, credentials kept out of the result, and bad arguments named by their field."""

from __future__ import annotations

import json

import pytest

from ansible_collections.dlegate.rtc.plugins.modules import readiness
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.readiness.local_service import (
    PASSWORD,
    LocalService,
)
from ansible_collections.dlegate.rtc.tests.unit.plugins.modules.harness import Host


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with LocalService(tmp_path_factory.mktemp("service")) as local:
        yield local


@pytest.fixture
def host(tmp_path, monkeypatch):
    return Host(tmp_path, monkeypatch)


@pytest.mark.parametrize("check", [False, True])
def test_the_open_service_passes_and_nothing_changes_in_check_mode_either(host, service, check):
    failed, result = host.run(readiness.main, service.params(), check=check)
    assert not failed, result.get("msg")
    assert (result["changed"], result["verdict"], result["findings"]) == (False, "PASS", [])
    assert sorted(result["checks"]) == sorted(service.params()["checks"])
    assert result["duration_ms"] > 0
    assert PASSWORD not in json.dumps(result)


def test_udp_blocked_degrades_to_the_tls_fallback(host, service):
    failed, result = host.run(readiness.main, service.params(udp_blocked=True, checks=[
        "dns", "signaling", "stun", "turn_udp", "turn_tls", "ephemeral", "quality"]))
    assert not failed
    assert result["verdict"] == "DEGRADED"
    assert [finding["id"] for finding in result["findings"]] == ["udp_blocked", "tls_fallback_only"]


def test_a_wrong_password_is_fail_and_never_returned(host, service):
    failed, result = host.run(readiness.main, service.params(turn={"password": "Wrong-Password-123"}), check=True)
    assert not failed and result["changed"] is False
    assert result["verdict"] == "FAIL"
    assert [finding["id"] for finding in result["findings"]] == ["turn_auth_failed"]
    assert "Wrong-Password-123" not in json.dumps(result)


def test_rest_secret_credentials(host, service):
    failed, result = host.run(readiness.main, service.params(checks=["turn_udp"], turn={
        "password": None, "secret": "rest-secret-value", "username": "probe"}))
    # the fake server knows alice's long-term password only: the REST user is refused, and the secret never shows
    assert not failed and result["verdict"] == "FAIL"
    assert [finding["id"] for finding in result["findings"]] == ["turn_auth_failed"]
    assert "rest-secret-value" not in json.dumps(result)


@pytest.mark.parametrize("change, field", [
    ({"turn": {"password": None}}, "turn.password"),
    ({"ephemeral": {"sample_range": "1-2"}}, "ephemeral.sample_range"),
    ({"thresholds": {"loss_pct": 0}}, "thresholds.loss_pct"),
    ({"signaling": {"host": None}}, "signaling.host"),
])
def test_bad_arguments_fail_naming_the_field(host, service, change, field):
    failed, result = host.run(readiness.main, service.params(**change))
    assert failed and result["field"] == field and field in result["msg"]


def test_an_unknown_check_is_refused_by_the_argument_spec(host, service):
    failed, result = host.run(readiness.main, service.params(checks=["dns", "traceroute"]))
    assert failed and "traceroute" in result["msg"]
